/**
 * Sees every CommonJS `require()` of koffi (also koffi 2, which is CJS only, when an ES module
 * imports it: Node loads it through the same CJS loader). Only requests for koffi's own entry points
 * are inspected — not its native module (`@koromix/koffi-*`), whose `load` koffi wraps itself — so
 * other modules' loads pay one string test. node-expose-sspi (CommonJS too) is seen the same way.
 */
import { agentError } from '../diagnostics.js';

/** `koffi`, `koffi/indirect`, or a path to koffi's own entry files. */
const KOFFI_ENTRY_PATH = /[\\/]node_modules[\\/]koffi[\\/](index|indirect)\.c?js$/;

function isKoffiEntry(request: string): boolean {
  return request === 'koffi' || request.startsWith('koffi/') || KOFFI_ENTRY_PATH.test(request);
}

/** `node-expose-sspi`, its `lib/api` (the addon itself), or a path to either file (an ES module import). */
const NODE_EXPOSE_SSPI_PATH = /[\\/]node_modules[\\/]node-expose-sspi[\\/](dist[\\/]index|lib[\\/]api)(\.js)?$/;

function isNodeExposeSspiEntry(request: string): boolean {
  return request === 'node-expose-sspi' || request.startsWith('node-expose-sspi/lib/api') || NODE_EXPOSE_SSPI_PATH.test(request);
}

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
interface ModuleInternals {
  _load: Load;
}

// The CommonJS loader itself (`require('node:module')`), taken without making a `require` for it.
const Module = process.getBuiltinModule('node:module') as unknown as ModuleInternals;

/**
 * Calls `onKoffi(exports)` for each koffi module loaded (and `onNodeExposeSspi(exports)` for each
 * node-expose-sspi entry); returns the function that removes the hook.
 */
export function hookRequire(onKoffi: (exports: unknown) => void, onNodeExposeSspi?: (exports: unknown) => void): () => void {
  const originalLoad = Module._load;
  const hookedLoad: Load = function (this: unknown, request, parent, isMain) {
    const exports = originalLoad.call(this, request, parent, isMain);
    if (typeof request === 'string') {
      const onEntry = isKoffiEntry(request) ? onKoffi : onNodeExposeSspi && isNodeExposeSspiEntry(request) ? onNodeExposeSspi : undefined;
      try {
        onEntry?.(exports);
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
