/**
 * Warnings on stderr as leaks and misuses happen: once per allocation (or call) site and kind of
 * finding, so a leaking loop gives one line, not thousands. The set of sites said is bounded.
 */
import { warn } from '../diagnostics.js';
import { OVER_BUDGET, siteLocation } from '../core/stacks.js';
import type { AllocationSite, InvalidRelease, LeakReason, TrackedHandle } from '../types.js';
import type { RegistryListener } from '../core/registry-events.js';

/** Distinct sites remembered; past this, findings are counted in metrics but no longer logged. */
const MAX_SITES = 1000;

function stackLines(site: AllocationSite | undefined, indent = '    '): string {
  const frames = site?.frames() ?? [];
  if (frames.length) return frames.map((f) => `\n${indent}${f}`).join('');
  const why = site === OVER_BUDGET ? 'stack capture was over its CPU budget (SSPI_AGENT_STACK_BUDGET); ' : '';
  return `\n${indent}(no stack: ${why}SSPI_AGENT_STACKS=all shows one)`;
}

function label(h: TrackedHandle): string {
  return `${h.kind} #${h.id} [${h.package}, ${h.direction}] from ${h.createdBy}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export class LeakLog implements RegistryListener {
  private readonly said = new Set<string>();

  /** Logs once per (topic, site); false when already said or the memory of sites is full. */
  private once(topic: string, site: AllocationSite | undefined, message: () => string): void {
    // Full: nothing more is said, so no stack is formatted to find out (that is the costly part).
    if (this.said.size >= MAX_SITES) return;
    const key = `${topic}\n${siteLocation(site)}`;
    if (this.said.has(key)) return;
    this.said.add(key);
    warn(message());
  }

  onLeak(handle: TrackedHandle, reason: LeakReason): void {
    if (reason === 'exit') return; // the exit report says it all
    const history = () => (handle.history ? `\n    history: ${handle.history.map((c) => `${c.fn} +${Math.round(c.atMs)}ms`).join(', ')}` : '');
    const what = {
      collected: 'was garbage-collected while still live: nobody can release it any more (definite leak)',
      age: `is older than its maximum age (SSPI_AGENT_MAX_AGE_${handle.kind.toUpperCase()}): stale, probably leaked`,
      abandoned: 'has a handshake left unfinished (SSPI_AGENT_MAX_HANDSHAKE): abandoned',
    }[reason];
    this.once(`leak:${reason}`, handle.site, () => `${label(handle)} ${what}; allocated at:${stackLines(handle.site)}${history()}`);
  }

  onStaleReleased(handle: TrackedHandle, lifetimeSeconds: number): void {
    const flaggedAfter = (handle.staleAt ?? handle.createdAt) - handle.createdAt;
    this.once('stale-released', handle.site, () =>
      `${label(handle)}, flagged ${handle.stale} after ${seconds(flaggedAfter)}, was released after ${lifetimeSeconds.toFixed(1)}s: ` +
      `a slow but correct caller, not a leak (raise the limit if this is normal)`,
    );
  }

  onInvalidRelease(event: InvalidRelease): void {
    if (event.reason !== 'double' && event.reason !== 'use_after_release') return;
    const released = event.released;
    const what = event.reason === 'double' ? `second release of ${event.kind}` : `${event.fn} on released ${event.kind}`;
    this.once(`invalid:${event.reason}`, event.site, () =>
      `${what} #${released?.id ?? '?'} (created by ${released?.createdBy ?? '?'}, released by ${released?.releasedBy ?? '?'}) ` +
      `stopped before it reached the provider; the call returned SEC_E_INVALID_HANDLE. This call:${stackLines(event.site)}` +
      `\n  first released at:${stackLines(released?.releaseSite)}\n  created at:${stackLines(released?.site)}`,
    );
  }

  onOutOfOrderRelease(credential: TrackedHandle, liveContexts: readonly TrackedHandle[]): void {
    this.once('out-of-order', credential.site, () =>
      `${label(credential)} freed while ${liveContexts.length} context(s) made from it are live (delete contexts first); ` +
      `live contexts allocated at:${liveContexts.slice(0, 5).map((c) => `\n  #${c.id}:${stackLines(c.site, '      ')}`).join('')}`,
    );
  }

  onUnloadWithLiveHandles(library: string, live: readonly TrackedHandle[]): void {
    warn(
      `${library} unloaded while ${live.length} handle(s) it made are live (contexts must be deleted and credentials freed first): ` +
        live.slice(0, 10).map((h) => `#${h.id} ${h.kind} [${h.package}] from ${h.createdBy} at ${siteLocation(h.site)}`).join('; '),
    );
  }
}
