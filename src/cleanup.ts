/**
 * The forced ordered cleanup, as Microsoft's "Ending an SSPI Session" prescribes: every live context
 * is deleted, then every credential freed, then every buffer returned — each with the provider's own
 * native function, each at most once, never one the app already released.
 */
import type { CleanupMode } from './config.js';
import { agentError } from './diagnostics.js';
import type { HandleRegistry } from './core/registry.js';
import type { ForcedRelease, HandleKind, TrackedHandle } from './types.js';

const ORDER: readonly HandleKind[] = ['context', 'credential', 'buffer'];
const SEC_E_INTERNAL_ERROR = 0x80090304 | 0;

/** Whether SSPI_AGENT_CLEANUP covers an end by `path`: a life's end (exit, uncaught exception, a worker's end) or a signal. */
export function cleanupCovers(mode: CleanupMode, path: 'exit' | 'signals'): boolean {
  return mode === path || mode === 'all';
}

export function forceCleanup(registry: HandleRegistry, trigger: string, only?: (h: TrackedHandle) => boolean): ForcedRelease[] {
  const results: ForcedRelease[] = [];
  for (const kind of ORDER) {
    for (const handle of registry.settled().liveHandles((h) => h.kind === kind && (!only || only(h)))) {
      if (!handle.releaser) continue;
      let status: number;
      try {
        status = handle.releaser.release(handle);
      } catch (err) {
        agentError('cleanup', err);
        status = SEC_E_INTERNAL_ERROR;
      }
      results.push(registry.forcedRelease(handle, status, trigger));
    }
  }
  return results;
}
