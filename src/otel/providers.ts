/**
 * Where the agent's OpenTelemetry signals go: the tracer and meter of the SDK the app (or the agent's
 * bootstrap) registered. Asked on every event, so the answer is cheap — a global lookup and an
 * identity check — and, with no SDK registered, `undefined`: the exporters then build nothing at all
 * (no span, no attribute object). A provider registered later is picked up on the next event.
 */
import { createRequire } from 'node:module';
import type { Meter, MeterProvider, Tracer, TracerProvider } from '@opentelemetry/api';
import { tryOtelApi, warnIfRegisteredByOlderApi } from './api.js';
import { nothingRegistered } from './registered.js';
import { INSTRUMENTATION_SCOPE } from './semconv.js';

/** The package version, as the instrumentation scope's version. */
export const AGENT_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Why the agent loads the API while reading the globals: something registered with some copy of it. */
const IN_USE = 'the app registered OpenTelemetry components';

/** The API's stand-ins when no SDK is registered (also those of another copy of the API). */
function isNoop(provider: object): boolean {
  const name = provider.constructor?.name;
  return name === 'NoopTracerProvider' || name === 'NoopMeterProvider';
}

/** A ProxyTracerProvider (the API's global) forwards to the SDK's provider once one is registered. */
function delegateOf<P extends object>(provider: P): P {
  const getDelegate = (provider as { getDelegate?: () => P }).getDelegate;
  return typeof getDelegate === 'function' ? getDelegate.call(provider) : provider;
}

/** Things that can be flushed: SDK tracer and meter providers. */
export interface Flushable {
  forceFlush?(): Promise<void>;
}

/**
 * Where one signal's instrument (a tracer, a meter) comes from: the provider `providerOf` returns
 * now — the API's global (the default), or the one an SDK gave an instrumentation — and the
 * instrument made from it, made again only when the provider changes.
 */
class SignalSource<P extends object, T> {
  private provider: P | undefined;
  private instrument: T | undefined;
  /** Whether it reads the API's global provider (so nothing registered means no SDK). */
  readonly global: boolean;

  constructor(
    /** The API's global provider; undefined when the API cannot be loaded. */
    private readonly globalProvider: () => P | undefined,
    private readonly make: (provider: P) => T,
    private readonly providerOf?: () => P,
  ) {
    this.global = providerOf === undefined;
  }

  /** The SDK's instrument, or undefined when no SDK is registered. */
  current(): T | undefined {
    if (this.global && nothingRegistered()) return undefined;
    const registered = this.providerOf ? this.providerOf() : this.globalProvider();
    const provider = registered && delegateOf(registered);
    if (provider !== this.provider) {
      this.provider = provider;
      this.instrument = provider === undefined || isNoop(provider) ? undefined : this.make(provider);
      // Something is registered, yet the global provider is the API's stand-in: maybe through another copy.
      if (this.global && provider !== undefined && this.instrument === undefined) warnIfRegisteredByOlderApi();
    }
    return this.instrument;
  }

  /** The SDK's provider behind the instrument, if any (to flush it). */
  sdkProvider(): (P & Flushable) | undefined {
    return this.current() ? this.provider : undefined;
  }
}

export class TracerSource extends SignalSource<TracerProvider, Tracer> {
  constructor(providerOf?: () => TracerProvider) {
    super(() => tryOtelApi(IN_USE)?.trace.getTracerProvider(), (p) => p.getTracer(INSTRUMENTATION_SCOPE, AGENT_VERSION), providerOf);
  }
}

export class MeterSource extends SignalSource<MeterProvider, Meter> {
  constructor(providerOf?: () => MeterProvider) {
    super(() => tryOtelApi(IN_USE)?.metrics.getMeterProvider(), (p) => p.getMeter(INSTRUMENTATION_SCOPE, AGENT_VERSION), providerOf);
  }
}

/** Whether an SDK registered a global tracer or meter provider (the app's own, when the agent did not start one). */
export function globalSdkRegistered(): boolean {
  const api = nothingRegistered() ? undefined : tryOtelApi(IN_USE);
  if (!api) return false;
  const { trace, metrics } = api;
  return !isNoop(delegateOf(trace.getTracerProvider())) || !isNoop(metrics.getMeterProvider());
}
