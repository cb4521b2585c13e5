/**
 * Reads what an ISC/ASC call's token shows of the package behind Negotiate (sspi/negotiation-tokens.ts),
 * while the token is still there: after the call returns, in the call's own turn. A token the app
 * holds in a JS Buffer is read in JS; one behind a pointer costs one 8-byte read through koffi
 * (0.3–0.5 µs measured), which rules NTLM in or most tokens out, and a GSS or SPNEGO token one more
 * read of its first 64 bytes (about 2 µs).
 *
 * A shape the agent does not know tells nothing (no verdict); an exception is the agent's error,
 * counted, and the call goes on without a verdict.
 */
import { classifyToken, isFramedToken, NTLMSSP_WORD, TOKEN_PREFIX_BYTES, type TokenVerdict } from '../sspi/negotiation-tokens.js';
import { agentError } from '../diagnostics.js';
import type { SspiFunction } from '../sspi/functions.js';
import { readSecBuffer, type NativeMemory } from './handle-shapes.js';

const SECBUFFER_TOKEN = 2;
const NTLM = classifyToken(Buffer.from('NTLMSSP\0'))!;

/**
 * The server's token where the call has one (ISC's input, ASC's output), else the client's. A token
 * the agent cannot read tells nothing: a shape it does not know is no error of the app's or its own.
 */
export function tokenVerdict(fn: SspiFunction, args: unknown[], memory: NativeMemory): TokenVerdict | undefined {
  const client = fn.role === 'init-context';
  try {
    return verdictOf(args, client ? fn.inputArg : fn.outputArg, memory) ?? verdictOf(args, client ? fn.outputArg : fn.inputArg, memory);
  } catch (err) {
    agentError('hook.token', err);
    return undefined;
  }
}

function verdictOf(args: unknown[], position: number | undefined, memory: NativeMemory): TokenVerdict | undefined {
  if (position === undefined) return undefined;
  const token = readSecBuffer(args[position], SECBUFFER_TOKEN, memory);
  if (!token || token.size < 8) return undefined;
  const length = Math.min(token.size, TOKEN_PREFIX_BYTES);
  const data = token.data;
  if (data instanceof Uint8Array) return classifyToken(data.subarray(0, length));
  const word = memory.word(data);
  if (word === undefined) return undefined;
  if (word === NTLMSSP_WORD) return NTLM;
  if (!isFramedToken(Number(word & 0xffn))) return undefined;
  const bytes = memory.bytes(data, length);
  return bytes ? classifyToken(bytes) : undefined;
}

/** For bindings that hand tokens to JS (node-expose-sspi: ArrayBuffers): the server's token if any, else the client's. */
export function jsTokenVerdict(server: unknown, client: unknown): TokenVerdict | undefined {
  try {
    return bytesVerdict(server) ?? bytesVerdict(client);
  } catch (err) {
    // A detached ArrayBuffer, say: without a verdict the call is still recorded.
    agentError('hook.token', err);
    return undefined;
  }
}

function bytesVerdict(token: unknown): TokenVerdict | undefined {
  const bytes = token instanceof ArrayBuffer ? new Uint8Array(token) : ArrayBuffer.isView(token) ? new Uint8Array(token.buffer, token.byteOffset, token.byteLength) : undefined;
  return bytes && bytes.length >= 8 ? classifyToken(bytes.subarray(0, TOKEN_PREFIX_BYTES)) : undefined;
}
