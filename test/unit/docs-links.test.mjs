// The README is an on-ramp into docs/: every relative link between them (and the runbook) must reach a
// file that exists, and a `#anchor` a heading that exists, so that moving a section cannot strand a link.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = join(ROOT, 'docs');
const PAGES = [join(ROOT, 'README.md'), join(ROOT, 'dashboards', 'runbook.md'), ...readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => join(DOCS, f))];

/** Fenced code blocks hold examples, not links. */
function withoutCode(text) {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor for each heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
export function anchorsOf(text) {
  const anchors = new Set();
  const seen = new Map();
  for (const [, heading] of withoutCode(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The relative links of a Markdown page that lead nowhere, as `target (reason)`. */
export function brokenLinks(file, text) {
  const broken = [];
  for (const [, target] of withoutCode(text).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path, anchor] = target.split('#');
    const resolved = path === '' ? file : join(dirname(file), decodeURIComponent(path));
    if (!existsSync(resolved)) {
      broken.push(`${target} (no such file)`);
      continue;
    }
    if (anchor === undefined || !resolved.endsWith('.md') || !statSync(resolved).isFile()) continue;
    const headings = anchorsOf(path === '' ? text : readFileSync(resolved, 'utf8'));
    if (!headings.has(anchor)) broken.push(`${target} (no such heading)`);
  }
  return broken;
}

describe('README and docs/ links', function () {
  for (const page of PAGES) {
    it(`every relative link of ${relative(ROOT, page)} resolves`, function () {
      assert.deepEqual(brokenLinks(page, readFileSync(page, 'utf8')), []);
    });
  }

  it('links the README to every page of docs/', function () {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const page of readdirSync(DOCS).filter((f) => f.endsWith('.md'))) assert.ok(readme.includes(`](docs/${page})`), page);
  });

  it('finds a missing file and a missing heading (the check itself can fail)', function () {
    const page = join(ROOT, 'README.md');
    const text = '# Top\n\n[a](docs/nowhere.md) [b](docs/architecture.md#no-such-heading) [c](#top) [d](https://example.com/x)\n';
    assert.deepEqual(brokenLinks(page, text), ['docs/nowhere.md (no such file)', 'docs/architecture.md#no-such-heading (no such heading)']);
  });

  it('gives docs/performance.md the markers `node bench/run.mjs --docs` writes the table between', function () {
    const text = readFileSync(join(DOCS, 'performance.md'), 'utf8');
    const start = text.indexOf('<!-- bench-table:start -->');
    assert.ok(start >= 0 && text.indexOf('<!-- bench-table:end -->') > start);
  });
});
