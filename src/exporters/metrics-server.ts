/**
 * The `/metrics` HTTP endpoint. It must never keep the app alive nor get in its way: the server and
 * every connection are unref'd, a taken port is one warning, and anything but `GET /metrics` is
 * answered without work.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';
import { agentError, debug, warn } from '../diagnostics.js';

// Taken from the built-in module, not imported, and only when an endpoint starts (a worker thread's
// agent and `SSPI_AGENT_METRICS_PORT=0` serve none): see "Start-up" in docs/architecture.md.
const net = () => process.getBuiltinModule('node:net');

/** `node:crypto`, loaded only where a token is set: a few MiB that an endpoint without one never needs. */
const crypto = () => process.getBuiltinModule('node:crypto');

function sha256(text: string): Buffer {
  return crypto().createHash('sha256').update(text).digest();
}

export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServer {
  /** Resolves with the bound port, or undefined when the endpoint could not start. */
  readonly ready: Promise<number | undefined>;
  close(): Promise<void>;
}

/** A slow or stuck client is cut off after this long; a scrape takes milliseconds. */
const REQUEST_TIMEOUT_MS = 5000;

/**
 * `Authorization: Bearer <token>` checked in constant time: both sides are hashed first, so neither
 * the comparison nor its length check says anything about the token.
 */
function authorized(req: IncomingMessage, tokenDigest: Buffer | undefined): boolean {
  if (!tokenDigest) return true;
  const header = req.headers.authorization ?? '';
  const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
  return crypto().timingSafeEqual(sha256(presented), tokenDigest);
}

async function answer(source: MetricsSource, req: IncomingMessage, res: ServerResponse, tokenDigest: Buffer | undefined): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the agent serves GET /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  if (!authorized(req, tokenDigest)) {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="sspi-agent"', 'content-type': 'text/plain' }).end('unauthorized\n');
    return;
  }
  const body = await source.metrics();
  res.writeHead(200, { 'content-type': source.contentType });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * The HTTP side of the endpoint, made at its first connection: the port is bound with `node:net`, and
 * `node:http` (a few milliseconds of every start) is loaded only once something connects.
 */
function httpServer(source: MetricsSource, tokenDigest: Buffer | undefined): HttpServer {
  const server = process.getBuiltinModule('node:http').createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, maxHeaderSize: 8192 },
    (req, res) => {
      answer(source, req, res, tokenDigest).catch((err) => {
        agentError('metrics-endpoint', err);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    },
  );
  // It is handed the bound port's connections rather than listening itself; its 'listening' starts
  // the periodic check that enforces the request and header timeouts on them.
  server.emit('listening');
  return server;
}

export function startMetricsServer(source: MetricsSource, host: string, port: number, token = ''): MetricsServer {
  const tokenDigest = token ? sha256(token) : undefined;
  let http: HttpServer | undefined;
  const server: Server = net().createServer((socket: Socket) => {
    socket.unref();
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    try {
      (http ??= httpServer(source, tokenDigest)).emit('connection', socket);
    } catch (err) {
      agentError('metrics-endpoint', err);
      socket.destroy();
    }
  });
  // Ref'd until bound: the preload waits for this, and an empty loop would end the process meanwhile.
  const ready = new Promise<number | undefined>((resolve) => {
    // `on`, not `once`: an 'error' with no listener later would throw into the app.
    server.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is in use' : `cannot be bound (${err.code ?? err.message})`;
      warn(
        `metrics endpoint not started: ${host}:${port} ${why}; set SSPI_AGENT_METRICS_PORT to a free port, or 0 for no endpoint`,
      );
      resolve(undefined);
    });
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      debug(`metrics at http://${host}:${bound}/metrics`);
      resolve(bound);
    });
  }).finally(() => server.unref());
  return {
    ready,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        http?.close();
      }),
  };
}
