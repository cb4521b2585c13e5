/**
 * The books closed when a thread's life ends (the process, or a worker thread): every live handle
 * declared leaked, the forced cleanup if asked, and the report of what was left.
 */
import { forceCleanup } from './cleanup.js';
import { buildLeakReport, type LeakReport } from './exporters/leak-report.js';
import type { HandleRegistry } from './core/registry.js';
import { formatSites } from './core/stacks.js';
import type { Suppressions } from './suppressions.js';

export function closeBooks(registry: HandleRegistry, reason: string, cleanup: boolean, suppressions: Suppressions | undefined): LeakReport {
  // One V8 formatting per distinct stack, before the leak spans and the report read them (each
  // would otherwise format its own: seconds for 100k leaks with SSPI_AGENT_STACKS=all).
  formatSites(registry.settled().liveHandles().map((h) => h.site));
  const leaked = registry.declareLeaks('exit');
  const cleaned = cleanup ? forceCleanup(registry, reason) : [];
  return buildLeakReport(leaked, reason, { suppressions, cleanup: cleaned });
}
