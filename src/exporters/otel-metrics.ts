/**
 * The Prometheus set (`exporters/prometheus.ts`) as OpenTelemetry metrics, in OpenTelemetry's naming
 * style: counters follow the registry's events; live, stale and oldest-age values are observed from
 * the registry's state at collection time, like the Prometheus gauges, so both always agree.
 *
 * Instruments are made from the SDK's meter the first time an event finds one registered (and again
 * if the provider changes); with none registered an event costs one lookup and builds nothing.
 * Counting starts when the meter provider is registered: register the SDK before the first SSPI call.
 */
import { performance } from 'node:perf_hooks';
import type { Attributes, Counter, Histogram, Meter, Observable, ObservableCallback } from '@opentelemetry/api';
import { agentErrorCounts } from '../diagnostics.js';
import { HANDLE_KINDS, type HandleRegistry } from '../registry.js';
import type { NegotiatedLabel } from '../sspi/negotiation-tokens.js';
import { statusName } from '../sspi/status.js';
import { STALE_REASONS, type ForcedRelease, type InvalidRelease, type LeakReason, type RegistryListener, type TrackedHandle } from '../types.js';
import { CALL_DURATION_BUCKETS, HELP, LIFETIME_BUCKETS } from './metric-names.js';
import {
  ATTR_SSPI_AGENT_ERROR_WHERE,
  ATTR_SSPI_FUNCTION,
  ATTR_SSPI_HANDLE_DIRECTION,
  ATTR_SSPI_HANDLE_KIND,
  ATTR_SSPI_LEAK_REASON,
  ATTR_SSPI_MISUSE_REASON,
  ATTR_SSPI_NEGOTIATED_PACKAGE,
  ATTR_SSPI_PACKAGE,
  ATTR_SSPI_RELEASE_RESULT,
  ATTR_SSPI_STATUS,
  METRIC_AGENT_ERRORS,
  METRIC_CALL_DURATION,
  METRIC_HANDLE_CLOSED,
  METRIC_HANDLE_COUNT,
  METRIC_HANDLE_LEAKED,
  METRIC_HANDLE_LIFETIME,
  METRIC_HANDLE_OLDEST_AGE,
  METRIC_HANDLE_OPENED,
  METRIC_HANDLE_STALE_COUNT,
  METRIC_NEGOTIATIONS,
  METRIC_PROVIDER_UNLOADS,
  METRIC_RELEASE_FORCED,
  METRIC_RELEASE_INVALID,
  METRIC_RELEASE_OUT_OF_ORDER,
  UNIT_CALLS,
  UNIT_ERRORS,
  UNIT_HANDLES,
  UNIT_NEGOTIATIONS,
  UNIT_RELEASES,
  UNIT_SECONDS,
  UNIT_UNLOADS,
} from '../otel/semconv.js';

/** Status values one function may have, as in the Prometheus exporter; past this, `other`. */
const MAX_STATUSES_PER_FUNCTION = 32;
const OTHER_STATUS = Number.NaN;

interface Instruments {
  readonly opened: Counter;
  readonly closed: Counter;
  readonly leaked: Counter;
  readonly lifetime: Histogram;
  readonly callDuration: Histogram;
  readonly invalidReleases: Counter;
  readonly outOfOrder: Counter;
  readonly forced: Counter;
  readonly unloads: Counter;
  readonly negotiations: Counter;
  /** The observable instruments and their callbacks, removed when the meter changes or the exporter stops. */
  readonly observed: Array<[Observable, ObservableCallback]>;
}

export class OtelMetricsExporter implements RegistryListener {
  private meter: Meter | undefined;
  private instruments: Instruments | undefined;
  /** Attribute objects, made once per label set: recording does not allocate. */
  private readonly byKindPackage = new Map<string, Attributes>();
  private readonly byCall = new Map<string, Map<number, Attributes>>();
  private readonly other = new Map<string, Attributes>();

  constructor(
    private readonly registry: HandleRegistry,
    private readonly meters: () => Meter | undefined,
  ) {}

  onOpen(handle: TrackedHandle): void {
    this.current()?.opened.add(1, this.kindPackage(handle));
  }

  onClose(handle: TrackedHandle, lifetimeSeconds: number): void {
    const instruments = this.current();
    if (!instruments) return;
    const attributes = this.kindPackage(handle);
    instruments.closed.add(1, attributes);
    instruments.lifetime.record(lifetimeSeconds, attributes);
  }

