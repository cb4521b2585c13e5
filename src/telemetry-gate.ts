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
import { REGISTRY_EVENT_NAMES, type RegistryEvent, type RegistryListener } from './core/registry-events.js';
import { onDemand } from './on-demand.js';
import { nothingRegistered } from './otel/registered.js';
import { CALL_SPAN_FUNCTIONS } from './otel/semconv.js';
import { sdkWanted } from './otel/sdk-wanted.js';
import type { Flusher } from './process-end.js';
import type * as TelemetryModule from './telemetry.js';
import type { Telemetry, TelemetryOptions, TelemetrySources } from './telemetry.js';

const telemetry = onDemand<typeof TelemetryModule>('./telemetry.js');

type Handler = (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => void;

export class TelemetryGate implements Flusher {
  private loaded: Telemetry | undefined;
  private stopWaiting: (() => void) | undefined;

  constructor(
    private readonly registry: HandleRegistry,
    private readonly options: TelemetryOptions,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    if (options.mode === 'off') return;
    if (sdkWanted(options.mode, env) || !nothingRegistered()) this.load();
    else this.stopWaiting = registry.subscribe(this.waiting());
  }

  /** As `Telemetry.attach`: an instrumentation's providers, loading the OpenTelemetry side first. */
  attach(sources: TelemetrySources): () => void {
    return this.load().attach(sources);
  }

  wantsFlush(): boolean {
    if (!this.loaded && (this.options.mode === 'off' || nothingRegistered())) return false;
    return this.load().wantsFlush();
  }

  async flush(): Promise<void> {
    await this.loaded?.flush();
  }

  async stop(): Promise<void> {
    this.stopWaiting?.();
    this.stopWaiting = undefined;
    await this.loaded?.stop();
  }

  private load(): Telemetry {
    if (this.loaded) return this.loaded;
    // What waits in the registry is heard first: by the waiting listener, which loads the side and
    // hands it each event (a re-entrant settle, from inside an event, applies nothing).
    this.registry.settled();
    if (this.loaded) return this.loaded;
    this.loaded = new (telemetry().Telemetry)(this.registry, this.options);
    this.stopWaiting?.();
    this.stopWaiting = undefined;
    return this.loaded;
  }

  /**
   * Listens to every event and declares the capture the loaded side would (its functions' details),
   * and hands both to the loaded side once something is registered.
   */
  private waiting(): RegistryListener {
    const listener: Record<string, unknown> = {
      captures: {
        context: () => (nothingRegistered() ? undefined : this.load().listener?.captures?.context()),
        details: CALL_SPAN_FUNCTIONS[this.options.callSpans],
      },
    };
    for (const event of REGISTRY_EVENT_NAMES) listener[event] = this.forward(event);
    return listener as RegistryListener;
  }

  /** While this event is dispatched the loaded side's own listener is not among the registry's yet: it is handed the event here. */
  private forward(event: RegistryEvent): Handler {
    return (a, b, c, d, e) => {
      if (nothingRegistered()) return;
      const handler = this.load().listener?.[event] as Handler | undefined;
      handler?.(a, b, c, d, e);
    };
  }
}
