// The bundle's start chunk (what the preload loads to start the agent) rewritten to run from a V8 code
// cache (src/start-code/run.ts says why): its code becomes a script, `chunk-X.code.js`, a function that
// returns what the chunk exported, and `chunk-X.js` a shim that runs it and exports the same names,
// so that every other chunk and entry imports it unchanged.
//
// The script keeps the chunk's lines and columns (one line is added above them, and `import.meta.url`
// becomes a parameter of the same length), so the chunk's source map serves it with one line more.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

const URL_PARAMETER = '__sspiAgentUrl_';
if (URL_PARAMETER.length !== 'import.meta.url'.length) throw new Error('the URL parameter must keep the columns');

/** What a script cannot hold that an ES module can, each a reason the build stops. */
const MODULE_ONLY = [
  [/(?:^|[;}\n])\s*import(?:\s*[{*"']|\s+[\w$])/, 'a static import (the start chunk must import nothing: esbuild put shared code in another chunk?)'],
  [/(?<![.\w$])import\s*\(/, 'a dynamic import()'],
  [/import\.meta(?!\.url)/, 'an import.meta other than import.meta.url'],
  [/\b__esm\(/, 'a module esbuild initialises lazily (__esm), whose exports may be assigned after the shim copied them'],
];

/**
 * How often `name` is assigned in `code`: its declaration (esbuild writes a top-level `let` as `var`)
 * and any `=`, `op=`, `++` or `--` on it, a property of the same name aside. A function or class
 * declaration counts as one.
 */
function assignments(code, name) {
  const id = name.replace(/\$/g, '\\$');
  const declared = new RegExp(`(?<![.\\w$])(?:function\\*?|class)\\s+${id}(?![\\w$])`).test(code) ? 1 : 0;
  const assigned = code.match(new RegExp(`(?<![.\\w$])${id}\\s*(?:[-+*/%&|^]|\\*\\*|<<|>>>?|&&|\\|\\||\\?\\?)?=(?![=>])`, 'g'))?.length ?? 0;
  const stepped = code.match(new RegExp(`(?:\\+\\+|--)\\s*${id}(?![\\w$])|(?<![.\\w$])${id}\\s*(?:\\+\\+|--)`, 'g'))?.length ?? 0;
  return declared + assigned + stepped;
}

function exportsOf(text, chunk) {
  const m = /export\s*\{([^}]*)\}\s*;?\s*$/.exec(text);
  if (!m) throw new Error(`${chunk}: no export list at its end`);
  const names = m[1].split(',').map((s) => s.trim()).filter(Boolean);
  return { code: text.slice(0, m.index), names: names.map((n) => n.split(/\s+as\s+/)).map(([local, exported = local]) => ({ local, exported })) };
}

/** Rewrites `chunkPath` (bundled with `common`, esbuild's `build`) into the script and its shim. */
export async function runFromCodeCache(chunkPath, { build, common, dist }) {
  const chunk = basename(chunkPath);
  const text = readFileSync(chunkPath, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '');
  const { code, names } = exportsOf(text, chunk);
  for (const [pattern, what] of MODULE_ONLY) if (pattern.test(code)) throw new Error(`${chunk} holds ${what}: it cannot run as a script`);
  // The shim exports what the script returned, copied once: a binding assigned again later would not follow.
  const live = names.filter((n) => assignments(code, n.local) > 1);
  if (live.length) throw new Error(`${chunk} exports ${live.map((n) => n.local).join(', ')}, assigned more than once: the shim's copy would not follow`);
  const scriptName = chunk.replace(/\.js$/, '.code.js');
  const script =
    `(function(${URL_PARAMETER}){"use strict";\n` +
    code.replaceAll('import.meta.url', URL_PARAMETER) +
    `\nreturn{${names.map((n) => `${n.exported}:${n.local}`).join(',')}}})\n//# sourceMappingURL=${scriptName}.map\n`;
  new Script(script, { filename: scriptName }); // a syntax error stops the build, not an app's start
  const map = JSON.parse(readFileSync(`${chunkPath}.map`, 'utf8'));
  writeFileSync(join(dirname(chunkPath), `${scriptName}.map`), JSON.stringify({ ...map, file: scriptName, mappings: `;${map.mappings}` }));
  writeFileSync(join(dirname(chunkPath), scriptName), script);
  rmSync(`${chunkPath}.map`);
  const digest = createHash('sha256').update(script).digest('hex').slice(0, 16);
  const shim = [
    `import { runStartCode } from './start-code/run.js';`,
    `const code = runStartCode({ url: new URL(${JSON.stringify(`./${scriptName}`)}, import.meta.url), digest: ${JSON.stringify(digest)}, ascii: ${!/[^\x00-\x7f]/.test(script)}, moduleUrl: import.meta.url });`,
    `export const { ${names.map((n) => n.exported).join(', ')} } = code;`,
  ].join('\n');
  await build({ ...common, outdir: undefined, outbase: undefined, stdin: { contents: shim, resolveDir: dist, sourcefile: 'start-shim.js', loader: 'js' }, outfile: chunkPath });
}
