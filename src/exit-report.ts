/**
 * The report of the process's end, once there is something to report: the books closed (every live
 * handle declared leaked, the forced cleanup if asked), what worker threads left merged in, written
 * to stderr and to SSPI_AGENT_REPORT_FILE. Loaded only then (see on-demand.ts): a process that ends
 * with nothing live and no report file asked for never compiles it.
 */
import { closeBooks } from './closing-report.js';
import type { AgentConfig } from './config.js';
import { writeStderr } from './diagnostics.js';
import { formatLeakReport, type LeakReport } from './exporters/leak-report.js';
import { withThreadReports, type ThreadReport } from './exporters/thread-reports.js';
import type { HandleRegistry } from './core/registry.js';
import type { Suppressions } from './suppressions.js';

// Taken from the built-in module, not imported: see "Start-up" in docs/architecture.md.
const { writeFileSync } = process.getBuiltinModule('node:fs');

export function writeExitReport(
  registry: HandleRegistry,
  config: AgentConfig,
  suppressions: Suppressions | undefined,
  end: { reason: string; cleanup: boolean; threadReports: readonly ThreadReport[] },
): LeakReport {
  const report = withThreadReports(closeBooks(registry, end.reason, end.cleanup, suppressions), end.threadReports);
  if (report.total > 0 && config.report) writeStderr(formatLeakReport(report));
  // `%p`: one file per process, where several processes share the setting (test workers).
  if (config.reportFile) writeFileSync(config.reportFile.replaceAll('%p', String(process.pid)), JSON.stringify(report, null, 2) + '\n');
  return report;
}
