/** The public configuration of `SspiInstrumentation`. */
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { AgentConfig } from './config.js';
import type { CallSpans } from './otel/semconv.js';

export interface SspiInstrumentationConfig extends InstrumentationConfig {
  /**
   * Spans for SSPI calls, each a child of the span active at the call: `'work'` (or `true`) for the
   * calls that do work or may wait on a KDC (Acquire, Initialize/Accept, CompleteAuthToken,
   * Import/Export), `'all'` for those and every Delete and Free, `'off'` (or `false`) for none.
   * @default the agent's setting, SSPI_AGENT_CALL_SPANS (`work`)
   */
  callSpans?: CallSpans | boolean;
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
