// Child of bench/instructions.mjs, run under valgrind: `ops` calls of one workload through the
// instrumented binding of the build at `tree` (its own bench helpers, so an older checkout works
// too), in batches (of 100 ops, or argv[6]) with a turn of the event loop between them, after a
// warm-up that leaves V8's code optimized. The parent subtracts a run with ops = 0, so only the calls are counted.
// argv[2]: the build's root; argv[3]: the workload; argv[4]: ops; argv[5]: the binding (`agent`, the
// instrumented one; `raw`; or a reference wrapper's kind, as bench/lib/reference-wrappers.mjs names it);
// argv[6]: ops per batch (default 100).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [tree, workload, opsText, bindingKind = 'agent', batchText = '100'] = process.argv.slice(2);
const ops = Number(opsText);
const batch = Number(batchText);
const { loadBindings, operations } = await import(pathToFileURL(join(tree, 'bench', 'lib', 'sspi.mjs')).href);
const { raw, wrapped, samFile, cleanup, settle } = await loadBindings();
const binding = await chosen(bindingKind);
const op = operations(binding, samFile)[workload];
if (!op) throw new Error(`unknown workload ${workload}`);
// Long enough, and in the same batches as the counted calls, for V8 to have optimized every function
// they run (a function run once per batch included): tiering up after the warm-up would be counted as
// the calls' cost.
// At least 100 batches, whatever their size: what runs once per batch must be optimized too.
const WARM_UP = Math.max(workload === 'handshake' ? 1000 : 20_000, 100 * batch);
await inBatches(WARM_UP);
await inBatches(ops);
cleanup();

/** `count` ops in batches, a turn of the event loop after each; what waits is applied at the end. */
async function inBatches(count) {
  for (let done = 0; done < count; done += batch) {
    for (let i = 0; i < batch; i++) op();
    await new Promise(setImmediate);
  }
  settle();
}

async function chosen(kind) {
  if (kind === 'agent') return wrapped;
  if (kind === 'raw') return raw;
  const { referenceBinding } = await import(pathToFileURL(join(tree, 'bench', 'lib', 'reference-wrappers.mjs')).href);
  return referenceBinding(raw.libraryPath, kind);
}