  onLeak(handle: TrackedHandle, reason: LeakReason): void {
    this.current()?.leaked.add(1, this.attributes(`leak\0${handle.kind}\0${handle.package}\0${reason}`, () => ({
      [ATTR_SSPI_HANDLE_KIND]: handle.kind,
      [ATTR_SSPI_PACKAGE]: handle.package,
      [ATTR_SSPI_LEAK_REASON]: reason,
    })));
  }

  onInvalidRelease(event: InvalidRelease): void {
    this.current()?.invalidReleases.add(1, this.attributes(`invalid\0${event.kind}\0${event.reason}`, () => ({
      [ATTR_SSPI_HANDLE_KIND]: event.kind,
      [ATTR_SSPI_MISUSE_REASON]: event.reason,
    })));
  }

  onOutOfOrderRelease(credential: TrackedHandle): void {
    this.current()?.outOfOrder.add(1, this.attributes(`order\0${credential.kind}`, () => ({ [ATTR_SSPI_HANDLE_KIND]: credential.kind })));
  }

  onForcedRelease(event: ForcedRelease): void {
    const { kind } = event.handle;
    this.current()?.forced.add(1, this.attributes(`forced\0${kind}\0${event.result}`, () => ({
      [ATTR_SSPI_HANDLE_KIND]: kind,
      [ATTR_SSPI_RELEASE_RESULT]: event.result,
    })));
  }

  onUnloadWithLiveHandles(): void {
    this.current()?.unloads.add(1);
  }

  onNegotiated(context: TrackedHandle, negotiated: NegotiatedLabel): void {
    this.current()?.negotiations.add(1, this.attributes(`negotiated\0${context.package}\0${negotiated}`, () => ({
      [ATTR_SSPI_PACKAGE]: context.package,
      [ATTR_SSPI_NEGOTIATED_PACKAGE]: negotiated,
    })));
  }

  onCall(fn: string, status: number, durationSeconds: number): void {
    this.current()?.callDuration.record(durationSeconds, this.callAttributes(fn, status));
  }

  /**
   * Until its instruments exist for the meter registered now, a collection (an app's forceFlush or
   * shutdown in the same turn as its calls) would find nothing that settles the registry: the
   * observable callbacks, which read it first, are made with them on the first event heard.
   */
  wantsCallsNow(): boolean {
    return this.meters() !== this.meter;
  }

  /** Removes the observable instruments' callbacks from the meter. */
  stop(): void {
    this.removeObservers();
    this.meter = this.instruments = undefined;
  }

  /** The instruments of the meter registered now, made when it first appears. */
  private current(): Instruments | undefined {
    const meter = this.meters();
    if (meter !== this.meter) {
      this.removeObservers();
      this.meter = meter;
      this.instruments = meter ? this.create(meter) : undefined;
    }
    return this.instruments;
  }

