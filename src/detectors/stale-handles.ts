/**
 * Stale handles and abandoned handshakes, checked on an unref'd timer (never keeping the process
 * alive). Each check only walks what it flags: the registry keeps live handles in creation order.
 */
import { agentError } from '../diagnostics.js';
import type { HandleRegistry, StaleLimits } from '../core/registry.js';

/** Checks run at a quarter of the shortest limit, between these bounds. */
const MIN_PERIOD_MS = 50;
const MAX_PERIOD_MS = 10_000;

export function startStaleChecks(registry: HandleRegistry, limits: StaleLimits): () => void {
  const active = Object.values(limits).filter((ms) => ms > 0);
  if (active.length === 0) return () => {};
  const period = Math.min(MAX_PERIOD_MS, Math.max(MIN_PERIOD_MS, Math.min(...active) / 4));
  const timer = setInterval(() => {
    try {
      registry.flagStale(limits);
    } catch (err) {
      agentError('stale-check', err);
    }
  }, period);
  timer.unref();
  return () => clearInterval(timer);
}
