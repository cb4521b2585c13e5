/**
 * Sees every CommonJS `require()` of koffi (also koffi 2, which is CJS only, when an ES module
 * imports it: Node loads it through the same CJS loader). Only requests for koffi's own entry points
 * are inspected — not its native module (`@koromix/koffi-*`), whose `load` koffi wraps itself — so
 * other modules' loads pay one string test.
 */
import { createRequire } from 'node:module';
import { agentError } from '../diagnostics.js';

/** `koffi`, `koffi/indirect`, or a path to koffi's own entry files. */
const KOFFI_ENTRY_PATH = /[\\/]node_modules[\\/]koffi[\\/](index|indirect)\.c?js$/;

function isKoffiEntry(request: string): boolean {
  return request === 'koffi' || request.startsWith('koffi/') || KOFFI_ENTRY_PATH.test(request);
}

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
interface ModuleInternals {
  _load: Load;
}

const Module = createRequire(import.meta.url)('node:module') as ModuleInternals;

/** Calls `onKoffi(exports)` for each koffi module loaded; returns the function that removes the hook. */
export function hookRequire(onKoffi: (exports: unknown) => void): () => void {
  const originalLoad = Module._load;
  const hookedLoad: Load = function (this: unknown, request, parent, isMain) {
    const exports = originalLoad.call(this, request, parent, isMain);
    if (typeof request === 'string' && isKoffiEntry(request)) {
      try {
        onKoffi(exports);
      } catch (err) {
        agentError('require-hook', err);
      }
    }
    return exports;
  };
  Module._load = hookedLoad;
  return () => {
    if (Module._load === hookedLoad) Module._load = originalLoad;
  };
}
