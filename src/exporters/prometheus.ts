/**
 * The agent's Prometheus metrics, in a prom-client `Registry` of their own (so an app's registry is
 * never touched; apps merge it with `Registry.merge`). Counters follow the handle registry's events;
 * gauges are computed from its state at scrape time, so their cost grows with series, not handles.
 */
import { performance } from 'node:perf_hooks';
import client from 'prom-client';
import { agentErrorCounts } from '../diagnostics.js';
import { HANDLE_KINDS, type HandleRegistry } from '../registry.js';
import { statusName } from '../sspi/status.js';
import type { HandleKind, InvalidReleaseReason, LeakReason, RegistryListener, TrackedHandle } from '../types.js';
import { CALL_DURATION_BUCKETS, LIFETIME_BUCKETS, METRICS } from './metric-names.js';

export class PrometheusExporter implements RegistryListener {
  readonly registry = new client.Registry();
  private readonly opened: client.Counter<'kind' | 'package'>;
  private readonly closed: client.Counter<'kind' | 'package'>;
  private readonly leaked: client.Counter<'kind' | 'package' | 'reason'>;
  private readonly lifetime: client.Histogram<'kind' | 'package'>;
  private readonly calls: client.Counter<'function' | 'status'>;
  private readonly callDuration: client.Histogram<'function'>;
  private readonly invalidReleases: client.Counter<'kind' | 'reason'>;
  private readonly unsubscribe: () => void;

  constructor(handles: HandleRegistry) {
    const registers = [this.registry];
    new client.Gauge({
      name: METRICS.handlesLive,
      help: 'SSPI handles currently live (acquired or created, not yet freed or deleted).',
      labelNames: ['kind', 'package', 'direction'] as const,
      registers,
      collect() {
        this.reset();
        for (const g of handles.liveGroups()) this.set({ kind: g.kind, package: g.package, direction: g.direction }, g.count);
      },
    });
    new client.Gauge({
      name: METRICS.oldestAge,
      help: 'Age of the oldest live SSPI handle of each kind (0 when none is live).',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        const now = performance.now();
        for (const kind of HANDLE_KINDS) {
          const oldest = handles.oldest(kind);
          this.set({ kind }, oldest ? (now - oldest.createdAt) / 1000 : 0);
        }
      },
    });
    this.opened = new client.Counter({
      name: METRICS.handlesOpened,
      help: 'SSPI handles created: credentials acquired, contexts created or imported.',
      labelNames: ['kind', 'package'] as const,
      registers,
    });
    this.closed = new client.Counter({
      name: METRICS.handlesClosed,
      help: 'SSPI handles released: credentials freed, contexts deleted.',
      labelNames: ['kind', 'package'] as const,
      registers,
    });
    this.leaked = new client.Counter({
      name: METRICS.handlesLeaked,
      help: 'SSPI handles found leaked, by how the agent knows (exit: still live when the process ended).',
      labelNames: ['kind', 'package', 'reason'] as const,
      registers,
    });
    this.lifetime = new client.Histogram({
      name: METRICS.lifetime,
      help: 'Time from a handle’s creation to its release.',
      labelNames: ['kind', 'package'] as const,
      buckets: LIFETIME_BUCKETS,
      registers,
    });
    this.calls = new client.Counter({
      name: METRICS.calls,
      help: 'SSPI calls by function and returned SECURITY_STATUS (by name; unknown codes as 0x-hex).',
      labelNames: ['function', 'status'] as const,
      registers,
    });
    this.callDuration = new client.Histogram({
      name: METRICS.callDuration,
      help: 'Duration of SSPI calls.',
      labelNames: ['function'] as const,
      buckets: CALL_DURATION_BUCKETS,
      registers,
    });
    this.invalidReleases = new client.Counter({
      name: METRICS.invalidReleases,
      help: 'Free/Delete calls that did not end a tracked handle (unknown: never seen; failed: error status).',
      labelNames: ['kind', 'reason'] as const,
      registers,
    });
    new client.Counter({
      name: METRICS.agentErrors,
      help: 'Internal errors of the agent, by where they happened (the app’s calls were not affected).',
      labelNames: ['where'] as const,
      registers,
      collect() {
        this.reset();
        for (const [where, count] of agentErrorCounts()) this.inc({ where }, count);
      },
    });
    this.unsubscribe = handles.subscribe(this);
  }

  onOpen(handle: TrackedHandle): void {
    this.opened.inc({ kind: handle.kind, package: handle.package });
  }

  onClose(handle: TrackedHandle, lifetimeSeconds: number): void {
    this.closed.inc({ kind: handle.kind, package: handle.package });
    this.lifetime.observe({ kind: handle.kind, package: handle.package }, lifetimeSeconds);
  }

  onInvalidRelease(kind: HandleKind, reason: InvalidReleaseReason): void {
    this.invalidReleases.inc({ kind, reason });
  }

  onLeak(handle: TrackedHandle, reason: LeakReason): void {
    this.leaked.inc({ kind: handle.kind, package: handle.package, reason });
  }

  onCall(fn: string, status: number, durationSeconds: number): void {
    this.calls.inc({ function: fn, status: statusName(status) });
    this.callDuration.observe({ function: fn }, durationSeconds);
  }

  /** The exposition text, as `/metrics` serves it. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  stop(): void {
    this.unsubscribe();
  }
}
