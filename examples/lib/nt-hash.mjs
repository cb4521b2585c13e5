// NT hashes for WinPR's SAM file. Node's crypto only offers MD4 behind OpenSSL's legacy
// provider (--openssl-legacy-provider), so a small pure-JS MD4 (RFC 1320) lives here.
import { writeFileSync } from 'node:fs';

/** RFC 1320, appendix A.5: a self-check any test can run with `md4(input).toString('hex')`. */
export const MD4_TEST_VECTORS = Object.freeze([
  ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
  ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
  ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
  ['message digest', 'd9130a8164549fe818874806e1c7014b'],
  ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
  ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
  ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
].map(([input, hex]) => Object.freeze({ input, hex })));

const rotl = (x, n) => (x << n) | (x >>> (32 - n));
const F = (x, y, z) => (x & y) | (~x & z);
const G = (x, y, z) => (x & y) | (x & z) | (y & z);
const H = (x, y, z) => x ^ y ^ z;

// Per round: the order in which the 16 message words are used, and the 4 shift amounts.
const ROUNDS = [
  { fn: F, k: 0, order: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], shifts: [3, 7, 11, 19] },
  { fn: G, k: 0x5a827999, order: [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15], shifts: [3, 5, 9, 13] },
  { fn: H, k: 0x6ed9eba1, order: [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15], shifts: [3, 9, 11, 15] },
];

/** Message plus RFC 1320 padding: 0x80, zeros to 56 mod 64, then the bit length as 64-bit LE. */
function pad(message) {
  const paddedLength = (((message.length + 8) >> 6) + 1) << 6;
  const padded = Buffer.alloc(paddedLength);
  message.copy(padded);
  padded[message.length] = 0x80;
  padded.writeBigUInt64LE(BigInt(message.length) * 8n, paddedLength - 8);
  return padded;
}

function compressBlock(state, block, offset) {
  const x = new Array(16);
  for (let i = 0; i < 16; i++) x[i] = block.readUInt32LE(offset + 4 * i);
  // Registers rotate a→d→c→b each step; `v` holds them so the step formula stays one line.
  const v = [...state];
  for (const { fn, k, order, shifts } of ROUNDS) {
    for (let step = 0; step < 16; step++) {
      const a = (4 - (step % 4)) % 4;
      const [b, c, d] = [(a + 1) % 4, (a + 2) % 4, (a + 3) % 4];
      v[a] = rotl((v[a] + fn(v[b], v[c], v[d]) + x[order[step]] + k) | 0, shifts[step % 4]);
    }
  }
  for (let i = 0; i < 4; i++) state[i] = (state[i] + v[i]) | 0;
}

/** MD4 digest (16 bytes) of a Buffer or a UTF-8 string. */
export function md4(data) {
  const padded = pad(Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'));
  const state = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  for (let offset = 0; offset < padded.length; offset += 64) compressBlock(state, padded, offset);
  const digest = Buffer.alloc(16);
  state.forEach((word, i) => digest.writeInt32LE(word, 4 * i));
  return digest;
}

/** NT hash: MD4 of the UTF-16LE password, as lowercase hex (WinPR accepts either case). */
export function ntHash(password) {
  return md4(Buffer.from(password, 'utf16le')).toString('hex');
}

/** One WinPR SAM line: `user:DOMAIN::<NT hash>:::`. */
export function samLine(user, domain, password) {
  return `${user}:${domain}::${ntHash(password)}:::`;
}

/** Writes a SAM file for `users` ([{ user, domain, password }]), readable by this user only. */
export function writeSamFile(path, users) {
  const lines = users.map(({ user, domain, password }) => samLine(user, domain, password));
  writeFileSync(path, lines.join('\n') + '\n', { mode: 0o600 });
  return path;
}
