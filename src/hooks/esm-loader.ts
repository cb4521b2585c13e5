/**
 * The ES module hook for koffi 3. koffi's ES entry exports `load` as a binding captured when the
 * module ran, so patching the module object afterwards cannot reach `import { load } from 'koffi'`.
 * An import of that entry is redirected to a shim that re-exports it with `load` and `default`
 * instrumented (koffi-esm-bridge.ts).
 *
 * The hooks are `module.registerHooks` hooks: synchronous and run in the importing thread, so they
 * cost nothing at start-up (no loader thread) and raise no deprecation warning, as `module.register`
 * does from Node 26 on.
 */
// Taken from the built-in module, not imported: see "Start-up" in docs/architecture.md.
const { registerHooks } = process.getBuiltinModule('node:module');

const SHIM_PARAM = 'sspi-agent-shim';

/** koffi's ES entries: `koffi` and `koffi/indirect`. */
const KOFFI_ESM_ENTRY = /[\\/]node_modules[\\/]koffi[\\/](index|indirect)\.m?js$/;

type ResolveHook = NonNullable<Parameters<typeof registerHooks>[0]['resolve']>;
type LoadHook = NonNullable<Parameters<typeof registerHooks>[0]['load']>;

function isShim(url: string | undefined): boolean {
  // The substring first: every module the app loads passes here, and parsing its URL costs more.
  return url !== undefined && url.startsWith('file:') && url.includes(SHIM_PARAM) && new URL(url).searchParams.has(SHIM_PARAM);
}

/** Whether a resolved module is koffi's ES entry, imported by anything but the shim itself. */
function isKoffiEsmImport(resolved: { url: string; format?: string | null }, context: { parentURL?: string; conditions?: readonly string[] }): boolean {
  // `require()` goes through these hooks too; koffi's CommonJS entry is the require hook's.
  if (context.conditions?.includes('require') || resolved.format === 'commonjs') return false;
  if (!resolved.url.startsWith('file:') || !resolved.url.includes('koffi') || isShim(context.parentURL)) return false;
  const url = new URL(resolved.url);
  return KOFFI_ESM_ENTRY.test(url.pathname) && !url.searchParams.has(SHIM_PARAM);
}

function shimSource(realUrl: string, bridgeUrl: string): string {
  const target = JSON.stringify(realUrl);
  // Explicit exports shadow the star export's `load`; `export *` never carries `default`.
  return [
    `import * as ns from ${target};`,
    `import { instrumentKoffiNamespace } from ${JSON.stringify(bridgeUrl)};`,
    `const instrumented = instrumentKoffiNamespace(ns);`,
    `export * from ${target};`,
    `export default instrumented.default;`,
    `export const load = instrumented.load;`,
  ].join('\n');
}

/** Installs the hooks; returns the function that removes them. */
export function hookKoffiImports(bridgeUrl: string): () => void {
  const resolve: ResolveHook = (specifier, context, nextResolve) => {
    const resolved = nextResolve(specifier, context);
    if (!isKoffiEsmImport(resolved, context)) return resolved;
    const url = new URL(resolved.url);
    url.searchParams.set(SHIM_PARAM, '1');
    return { ...resolved, url: url.href };
  };
  const load: LoadHook = (url, context, nextLoad) => {
    if (!isShim(url)) return nextLoad(url, context);
    const real = new URL(url);
    real.searchParams.delete(SHIM_PARAM);
    return { format: 'module', source: shimSource(real.href, bridgeUrl), shortCircuit: true };
  };
  const hooks = registerHooks({ resolve, load });
  return () => hooks.deregister();
}
