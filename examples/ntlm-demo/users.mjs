// Who may log in to the demo. WinPR checks NTLM passwords against a SAM file the server writes;
// Windows (and Wine's secur32.dll) checks the machine's own accounts, so there the server writes
// nothing and the client must log in as one of them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSamFile } from '../lib/nt-hash.mjs';

/** The demo's user: DEMO_USER, DEMO_DOMAIN, DEMO_PASSWORD, by default DEMO\alice with Secret-Pa55. */
export function demoUser(env = process.env) {
  return { user: env.DEMO_USER || 'alice', domain: env.DEMO_DOMAIN || 'DEMO', password: env.DEMO_PASSWORD ?? 'Secret-Pa55' };
}

/** `{ samFile, remove() }`: a SAM file of `users` in a temp dir on WinPR, no file elsewhere. */
export function userDatabase(sspi, users) {
  if (sspi.provider !== 'winpr') return { samFile: undefined, remove() {} };
  const dir = mkdtempSync(join(tmpdir(), 'ntlm-demo-'));
  const samFile = writeSamFile(join(dir, 'SAM'), users);
  return { samFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
