/**
 * ESM loader hooks (registered with `module.register` by the preload; they run on Node's loader
 * thread, so this file imports nothing of the agent). An import of koffi's ES module entry is
 * redirected to a shim that re-exports it with `load` and `default` instrumented on the main thread.
 */

const SHIM_PARAM = 'sspi-agent-shim';

/** koffi's ES entries: `koffi` and `koffi/indirect`. */
const KOFFI_ESM_ENTRY = /[\\/]node_modules[\\/]koffi[\\/](index|indirect)\.m?js$/;

let bridgeUrl = '';

interface InitializeData {
  bridgeUrl: string;
}

interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<ResolveResult>;
interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
}

interface LoadResult {
  format: string;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}
type NextLoad = (url: string, context: object) => Promise<LoadResult>;

export function initialize(data: InitializeData): void {
  bridgeUrl = data.bridgeUrl;
}

function isShim(url: string | undefined): boolean {
  return url !== undefined && new URL(url).searchParams.has(SHIM_PARAM);
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  const resolved = await next(specifier, context);
  // koffi 2 is CommonJS: the require hook sees it. A loader earlier in the chain may leave format unset.
  if (!bridgeUrl || resolved.format === 'commonjs' || isShim(context.parentURL) || !resolved.url.startsWith('file:')) return resolved;
  const url = new URL(resolved.url);
  if (!KOFFI_ESM_ENTRY.test(url.pathname) || url.searchParams.has(SHIM_PARAM)) return resolved;
  url.searchParams.set(SHIM_PARAM, '1');
  return { ...resolved, url: url.href };
}

export async function load(url: string, context: object, next: NextLoad): Promise<LoadResult> {
  if (!url.startsWith('file:') || !isShim(url)) return next(url, context);
  const real = new URL(url);
  real.searchParams.delete(SHIM_PARAM);
  const target = JSON.stringify(real.href);
  // Explicit exports shadow the star export's `load`; `export *` never carries `default`.
  const source = [
    `import * as ns from ${target};`,
    `import { instrumentKoffiNamespace } from ${JSON.stringify(bridgeUrl)};`,
    `const instrumented = instrumentKoffiNamespace(ns);`,
    `export * from ${target};`,
    `export default instrumented.default;`,
    `export const load = instrumented.load;`,
  ].join('\n');
  return { format: 'module', source, shortCircuit: true };
}
