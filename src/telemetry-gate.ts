/**
 * The OpenTelemetry side as the agent starts it: not loaded (telemetry.ts, the exporters, the API),
 * only a registry listener that waits for something to register with the OpenTelemetry API. The first
 * event or call that finds something registered loads it, hands it that event, and steps aside; so
 * does an `SspiInstrumentation` attaching, and the process end when an SDK is there to flush. It is
 * loaded at once when the agent is asked to start an SDK of its own, or one is registered already.
 *
 * Until then an event costs one property read, as the loaded side's own gate does (telemetry.ts).
 */
import type { HandleRegistry } from './core/registry.js';
import { LoadedOnEvent } from './loaded-on-event.js';
import { onDemand } from './on-demand.js';
import { nothingRegistered } from './otel/registered.js';
import { CALL_SPAN_FUNCTIONS } from './otel/call-span-set.js';
import { sdkWanted } from './otel/sdk-wanted.js';
import type { Flusher } from './process-end.js';
import type * as TelemetryModule from './telemetry.js';
import type { Telemetry, TelemetryOptions, TelemetrySources } from './telemetry.js';

const telemetry = onDemand<typeof TelemetryModule>('./telemetry.js');

export class TelemetryGate implements Flusher {
  private readonly side: LoadedOnEvent<Telemetry>;

  constructor(
    registry: HandleRegistry,
    private readonly options: TelemetryOptions,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const wanted = options.mode !== 'off' && (sdkWanted(options.mode, env) || !nothingRegistered());
    this.side = new LoadedOnEvent(
      registry,
      {
        make: () => new (telemetry().Telemetry)(registry, options),
        listenerOf: (t) => t.listener,
        // Something registered with the API: only then is the side wanted.
        open: () => !nothingRegistered(),
        // The capture the loaded side would declare (its functions' details), handed to it once loaded.
        captures: {
          context: () => (nothingRegistered() ? undefined : this.side.load().listener?.captures?.context()),
          details: CALL_SPAN_FUNCTIONS[options.callSpans],
        },
      },
      options.mode !== 'off' && !wanted,
    );
    if (wanted) this.side.load();
  }

  /** As `Telemetry.attach`: an instrumentation's providers, loading the OpenTelemetry side first. */
  attach(sources: TelemetrySources): () => void {
    return this.side.load().attach(sources);
  }

  wantsFlush(): boolean {
    if (!this.side.loaded && (this.options.mode === 'off' || nothingRegistered())) return false;
    return this.side.load().wantsFlush();
  }

  async flush(): Promise<void> {
    await this.side.loaded?.flush();
  }

  async stop(): Promise<void> {
    this.side.stopWaitingNow();
    await this.side.loaded?.stop();
  }
}
