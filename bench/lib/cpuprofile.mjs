// Reads a V8 .cpuprofile (node --cpu-prof) of one measured loop and says where its time went: self
// time by function and by source line, mapped from dist/*.js to src/*.ts through the build's source
// maps, and grouped in buckets (agent, the native SSPI call, GC, app, Node). A koffi call into WinPR
// has no JS frame of its own: its time is the self time of the line that calls it, so the wrapper's
// `original.apply(...)` lines are counted as "native SSPI call".
import { readFileSync, existsSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative, resolve } from 'node:path';

const maps = new Map();

function sourceMapOf(file) {
  if (!maps.has(file)) {
    const mapFile = `${file}.map`;
    maps.set(file, existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined);
  }
  return maps.get(file);
}

const sourceLines = new Map();
function lineText(file, line) {
  if (!sourceLines.has(file)) sourceLines.set(file, existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []);
  return (sourceLines.get(file)[line - 1] ?? '').trim();
}

/** `{ file, line, shown }` for a zero-based generated position: the .ts position when a map exists. */
function locate(url, line0, column0, root) {
  if (!url.startsWith('file://')) return { file: undefined, line: line0 + 1, shown: `${url || '(native)'}${url ? `:${line0 + 1}` : ''}` };
  const file = fileURLToPath(url);
  const entry = sourceMapOf(file)?.findEntry(line0, column0);
  if (entry?.originalSource) {
    const original = resolve(dirname(file), entry.originalSource);
    return { file: original, line: entry.originalLine + 1, shown: `${relative(root, original)}:${entry.originalLine + 1}` };
  }
  return { file, line: line0 + 1, shown: `${relative(root, file)}:${line0 + 1}` };
}

function bucketOf(frame, root) {
  const { functionName, url } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8 (program)';
  if (functionName === '(idle)') return 'idle';
  if (url.startsWith('file://')) {
    const file = fileURLToPath(url);
    if (file.startsWith(join(root, 'dist') + '/')) return AGENT;
    if (file.includes('/node_modules/prom-client/')) return 'prom-client';
    if (file.includes('/node_modules/@opentelemetry/')) return 'OpenTelemetry API + SDK';
    if (file.includes('/node_modules/koffi/')) return 'koffi (JS)';
    if (file.startsWith(join(root, 'bench') + '/') || file.startsWith(join(root, 'examples') + '/')) return 'app (bench + examples binding)';
    return 'other JS';
  }
  if (url.startsWith('node:')) return 'Node internals';
  return 'V8/Node builtins (native)';
}

const AGENT = 'agent (src/)';
const NATIVE_CALL = /\boriginal(Async)?\.apply\(/;

/**
 * `ops`: how many operations the loop ran (for µs/op); `window`: [start, end] of the loop in µs of the
 * profiler's clock (process.hrtime). Returns buckets, and the top functions with their hottest lines.
 */
export function analyzeProfile(profilePath, { root, ops, window: [from, to], top = 15 }) {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Sample i lasts until sample i + 1; only samples inside the loop's window count.
  const times = [];
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) times.push((t += profile.timeDeltas[i]));
  let windowUs = 0;
  const selfUs = new Map();
  for (let i = 0; i + 1 < times.length; i++) {
    if (times[i] < from || times[i + 1] > to) continue;
    const id = profile.samples[i];
    const us = times[i + 1] - times[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + us);
    windowUs += us;
  }
  if (windowUs === 0) throw new Error(`no sample inside the measured window in ${profilePath}`);

  const buckets = new Map();
  const functions = new Map();
  const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    const frame = node.callFrame;
    const where = locate(frame.url, frame.lineNumber, frame.columnNumber, root);
    const key = `${frame.functionName || '(anonymous)'} ${where.shown}`;
    let fn = functions.get(key);
    if (!fn) {
      fn = { function: frame.functionName || '(anonymous)', location: where.shown, bucket: bucketOf(frame, root), selfUs: 0, lines: new Map() };
      functions.set(key, fn);
    }
    fn.selfUs += us;
    // Spread this node's time over its lines by their ticks.
    const ticks = node.positionTicks ?? [];
    const total = ticks.reduce((n, p) => n + p.ticks, 0);
    let nativeUs = 0;
    for (const p of ticks) {
      const share = (us * p.ticks) / total;
      const at = locate(frame.url, p.line - 1, 10_000, root);
      const text = at.file ? lineText(at.file, at.line) : '';
      add(fn.lines, `${at.shown}\t${text}`, share);
      if (NATIVE_CALL.test(text)) nativeUs += share;
    }
    add(buckets, 'native SSPI call (koffi marshalling + WinPR)', nativeUs);
    add(buckets, fn.bucket, us - nativeUs);
  }
  const perOp = (us) => us / ops;
  const pct = (us) => (100 * us) / windowUs;
  const describe = (f) => ({
    function: f.function,
    location: f.location,
    bucket: f.bucket,
    pct: pct(f.selfUs),
    usPerOp: perOp(f.selfUs),
    hotLines: [...f.lines]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .filter(([k, us]) => pct(us) >= 0.5 && !k.endsWith('\t'))
      .map(([k, us]) => {
        const [location, text] = k.split('\t');
        return { location, text, pct: pct(us) };
      }),
  });
  const sorted = [...functions.values()].sort((a, b) => b.selfUs - a.selfUs);
  // The agent's own time (the native call excluded), by source file.
  const agentFiles = new Map();
  for (const f of sorted) {
    if (f.bucket !== AGENT) continue;
    for (const [k, us] of f.lines) {
      const [location, text] = k.split('\t');
      if (!NATIVE_CALL.test(text)) add(agentFiles, location.replace(/:\d+$/, ''), us);
    }
  }
  return {
    profile: profilePath,
    ops,
    windowMs: windowUs / 1000,
    usPerOp: perOp(windowUs),
    buckets: [...buckets]
      .filter(([, us]) => us > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([bucket, us]) => ({ bucket, pct: pct(us), usPerOp: perOp(us) })),
    functions: sorted.slice(0, top).map(describe),
    agentFunctions: sorted.filter((f) => f.bucket === AGENT).slice(0, top).map(describe),
    agentFiles: [...agentFiles].sort((a, b) => b[1] - a[1]).map(([file, us]) => ({ file, pct: pct(us), usPerOp: perOp(us) })),
  };
}
