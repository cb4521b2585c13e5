/**
 * Which loaded libraries are SSPI providers: matched by file name (the Windows DLLs, WinPR's shared
 * objects) or, for names a user adds, by absolute path.
 */
// Taken from the built-in modules, not imported: see "Start-up" in docs/architecture.md.
const { existsSync } = process.getBuiltinModule('node:fs');
const { basename, isAbsolute, resolve } = process.getBuiltinModule('node:path');

export const DEFAULT_PROVIDER_NAMES: readonly string[] = [
  'secur32.dll',
  'sspicli.dll',
  'security.dll',
  'libwinpr2.so*',
  'libwinpr3.so*',
];

export interface ProviderMatcher {
  /** The label the agent records for a provider, or undefined when `path` is not one. */
  match(path: unknown): string | undefined;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** Windows' loader appends `.dll` to a bare name, so `koffi.load('secur32')` is secur32.dll. */
function fileNameOf(path: string): string {
  const name = basename(path.replace(/\\/g, '/')).toLowerCase();
  return process.platform === 'win32' && !name.includes('.') ? name + '.dll' : name;
}

function normalPath(path: string): string {
  const p = resolve(path);
  return process.platform === 'win32' ? p.toLowerCase() : p;
}

/**
 * `extra` entries are file-name patterns or absolute paths. An absolute path that does not exist is
 * reported through `report` (probably a typo) and still matched, in case the file appears later.
 */
export function providerMatcher(extra: readonly string[], report: (message: string) => void): ProviderMatcher {
  const patterns: RegExp[] = [];
  const paths = new Set<string>();
  for (const entry of [...DEFAULT_PROVIDER_NAMES, ...extra]) {
    if (isAbsolute(entry) || /^[a-zA-Z]:[\\/]/.test(entry)) {
      if (!existsSync(entry)) report(`SSPI_AGENT_LIBRARIES names ${entry}, which does not exist; it is matched if it appears later`);
      paths.add(normalPath(entry));
    } else if (/[\\/]/.test(entry)) {
      report(`SSPI_AGENT_LIBRARIES entry ${entry} is neither a file name nor an absolute path; it is ignored`);
    } else {
      patterns.push(globToRegExp(entry));
    }
  }
  return {
    match(path) {
      if (typeof path !== 'string' || path === '') return undefined;
      const name = fileNameOf(path);
      if (patterns.some((re) => re.test(name))) return name;
      if (paths.size > 0 && paths.has(normalPath(path))) return name;
      return undefined;
    },
  };
}