  private create(meter: Meter): Instruments {
    const handles = this.registry;
    const observed: Array<[Observable, ObservableCallback]> = [];
    const observe = (instrument: Observable, callback: ObservableCallback) => {
      instrument.addCallback(callback);
      observed.push([instrument, callback]);
    };
    observe(
      meter.createObservableUpDownCounter(METRIC_HANDLE_COUNT, {
        description: HELP.handlesLive,
        unit: UNIT_HANDLES,
      }),
      (result) => {
        for (const g of handles.liveGroups()) {
          result.observe(g.count, { [ATTR_SSPI_HANDLE_KIND]: g.kind, [ATTR_SSPI_PACKAGE]: g.package, [ATTR_SSPI_HANDLE_DIRECTION]: g.direction });
        }
      },
    );
    observe(
      meter.createObservableGauge(METRIC_HANDLE_OLDEST_AGE, {
        description: HELP.oldestAge,
        unit: UNIT_SECONDS,
      }),
      (result) => {
        const now = performance.now();
        for (const kind of HANDLE_KINDS) {
          const oldest = handles.oldest(kind);
          result.observe(oldest ? (now - oldest.createdAt) / 1000 : 0, { [ATTR_SSPI_HANDLE_KIND]: kind });
        }
      },
    );
    observe(
      meter.createObservableUpDownCounter(METRIC_HANDLE_STALE_COUNT, {
        description: HELP.handlesStale,
        unit: UNIT_HANDLES,
      }),
      (result) => {
        for (const kind of HANDLE_KINDS) {
          for (const reason of STALE_REASONS) result.observe(handles.staleCount(kind, reason), { [ATTR_SSPI_HANDLE_KIND]: kind, [ATTR_SSPI_LEAK_REASON]: reason });
        }
      },
    );
    observe(
      meter.createObservableCounter(METRIC_AGENT_ERRORS, {
        description: HELP.agentErrors,
        unit: UNIT_ERRORS,
      }),
      (result) => {
        for (const [where, count] of agentErrorCounts()) result.observe(count, { [ATTR_SSPI_AGENT_ERROR_WHERE]: where });
      },
    );
    return {
      opened: meter.createCounter(METRIC_HANDLE_OPENED, {
        description: HELP.handlesOpened,
        unit: UNIT_HANDLES,
      }),
      closed: meter.createCounter(METRIC_HANDLE_CLOSED, {
        description: HELP.handlesClosed,
        unit: UNIT_HANDLES,
      }),
      leaked: meter.createCounter(METRIC_HANDLE_LEAKED, {
        description: HELP.handlesLeaked,
        unit: UNIT_HANDLES,
      }),
      lifetime: meter.createHistogram(METRIC_HANDLE_LIFETIME, {
        description: HELP.lifetime,
        unit: UNIT_SECONDS,
        advice: { explicitBucketBoundaries: LIFETIME_BUCKETS },
      }),
      callDuration: meter.createHistogram(METRIC_CALL_DURATION, {
        description: 'Duration of SSPI calls, by function and returned SECURITY_STATUS.',
        unit: UNIT_SECONDS,
        advice: { explicitBucketBoundaries: CALL_DURATION_BUCKETS },
      }),
      invalidReleases: meter.createCounter(METRIC_RELEASE_INVALID, {
        description: HELP.invalidReleases,
        unit: UNIT_CALLS,
      }),
      outOfOrder: meter.createCounter(METRIC_RELEASE_OUT_OF_ORDER, {
        description: HELP.outOfOrderReleases,
        unit: UNIT_RELEASES,
      }),
      forced: meter.createCounter(METRIC_RELEASE_FORCED, {
        description: HELP.forcedReleases,
        unit: UNIT_RELEASES,
      }),
      unloads: meter.createCounter(METRIC_PROVIDER_UNLOADS, {
        description: HELP.unloadWithLiveHandles,
        unit: UNIT_UNLOADS,
      }),
      negotiations: meter.createCounter(METRIC_NEGOTIATIONS, {
        description: HELP.negotiations,
        unit: UNIT_NEGOTIATIONS,
      }),
      observed,
    };
  }

  private removeObservers(): void {
    for (const [instrument, callback] of this.instruments?.observed.splice(0) ?? []) instrument.removeCallback(callback);
  }

  private kindPackage(handle: TrackedHandle): Attributes {
    const key = `${handle.kind}\0${handle.package}`;
    let attributes = this.byKindPackage.get(key);
    if (!attributes) {
      attributes = { [ATTR_SSPI_HANDLE_KIND]: handle.kind, [ATTR_SSPI_PACKAGE]: handle.package };
      this.byKindPackage.set(key, attributes);
    }
    return attributes;
  }

  private callAttributes(fn: string, status: number): Attributes {
    let byStatus = this.byCall.get(fn);
    if (!byStatus) {
      byStatus = new Map();
      this.byCall.set(fn, byStatus);
    }
    let attributes = byStatus.get(status);
    if (!attributes) {
      const full = byStatus.size >= MAX_STATUSES_PER_FUNCTION;
      const key = full ? OTHER_STATUS : status;
      attributes = byStatus.get(key) ?? { [ATTR_SSPI_FUNCTION]: fn, [ATTR_SSPI_STATUS]: full ? 'other' : statusName(status) };
      byStatus.set(key, attributes);
    }
    return attributes;
  }

  /** For rare events: a string key is fine there. */
  private attributes(key: string, make: () => Attributes): Attributes {
    let attributes = this.other.get(key);
    if (!attributes) {
      attributes = make();
      this.other.set(key, attributes);
    }
    return attributes;
  }
}
