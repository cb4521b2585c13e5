#!/usr/bin/env node
/**
 * `npx sspi-agent <command>`: the agent's reports, read after the fact.
 *
 *   sspi-agent report [--json] FILE…   merges the JSON reports of several processes and prints them
 *                                      grouped by site, with the processes each site leaked in
 *   sspi-agent baseline FILE…          prints a suppressions file covering every site of the reports
 *
 * Exit codes: 0 done; 2 bad input or usage (nothing is written to standard output then).
 */
import { InputError, readReports } from './read-reports.js';
import { baselineText } from './baseline.js';
import { formatMergedReport, mergeReports } from './merge-reports.js';

const USAGE = `usage: sspi-agent report [--json] FILE…
       sspi-agent baseline FILE… > sspi-agent.supp
  report   merges the JSON reports (SSPI_AGENT_REPORT_FILE) of several processes: the leaks grouped by
           site across processes, as text, or with --json as one JSON report
  baseline a suppressions file (SSPI_AGENT_SUPPRESSIONS) covering every leak site of the reports, so
           that SSPI_AGENT_FAIL_ON_LEAK fails only on sites that are new since`;

function rejectOptions(args: readonly string[], allowed: readonly string[]): void {
  const unknown = args.find((a) => a.startsWith('-') && !allowed.includes(a));
  if (unknown) throw new InputError(`unknown option ${unknown}\n${USAGE}`);
}

function report(args: readonly string[]): string {
  const json = args.includes('--json');
  rejectOptions(args, ['--json']);
  const merged = mergeReports(readReports(args.filter((a) => a !== '--json')));
  return json ? JSON.stringify(merged, null, 2) + '\n' : formatMergedReport(merged);
}

function run(argv: readonly string[]): number {
  const [command, ...args] = argv;
  try {
    if (command === 'report') {
      process.stdout.write(report(args));
      return 0;
    }
    if (command === 'baseline') {
      rejectOptions(args, []);
      process.stdout.write(baselineText(mergeReports(readReports(args))));
      return 0;
    }
    if (command === '--help' || command === '-h') {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    if (command === undefined) throw new InputError(USAGE);
    throw new InputError(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    process.stderr.write(`sspi-agent: ${err.message}\n`);
    return 2;
  }
}

process.exitCode = run(process.argv.slice(2));
