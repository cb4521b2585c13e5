/**
 * Writes the dashboard JSON (`npm run dashboards`), or with `--check` exits 1 when the committed
 * file differs from what the TypeScript builds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dashboardJson } from './dashboard.js';

/** The committed dashboard, beside this package's build/ and src/ folders. */
export const DASHBOARD_FILE = fileURLToPath(new URL('../sspi-agent.json', import.meta.url));

function main(args: string[]): number {
  const wanted = dashboardJson();
  let current = '';
  try {
    current = readFileSync(DASHBOARD_FILE, 'utf8');
  } catch {
    // not generated yet
  }
  if (args.includes('--check')) {
    if (current === wanted) return 0;
    console.error(`${DASHBOARD_FILE} is out of date: run \`npm run dashboards\``);
    return 1;
  }
  if (current !== wanted) {
    writeFileSync(DASHBOARD_FILE, wanted);
    console.log(`wrote ${DASHBOARD_FILE}`);
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
