// `npm run demo`: starts the NTLM demo server under the agent, logs in a number of times (some
// with a wrong password), shows the agent's metrics, stops the server and shows its exit report.
//
//   node examples/ntlm-demo/run-demo.mjs [--count N] [--no-leak]
//
// --no-leak runs the server with its bug fixed (DEMO_FIX_LEAK=1).
// DEMO_NO_AGENT=1 starts the server without `--import sspi-agent`: the escape hatch for trying
// the server and client while the agent is not built; there are no metrics then.
import { freePort } from '../lib/free-port.mjs';
import { SERVER, startDemoServer } from './server-process.mjs';
import { demoUser } from './users.mjs';

// On Windows, a user of the machine's (DEMO_USER, DEMO_DOMAIN, DEMO_PASSWORD): see users.mjs.
const DEMO_USER = demoUser();

// WinPR reads WLOG_LEVEL when it first logs, so this silences the client side in this process too.
process.env.WLOG_LEVEL ??= 'OFF';
const { runLogins } = await import('./client.mjs');

process.exitCode = await main(parseArgs(process.argv.slice(2)));

async function main({ count, fixLeak }) {
  const withAgent = process.env.DEMO_NO_AGENT !== '1';
  const metricsPort = await freePort();
  const server = startDemoServer({ withAgent, metricsPort, fixLeak });
  let healthy = true;
  try {
    const url = await server.listening;
    printBanner({ url, count, fixLeak, withAgent });

    const summary = await runLogins(url, { count, ...DEMO_USER });
    console.log(`\n${summary.line}`);
    if (summary.unexpected) {
      console.log(`${summary.unexpected} login(s) did not end as expected (a right password must get in, a wrong one must not)`);
      healthy = false;
    }

    if (withAgent) healthy = (await printMetrics(metricsPort)) && healthy;
    else console.log('\n(DEMO_NO_AGENT=1: the server runs without the agent, so there are no metrics)');
  } catch (err) {
    console.error(`\ndemo failed: ${err.message}`);
    if (withAgent) console.error('(is the agent built? `npm run build`; DEMO_NO_AGENT=1 runs the demo without it)');
    healthy = false;
  }
  const exit = await server.stop();
  console.log('\nserver stopped; its stderr (the agent writes its exit leak report there):');
  console.log(indent(server.stderr() || (withAgent ? '(empty: the agent reports nothing when no handle leaked)' : '(empty)')));
  if (exit.code !== 0) {
    console.log(`server exited with ${exit.signal ?? `code ${exit.code}`}`);
    healthy = false;
  }
  return healthy ? 0 : 1;
}

function parseArgs(args) {
  const options = { count: 20, fixLeak: process.env.DEMO_FIX_LEAK === '1' };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--no-leak') options.fixLeak = true;
    else if (args[i] === '--count' && Number.isInteger(Number(args[i + 1])) && Number(args[i + 1]) > 0) options.count = Number(args[++i]);
    else {
      console.error('usage: node examples/ntlm-demo/run-demo.mjs [--count N] [--no-leak]');
      process.exit(2);
    }
  }
  return options;
}

function printBanner({ url, count, fixLeak, withAgent }) {
  const wrong = Math.floor(count / 4);
  console.log(`NTLM demo server at ${url}`);
  console.log(withAgent ? `  started as: node --import sspi-agent ${SERVER}` : `  started as: node ${SERVER} (no agent)`);
  console.log(`  it authenticates with NTLM through SSPI (${process.platform === 'win32' ? 'secur32.dll' : "WinPR's libwinpr2"})`);
  console.log(`${plural(count, 'login')} as ${DEMO_USER.domain}\\${DEMO_USER.user}, every 4th with a wrong password (${plural(wrong, 'rejected login')} expected).`);
  if (fixLeak) {
    console.log('The server runs with its bug fixed (DEMO_FIX_LEAK=1): every security context is deleted.');
    return;
  }
  console.log('The server has the classic bug: when a login is rejected it never calls DeleteSecurityContext,');
  console.log(`so ${plural(wrong, 'server context')} will never be deleted${withAgent ? ': watch the metrics and the exit report' : ''}.`);
}

/** Prints the agent's sspi_* series (without histogram buckets); false when the endpoint did not answer. */
async function printMetrics(port) {
  const url = `http://127.0.0.1:${port}/metrics`;
  let text;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = await response.text();
  } catch (err) {
    console.log(`\nthe agent's metrics endpoint ${url} did not answer (${err.cause?.message ?? err.message}): is the agent built and loaded?`);
    return false;
  }
  const lines = text.split('\n').filter((line) => line.startsWith('sspi_') && !/^sspi_\w+_bucket\{/.test(line));
  console.log(`\n${url} (sspi_* series, histogram buckets left out):`);
  console.log(indent(lines.join('\n')));
  return true;
}

function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function indent(text) {
  return text.replace(/^/gm, '  ');
}
