/** The public configuration of `SspiInstrumentation`. */
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { AgentConfig } from './config.js';

export interface SspiInstrumentationConfig extends InstrumentationConfig {
  /**
   * A span for each SSPI call that works on a handle's life (Acquire, Initialize/Accept,
   * CompleteAuthToken, Import, Delete, Free), a child of the active span.
   * @default the agent's setting, SSPI_AGENT_CALL_SPANS (on)
   */
  callSpans?: boolean;
  /**
   * A span for each leak (`sspi.leak`) and each double release, use after release or out-of-order
   * release (`sspi.misuse`), linked to the span active where the handle was made.
   * @default the agent's setting, SSPI_AGENT_LEAK_SPANS (on)
   */
  leakSpans?: boolean;
  /**
   * Settings for the agent the instrumentation starts when the app was not started with
   * `node --import sspi-agent` (over the SSPI_AGENT_* variables; e.g. `{ metricsPort: 0 }` to serve
   * no Prometheus endpoint). Ignored when the preload already started the agent.
   * @default the SSPI_AGENT_* variables
   */
  agent?: Partial<AgentConfig>;
}
