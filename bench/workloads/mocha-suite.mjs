// Child process: what sspi-agent/mocha adds to each test. A suite of `tests` trivial tests (empty
// bodies) is run with mocha's programmatic API, alternately with the plugin's root hooks and without
// (ABBA, `pairs` times), in one process: the agent the plugin started runs in both, so the difference
// is the plugin's hooks alone. With `live`, that many credentials are held live meanwhile (the
// plugin's reads of the registry grow with the handles live).
// argv[2]: JSON { tests, pairs, live }; argv[3]: output file.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import Mocha from 'mocha';

const [input, outFile] = [JSON.parse(process.argv[2]), process.argv[3]];
// The agent first (the plugin would start it; here the held handles must predate the plugin's first
// mark, or its root suite would own them), then koffi, then the plugin's hooks.
(await import('sspi-agent/api')).start();
const koffi = (await import('koffi')).default;
const { loadSspi } = await import('../../examples/lib/sspi-binding.mjs');
const { USER } = await import('../lib/sspi.mjs');
const sspi = loadSspi(koffi);
const held = Array.from({ length: input.live }, () => sspi.acquireClientCredentials(USER));
const { mochaHooks } = await import('sspi-agent/mocha');
const hooks = await mochaHooks();

class Silent {
  constructor() {}
}

function runSuite(withPlugin) {
  const mocha = new Mocha({ reporter: Silent });
  if (withPlugin) mocha.rootHooks(hooks);
  const suite = Mocha.Suite.create(mocha.suite, 'trivial');
  for (let i = 0; i < input.tests; i++) suite.addTest(new Mocha.Test(`test ${i}`, () => {}));
  return new Promise((resolve, reject) => {
    const start = performance.now();
    mocha.run((failures) => (failures ? reject(new Error(`${failures} trivial tests failed`)) : resolve(performance.now() - start)));
  });
}

// A first run of each, not timed: mocha's and the plugin's code warm up.
await runSuite(true);
await runSuite(false);
const pairs = [];
for (let i = 0; i < input.pairs; i++) {
  const order = i % 2 === 0 ? [true, false] : [false, true];
  const ms = {};
  for (const withPlugin of order) ms[withPlugin ? 'plugin' : 'bare'] = await runSuite(withPlugin);
  pairs.push(ms);
}
for (const credential of held) sspi.freeCredentials(credential);
writeFileSync(outFile, JSON.stringify({ tests: input.tests, live: input.live, pairs }));
