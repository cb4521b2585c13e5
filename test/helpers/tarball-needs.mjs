// What an unpacked tarball holds and what its files need: every relative import of its modules and
// declarations, every exports/bin/types target of its package.json, and every package its modules
// import declared as a dependency or peer dependency.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, sep } from 'node:path';

/** Every file under `dir`, as paths relative to it with `/` separators. */
export function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split(sep).join('/'));
}

/** Every string target of a package.json `exports` value (conditions nested at any depth). */
function exportTargets(value) {
  if (typeof value === 'string') return [value];
  return Object.values(value ?? {}).flatMap(exportTargets);
}

/** The module specifiers a built file names: imports, re-exports, `require`, `new URL(…, import.meta.url)`. */
function specifiersOf(code) {
  const found = [];
  const patterns = [
    /(?<![.\w$'"-])(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g,
    /\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bcreateRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bnew URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  for (const pattern of patterns) for (const [, specifier] of code.matchAll(pattern)) found.push(specifier);
  return found;
}

const packageName = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
const isBuiltin = (specifier) => specifier.startsWith('node:') || builtinModules.includes(specifier);

/** What a packed file needs and the tarball does not give: missing relative targets, undeclared packages. */
export function unmetNeeds(unpacked, manifest) {
  const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
  const unmet = [];
  for (const file of filesUnder(unpacked).filter((f) => /\.(c|m)?js$|\.d\.(c|m)?ts$/.test(f))) {
    const declaration = /\.d\.(c|m)?ts$/.test(file);
    for (const specifier of specifiersOf(readFileSync(join(unpacked, file), 'utf8'))) {
      if (specifier.startsWith('.')) {
        // A declaration's `./x.js` is read from `./x.d.ts`.
        const target = declaration ? specifier.replace(/\.(c|m)?js$/, '.d.$1ts') : specifier;
        if (!existsSync(join(unpacked, dirname(file), target))) unmet.push(`${file}: ${target} (not in the tarball)`);
      } else if (!isBuiltin(specifier) && !declared.has(packageName(specifier))) {
        unmet.push(`${file}: ${specifier} (not a dependency or peer dependency)`);
      }
    }
  }
  for (const target of [...exportTargets(manifest.exports), ...Object.values(manifest.bin ?? {}), manifest.main, manifest.types].filter(Boolean)) {
    if (!existsSync(join(unpacked, target))) unmet.push(`package.json: ${target} (not in the tarball)`);
  }
  return unmet;
}
