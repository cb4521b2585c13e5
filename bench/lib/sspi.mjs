// The two bindings every in-process comparison needs: one on `libwinpr2.so.2`, which the agent
// instruments, and one on the same library reached through a symlink with a name the agent does not
// match. The dynamic loader maps the file once, so both share WinPR's state; only the JS wrappers differ.
import koffi from 'koffi';
import { mkdtempSync, rmSync, symlinkSync, realpathSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSspi } from '../../examples/lib/sspi-binding.mjs';
import { writeSamFile } from '../../examples/lib/nt-hash.mjs';

export const WINPR = 'libwinpr2.so.2';
const WINPR_CANDIDATES = ['/usr/lib/x86_64-linux-gnu/libwinpr2.so.2', '/usr/lib/aarch64-linux-gnu/libwinpr2.so.2', '/usr/lib/libwinpr2.so.2'];

export const USER = { user: 'bench', domain: 'BENCH', password: 'bench-password-1' };

function winprPath() {
  const found = WINPR_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`${WINPR} not found in ${WINPR_CANDIDATES.join(', ')} (run scripts/setup.sh)`);
  return realpathSync(found);
}

/**
 * `{ raw, wrapped, samFile, settle, cleanup }`. Checks the premise: a credential acquired through `wrapped`
 * shows up in the agent's registry, one acquired through `raw` does not.
 */
export async function loadBindings() {
  const dir = mkdtempSync(join(tmpdir(), 'sspi-bench-'));
  const rawPath = join(dir, 'libraw-sspi.so');
  symlinkSync(winprPath(), rawPath);
  const samFile = writeSamFile(join(dir, 'SAM'), [USER]);
  const raw = loadSspi(koffi, rawPath);
  const wrapped = loadSspi(koffi, WINPR);
  const api = await import('sspi-agent/api');
  const before = api.snapshot().length;
  const rc = raw.acquireServerCredentials();
  const afterRaw = api.snapshot().length;
  const wc = wrapped.acquireServerCredentials();
  const afterWrapped = api.snapshot().length;
  raw.freeCredentials(rc);
  wrapped.freeCredentials(wc);
  if (afterRaw !== before || afterWrapped !== before + 1) {
    throw new Error(`instrumentation premise broken: live handles ${before} → raw ${afterRaw} → wrapped ${afterWrapped} (expected +0 then +1)`);
  }
  const { handles } = api.start();
  // The registry applies observed calls in batches: a timed run ends by applying what it left.
  const settle = () => handles.settled();
  return { raw, wrapped, samFile, api, settle, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One full NTLM conversation, checked once per binding before timing (a failing one is not a benchmark). */
export function checkedHandshake(binding, samFile) {
  const r = binding.handshake({ ...USER, samFile });
  if (r.clientStatus !== 0 || r.serverStatus !== 0) {
    throw new Error(`handshake through ${binding.libraryPath} failed: client ${r.clientStatus}, server ${r.serverStatus}`);
  }
}

/** The workloads of one op each, on one binding. */
export function operations(binding, samFile) {
  const fn = binding.raw;
  const out = [null];
  return {
    handshake: () => binding.handshake({ ...USER, samFile }),
    acquireFree: () => {
      const credential = {};
      fn.AcquireCredentialsHandleW(null, 'NTLM', 1, null, null, null, null, credential, {});
      fn.FreeCredentialsHandle(credential);
    },
    queryInfoFree: () => {
      fn.QuerySecurityPackageInfoW('NTLM', out);
      fn.FreeContextBuffer(out[0]);
    },
  };
}
