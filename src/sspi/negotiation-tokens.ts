/**
 * Which package a Negotiate context actually runs, read from the leading bytes of a token it
 * exchanged: a raw NTLM message ("NTLMSSP\0"), a GSS-API token whose mechanism OID is Kerberos, or a
 * SPNEGO token (RFC 4178) naming a mechanism. Windows wraps Negotiate's tokens in SPNEGO: the
 * client's NegTokenInit proposes mechanisms (its first one is the one its optimistic token is for),
 * and the server's first NegTokenResp names the one chosen (`supportedMech`), which settles it.
 * Wine's Negotiate sends the raw Kerberos or NTLM token. Only a prefix is read: no token content
 * beyond the framing and the first OID, and never a secret.
 */

export type NegotiatedPackage = 'Kerberos' | 'NTLM';

/** The `negotiated` label's values: bounded, whatever tokens arrive. */
export const NEGOTIATED_LABELS = ['Kerberos', 'NTLM', 'unknown'] as const;
export type NegotiatedLabel = (typeof NEGOTIATED_LABELS)[number];

/** The package a token shows, and whether it settles the question or only proposes (NegTokenInit). */
export interface TokenVerdict {
  readonly pkg: NegotiatedPackage;
  readonly settled: boolean;
}

// Shared verdicts: classifying a token allocates nothing.
const SETTLED: Record<NegotiatedPackage, TokenVerdict> = { Kerberos: { pkg: 'Kerberos', settled: true }, NTLM: { pkg: 'NTLM', settled: true } };
const PROPOSED: Record<NegotiatedPackage, TokenVerdict> = { Kerberos: { pkg: 'Kerberos', settled: false }, NTLM: { pkg: 'NTLM', settled: false } };

/** "NTLMSSP\0", the first 8 bytes of every NTLM message, as a little-endian 64-bit word. */
export const NTLMSSP_WORD = 0x005053534d4c544en;

/** How many leading bytes a GSS or SPNEGO token needs read: its framing and first mechanism OID. */
export const TOKEN_PREFIX_BYTES = 64;

const GSS_INITIAL_CONTEXT_TOKEN = 0x60;
const NEG_TOKEN_INIT = 0xa0;
const NEG_TOKEN_RESP = 0xa1;
const SEQUENCE = 0x30;
const OID = 0x06;

/** Whether a token starting with `firstByte` may be a GSS or SPNEGO one, worth reading a prefix of. */
export function isFramedToken(firstByte: number): boolean {
  return firstByte === GSS_INITIAL_CONTEXT_TOKEN || firstByte === NEG_TOKEN_RESP;
}

const oid = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));

/** Mechanism OIDs (DER content bytes) and their package. */
const MECHANISMS: ReadonlyArray<readonly [Uint8Array, NegotiatedPackage]> = [
  [oid('2a864886f712010202'), 'Kerberos'], // 1.2.840.113554.1.2.2
  [oid('2a864882f712010202'), 'Kerberos'], // 1.2.840.48018.1.2.2, Microsoft's Kerberos OID
  [oid('2a864886f71201020203'), 'Kerberos'], // 1.2.840.113554.1.2.2.3, Kerberos user to user
  [oid('2b06010401823702020a'), 'NTLM'], // 1.3.6.1.4.1.311.2.2.10
];
const SPNEGO_OID = oid('2b0601050502'); // 1.3.6.1.5.5.2
const NTLMSSP = Uint8Array.from(Buffer.from('NTLMSSP\0', 'latin1'));

/** One DER element's tag and where its content runs (`end` may lie past a prefix's end). */
interface Element {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

function element(b: Uint8Array, at: number): Element | undefined {
  if (at + 2 > b.length) return undefined;
  const tag = b[at]!;
  let length = b[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n < 1 || n > 3 || start + n > b.length) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + b[start++]!;
  }
  return { tag, start, end: start + length };
}

/** The element at `at` if it has `tag`. */
function expect(b: Uint8Array, at: number, tag: number): Element | undefined {
  const e = element(b, at);
  return e?.tag === tag ? e : undefined;
}

/** Whether `b` holds `bytes` from `at`. */
function holds(b: Uint8Array, at: number, bytes: Uint8Array): boolean {
  if (at + bytes.length > b.length) return false;
  for (let i = 0; i < bytes.length; i++) if (b[at + i] !== bytes[i]) return false;
  return true;
}

/** The OID element at `at`, whole within the prefix. */
function oidAt(b: Uint8Array, at: number): Element | undefined {
  const e = expect(b, at, OID);
  return e && e.end <= b.length ? e : undefined;
}

/** The package of the mechanism OID at `at`. */
function mechanismAt(b: Uint8Array, at: number): NegotiatedPackage | undefined {
  const e = oidAt(b, at);
  if (!e) return undefined;
  for (const [bytes, pkg] of MECHANISMS) if (e.end - e.start === bytes.length && holds(b, e.start, bytes)) return pkg;
  return undefined;
}

/** NegTokenInit's first mechType: `[0] { SEQUENCE { [0] mechTypes SEQUENCE OF OID, … } }`. */
function firstProposed(b: Uint8Array, at: number): TokenVerdict | undefined {
  const init = expect(b, at, NEG_TOKEN_INIT);
  const seq = init && expect(b, init.start, SEQUENCE);
  const types = seq && expect(b, seq.start, NEG_TOKEN_INIT);
  const list = types && expect(b, types.start, SEQUENCE);
  const pkg = list && mechanismAt(b, list.start);
  return pkg ? PROPOSED[pkg] : undefined;
}

/** NegTokenResp's supportedMech: `[1] { SEQUENCE { [0] negState?, [1] supportedMech?, … } }`. */
function chosen(b: Uint8Array, at: number): TokenVerdict | undefined {
  const resp = expect(b, at, NEG_TOKEN_RESP);
  const seq = resp && expect(b, resp.start, SEQUENCE);
  if (!seq) return undefined;
  for (let e = element(b, seq.start); e && e.start <= b.length; e = element(b, e.end)) {
    if (e.tag === NEG_TOKEN_RESP) {
      const pkg = mechanismAt(b, e.start);
      return pkg ? SETTLED[pkg] : undefined;
    }
    if (e.tag > NEG_TOKEN_RESP) return undefined;
  }
  return undefined;
}

/** What a token's leading bytes say; undefined when they say nothing (an unknown or truncated token). */
export function classifyToken(b: Uint8Array): TokenVerdict | undefined {
  if (holds(b, 0, NTLMSSP)) return SETTLED.NTLM;
  if (b[0] === NEG_TOKEN_RESP) return chosen(b, 0);
  const gss = expect(b, 0, GSS_INITIAL_CONTEXT_TOKEN);
  const mech = gss && oidAt(b, gss.start);
  if (!mech) return undefined;
  if (mech.end - mech.start === SPNEGO_OID.length && holds(b, mech.start, SPNEGO_OID)) return firstProposed(b, mech.end);
  const pkg = mechanismAt(b, gss.start);
  return pkg ? SETTLED[pkg] : undefined;
}
