// The runtime build: tsc's dist/ bundled into dist/bundle/, what the package's entries load. A
// process that loads the agent as some 80 modules spends about as long resolving and linking them
// as running them; as a few files it starts in half the time and a few MiB less (the start-up rows of
// `npm run bench`, docs/performance.md). dist/ stays as tsc wrote it: the types, the CLI, the tests'
// imports of single modules.
//
// Entries: the preload, the API, and the koffi ES module bridge (the shim loads it by its URL, next
// to the agent's code). Code they share goes to chunks beside them, one copy of each module, so the
// preload and the API an app imports share one agent. The chunk the start loads runs from a V8 code
// cache (scripts/start-script.mjs), and the preload entry is bundled on its own, importing that chunk. Every chunk sits one directory below dist/, as
// the modules it came from did (dist/core/, dist/otel/): their paths relative to `import.meta.url`
// (the package.json, the agent's own directory in stacks) hold unchanged.
//
//   node scripts/bundle.mjs            bundles (`npm run build` runs it after tsc)
//   node scripts/bundle.mjs --if-stale bundles only when dist/ changed since (the test runs do this)
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runFromCodeCache } from './start-script.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
export const BUNDLE = join(DIST, 'bundle');
/**
 * The same bundle with its lines kept, for `npm run bench -- --profile`: a CPU profile counts ticks by
 * line only, so in a one-line file every tick of a function lands on the same line.
 */
export const READABLE_BUNDLE = join(DIST, 'bundle-readable');
const ENTRIES = ['api.js', 'hooks/koffi-esm-bridge.js', 'test-runners/mocha.js', 'test-runners/node-test.js', 'test-runners/mocha-hooks.js', 'test-runners/node-test-hooks.js'];

/** The parts the agent loads when it first needs them (src/on-demand.ts): entries too, so that they have paths of their own. */
async function onDemandEntries() {
  const { ON_DEMAND_PARTS } = await import(pathToFileURL(join(DIST, 'on-demand.js')).href);
  return ON_DEMAND_PARTS.map((p) => p.replace(/^\.\//, ''));
}
/**
 * The entries that run only beside a started agent. Each imports the agent as well (added here, at
 * bundle time), so that every module the agent's start loads is reached from the same entries and
 * lands in one chunk: split by which entries reach them, they came in over a dozen small files,
 * each resolved, read and linked on its own at every start. The preload entry imports the agent
 * only when it is turned on; the test runners' entries only check the Node.js version first.
 */
const BESIDE_AGENT = (entry) => !['index.js', 'test-runners/mocha.js', 'test-runners/node-test.js'].includes(entry);

/** An esbuild plugin: the entries `BESIDE_AGENT` keeps import `agent.js` too (appended: tsc's source map still fits). */
function importingAgent(entries) {
  const paths = new Set(entries.filter(BESIDE_AGENT).map((e) => join(DIST, e)));
  const agent = join(DIST, 'agent.js');
  return {
    name: 'entries-import-the-agent',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, (args) => {
        if (!paths.has(args.path)) return undefined;
        return { contents: `${readFileSync(args.path, 'utf8')}\nimport ${JSON.stringify(agent)};\n`, loader: 'js' };
      });
    },
  };
}

/**
 * The preload entry is bundled on its own, after the rest: each module a start loads costs about half
 * a millisecond (resolved, read, linked), and bundled with the others it loaded three more than its
 * own, the Node.js version check's module and chunk and a facade of the agent's chunk. Alone it holds
 * the version check, and imports the chunk that holds the agent's start itself.
 */
function startChunk(metafile, outdir) {
  const agent = relative(ROOT, join(DIST, 'agent.js'));
  const chunk = Object.entries(metafile.outputs).find(([, out]) => out.inputs[agent] && out.exports.includes('startAgent'));
  if (!chunk) throw new Error(`no chunk of the bundle holds ${agent} and exports startAgent`);
  return relative(outdir, join(ROOT, chunk[0]));
}

/** An esbuild plugin: the preload's `import('./agent.js')` loads `chunk` (a path relative to the bundle's root). */
function agentAt(chunk) {
  return {
    name: 'preload-imports-the-start-chunk',
    setup(build) {
      build.onResolve({ filter: /^\.\/agent\.js$/ }, (args) => (args.importer === join(DIST, 'index.js') ? { path: `./${chunk}`, external: true } : undefined));
    },
  };
}

/** The digest of the tsc output a bundle was made from. */
const STAMP = '.inputs';

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return e.name.startsWith('bundle') || e.name === 'cli' ? [] : jsFiles(path);
      return e.name.endsWith('.js') ? [path] : [];
    });
}

function inputsDigest() {
  const hash = createHash('sha1');
  for (const file of jsFiles(DIST)) hash.update(relative(DIST, file)).update(readFileSync(file));
  return hash.digest('hex');
}

export function bundleIsStale(dir = BUNDLE) {
  const stamp = join(dir, STAMP);
  return !existsSync(stamp) || readFileSync(stamp, 'utf8') !== inputsDigest();
}

/**
 * Bundles dist/ into a directory of its own, then puts it in place at once (a test run may be reading
 * the old one). `readable`: into READABLE_BUNDLE, lines kept.
 */
export async function bundle({ readable = false } = {}) {
  const target = readable ? READABLE_BUNDLE : BUNDLE;
  if (!existsSync(join(DIST, 'index.js'))) throw new Error('dist/ is not built: run `npx tsc -p tsconfig.json` first');
  const { build } = await import('esbuild');
  const digest = inputsDigest();
  const staging = `${target}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    await bundleInto(staging, { build, readable });
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  writeFileSync(join(staging, STAMP), digest);
  const old = `${target}.old.${process.pid}`;
  if (existsSync(target)) renameSync(target, old);
  renameSync(staging, target);
  rmSync(old, { recursive: true, force: true });
}

async function bundleInto(staging, { build, readable }) {
  const entries = [...ENTRIES, ...(await onDemandEntries())];
  const common = {
    outbase: DIST,
    outdir: staging,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // prom-client, OpenTelemetry and koffi stay the app's (or the package's) own modules.
    packages: 'external',
    // Chained to tsc's maps: profiles and stacks (under --enable-source-maps) point into src/*.ts,
    // but for the start script's stacks: Node maps no vm.Script (scripts/start-script.mjs).
    sourcemap: 'linked',
    // Comments and indentation out: the source is decoded and scanned at every start (its comments
    // also held non-ASCII characters, which made Node decode it on a slower path). Names stay.
    minifyWhitespace: !readable,
    logLevel: 'warning',
  };
  const { metafile } = await build({
    ...common,
    entryPoints: entries.map((e) => join(DIST, e)),
    plugins: [importingAgent(entries)],
    splitting: true,
    chunkNames: '[name]-[hash]',
    metafile: true,
  });
  const start = startChunk(metafile, staging);
  await runFromCodeCache(join(staging, start), { build, common, dist: DIST });
  await build({ ...common, entryPoints: [join(DIST, 'index.js')], plugins: [agentAt(start)] });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || bundleIsStale()) await bundle();
}
