/**
 * What the ESM loader shim calls on the main thread. koffi 3's ES module exports `load` as a binding
 * captured when the module ran, so patching the module object afterwards cannot reach a named
 * `import { load } from 'koffi'`; the shim re-exports the namespace with `load` and `default`
 * replaced by what this returns.
 */
import { agentError } from '../diagnostics.js';
import type { KoffiHook } from './koffi-hook.js';

let activeHook: KoffiHook | undefined;

export function setActiveKoffiHook(hook: KoffiHook | undefined): void {
  activeHook = hook;
}

interface KoffiNamespace {
  default?: unknown;
  load?: unknown;
}

export function instrumentKoffiNamespace(ns: KoffiNamespace): { default: unknown; load: unknown } {
  const out = { default: ns.default, load: ns.load };
  if (!activeHook) return out;
  try {
    activeHook.patchModule(ns.default);
    if (typeof ns.load === 'function') out.load = activeHook.wrapLoad(ns.load, (ns.default ?? ns) as object);
  } catch (err) {
    agentError('esm-bridge', err);
  }
  return out;
}
