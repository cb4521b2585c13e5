// The source flows one way: no module imports, directly or through others, a module that imports it
// (type-only imports included: they tie the two modules' designs together all the same).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO } from '../helpers/run-app.mjs';

const SRC = join(REPO, 'src');

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The relative modules a file imports or re-exports, as source paths. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]);
  return specifiers.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
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

describe('module structure', function () {
  it('has no import cycle in src/', function () {
    const graph = new Map(sourceFiles(SRC).map((f) => [f, importsOf(f)]));
    assert.ok(graph.size > 40, 'the source files were found');
    assert.ok([...graph.values()].some((deps) => deps.length > 0), 'imports were read');
    const cycle = findCycle(graph);
    assert.equal(cycle, undefined, `import cycle: ${cycle?.map((f) => relative(SRC, f)).join(' → ')}`);
  });
});
