// The source flows one way: no module imports, directly or through others, a module that imports it
// (type-only imports included: they tie the two modules' designs together all the same). The same
// holds one level up, between the entries of src/ (each folder, and each file directly in src/): two
// entries that reach each other through their files' imports are one knot, even without a file cycle.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO } from '../helpers/run-app.mjs';

const SRC = join(REPO, 'src');

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/**
 * The relative modules a file imports or re-exports, as source paths: static imports (side-effect
 * ones too), dynamic `import()`, and the modules loaded on demand (`onDemand('./x.js')`, whose paths
 * are from the root of src/, as in the bundle).
 */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const fromFile = (m) => resolve(dirname(file), m[1].replace(/\.js$/, '.ts'));
  const fromSrc = (m) => resolve(SRC, m[1].replace(/\.js$/, '.ts'));
  return [
    ...[...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm)].map(fromFile),
    ...[...text.matchAll(/^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm)].map(fromFile),
    ...[...text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)].map(fromFile),
    ...[...text.matchAll(/\bonDemand(?:<[^>]*>)?\(\s*['"](\.\/[^'"]+)['"]\s*\)/g)].map(fromSrc),
  ];
}

/** One cycle, as the files in it, or undefined. */
function findCycle(graph) {
  const state = new Map();
  const path = [];
  const visit = (file) => {
    if (state.get(file) === 'done') return undefined;
    if (state.get(file) === 'open') return [...path.slice(path.indexOf(file)), file];
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The entry of src/ a file belongs to: its top folder, or the file itself. */
const entryOf = (file) => relative(SRC, file).split(/[\\/]/)[0].replace(/\.ts$/, '');

/** The file graph folded to src/'s entries, each edge with the file imports behind it. */
function entryGraph(fileGraph) {
  const graph = new Map();
  for (const [file, deps] of fileGraph) {
    for (const dep of deps) {
      const [from, to] = [entryOf(file), entryOf(dep)];
      if (from === to) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      const edges = graph.get(from);
      edges.set(to, [...(edges.get(to) ?? []), `${relative(SRC, file)} → ${relative(SRC, dep)}`]);
    }
  }
  return graph;
}

function reachable(graph, from) {
  const seen = new Set();
  const todo = [from];
  while (todo.length > 0) {
    for (const next of graph.get(todo.pop())?.keys() ?? []) {
      if (!seen.has(next)) todo.push(next), seen.add(next);
    }
  }
  return seen;
}

/** Each set of two or more entries that all reach each other, with the imports that tie them. */
function knots(graph) {
  const reach = new Map([...graph.keys()].map((e) => [e, reachable(graph, e)]));
  const found = [];
  const placed = new Set();
  for (const entry of graph.keys()) {
    if (placed.has(entry)) continue;
    const knot = [...graph.keys()].filter((other) => other === entry || (reach.get(entry).has(other) && reach.get(other).has(entry)));
    knot.forEach((e) => placed.add(e));
    if (knot.length > 1) found.push(knot.flatMap((from) => knot.flatMap((to) => graph.get(from)?.get(to) ?? [])));
  }
  return found;
}

const fileGraph = () => new Map(sourceFiles(SRC).map((f) => [f, importsOf(f)]));

describe('module structure', function () {
  it('has no knot between the entries of src/', function () {
    const graph = entryGraph(fileGraph());
    assert.ok(graph.size > 10, 'the entries were found');
    assert.deepEqual(knots(graph), []);
  });

  it('finds a knot planted between two entries with no file cycle', function () {
    const files = fileGraph();
    // agent.ts reaches otel/ (through telemetry.ts), never otel/instrumentation-base.ts: an import of
    // agent.ts there ties the two entries without closing a cycle of files.
    files.get(join(SRC, 'otel', 'instrumentation-base.ts')).push(join(SRC, 'agent.ts'));
    assert.equal(findCycle(files), undefined, 'no file cycle');
    const found = knots(entryGraph(files));
    assert.equal(found.length, 1);
    assert.ok(found[0].includes('otel/instrumentation-base.ts → agent.ts'), found[0].join('\n'));
  });

  it('reads the imports the agent loads later too: dynamic import() and onDemand()', function () {
    const files = fileGraph();
    assert.ok(files.get(join(SRC, 'index.ts')).includes(join(SRC, 'agent.ts')), "index.ts's import('./agent.js')");
    assert.ok(files.get(join(SRC, 'telemetry-gate.ts')).includes(join(SRC, 'telemetry.ts')), "telemetry-gate.ts's onDemand('./telemetry.js')");
    assert.ok(files.get(join(SRC, 'hooks', 'koffi-hook.ts')).includes(join(SRC, 'core', 'lifecycle.ts')), "koffi-hook.ts's onDemand('./core/lifecycle.js')");
    for (const [file, deps] of files) for (const dep of deps) assert.ok(files.has(dep), `${relative(SRC, file)} → ${relative(SRC, dep)}: no such source file`);
  });

  it('has no import cycle in src/', function () {
    const graph = fileGraph();
    assert.ok(graph.size > 40, 'the source files were found');
    assert.ok([...graph.values()].some((deps) => deps.length > 0), 'imports were read');
    const cycle = findCycle(graph);
    assert.equal(cycle, undefined, `import cycle: ${cycle?.map((f) => relative(SRC, f)).join(' → ')}`);
  });
});
