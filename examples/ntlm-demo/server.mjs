// An HTTP server that authenticates its clients with NTLM, the classic way:
//   GET /            → 401, WWW-Authenticate: NTLM
//   Authorization: NTLM <NEGOTIATE>    → 401, WWW-Authenticate: NTLM <CHALLENGE>
//   Authorization: NTLM <AUTHENTICATE> → 200 "hello DEMO\alice", or 401 when the login is rejected
//   any other SSPI failure (a garbage token…) → 500, the conversation ended
//
// It has THE CLASSIC BUG on purpose: a rejected login's security context is forgotten without
// DeleteSecurityContext. DEMO_FIX_LEAK=1 switches the bug off.
//
// Environment: DEMO_PORT (default 0, an ephemeral port), DEMO_FIX_LEAK, and on WinPR the one user
// it knows: DEMO_USER, DEMO_DOMAIN, DEMO_PASSWORD (default DEMO\alice, Secret-Pa55). On Windows
// the machine's own accounts log in and those three are not read. Prints
// `listening on http://127.0.0.1:<port>` when ready.
import http from 'node:http';
import koffi from 'koffi';
import { loadSspi, isError, statusName, SEC_I_CONTINUE_NEEDED } from '../lib/sspi-binding.mjs';
import { demoUser, userDatabase } from './users.mjs';

const FIX_LEAK = process.env.DEMO_FIX_LEAK === '1';
const PORT = Number(process.env.DEMO_PORT ?? 0);
const NTLM_NEGOTIATE = 1;

const sspi = loadSspi(koffi);
const users = userDatabase(sspi, [demoUser()]);
const credential = sspi.acquireServerCredentials();

// NTLM authenticates the connection, not the request: one conversation per socket,
// { context, user }, where user is set once the handshake succeeded. A Map rather than a
// WeakMap so that shutdown can delete the contexts of connections still open; a socket's
// entry goes when the socket closes.
const conversations = new Map();

const server = http.createServer(handle);
server.on('connection', (socket) => socket.once('close', () => endConversation(socket)));
server.listen(PORT, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

function handle(req, res) {
  if (req.url === '/healthz') return reply(res, 200, 'ok');
  try {
    authenticateRequest(req, res);
  } catch (err) {
    endConversation(req.socket);
    reply(res, 500, `error: ${err.message}`);
  }
}

function authenticateRequest(req, res) {
  const conversation = conversations.get(req.socket);
  const token = ntlmToken(req.headers.authorization);
  if (!token) {
    if (conversation?.user) return reply(res, 200, `hello ${conversation.user}`);
    return challenge(res);
  }
  // A NEGOTIATE on a connection that already talked NTLM: the client starts over.
  if (conversation && messageType(token) === NTLM_NEGOTIATE) endConversation(req.socket);

  const context = conversations.get(req.socket)?.context ?? null;
  const step = sspi.acceptContext(credential, context, token, { samFile: users.samFile });
  if (step.rejected) return reject(req.socket, step.context, res);
  if (isError(step.status)) return fail(req.socket, step, res);
  if (step.status === SEC_I_CONTINUE_NEEDED) {
    conversations.set(req.socket, { context: step.context, user: null });
    return challenge(res, step.token);
  }
  const user = userOf(token);
  conversations.set(req.socket, { context: step.context, user });
  reply(res, 200, `hello ${user}`);
}

function reject(socket, context, res) {
  conversations.delete(socket);
  // THE CLASSIC BUG: the failed handshake's context is dropped without DeleteSecurityContext.
  if (FIX_LEAK && context) sspi.deleteContext(context);
  challenge(res);
}

// Not a verdict on the user (a garbage token, a call the provider does not support): a bare
// challenge here would send an NTLM client round again without end, so the conversation ends, its
// context deleted, and the client hears that the server failed.
function fail(socket, step, res) {
  const earlier = conversations.get(socket)?.context;
  endConversation(socket);
  if (step.context && step.context !== earlier) sspi.deleteContext(step.context);
  res.setHeader('Connection', 'close');
  reply(res, 500, `authentication failed: ${statusName(step.status)}`);
}

function endConversation(socket) {
  const conversation = conversations.get(socket);
  if (!conversation) return;
  conversations.delete(socket);
  sspi.deleteContext(conversation.context);
}

function challenge(res, token) {
  res.setHeader('WWW-Authenticate', token ? `NTLM ${token.toString('base64')}` : 'NTLM');
  reply(res, 401, 'authentication required');
}

function reply(res, status, text) {
  const body = `${text}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function ntlmToken(authorization) {
  const match = /^NTLM\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  return match ? Buffer.from(match[1], 'base64') : null;
}

// NTLM messages start with "NTLMSSP\0" and a 32-bit message type (MS-NLMP 2.2.1).
function messageType(token) {
  return token.length >= 12 ? token.readUInt32LE(8) : 0;
}

// The AUTHENTICATE message carries the user's domain and name (UTF-16LE, as the client
// negotiated Unicode); SSPI has just verified them.
function userOf(authenticate) {
  const field = (offset) => {
    const length = authenticate.readUInt16LE(offset);
    const start = authenticate.readUInt32LE(offset + 4);
    return authenticate.subarray(start, start + length).toString('utf16le');
  };
  return `${field(28)}\\${field(36)}`;
}

// Deletes the contexts of connections still open, frees the credential, then exits: the order
// SSPI asks of a server that goes away.
function shutdown() {
  server.close();
  server.closeAllConnections();
  for (const socket of [...conversations.keys()]) endConversation(socket);
  sspi.freeCredentials(credential);
  users.remove();
  process.exit(0);
}
