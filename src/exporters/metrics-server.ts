/**
 * The `/metrics` HTTP endpoint. It must never keep the app alive nor get in its way: the server and
 * every connection are unref'd, a taken port is one warning, and anything but `GET /metrics` is
 * answered without work.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentError, debug, warn } from '../diagnostics.js';

export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServer {
  /** Resolves with the bound port, or undefined when the endpoint could not start. */
  readonly ready: Promise<number | undefined>;
  close(): Promise<void>;
}

async function answer(source: MetricsSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the agent serves GET /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  const body = await source.metrics();
  res.writeHead(200, { 'content-type': source.contentType });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function startMetricsServer(source: MetricsSource, host: string, port: number): MetricsServer {
  const server: Server = createServer((req, res) => {
    answer(source, req, res).catch((err) => {
      agentError('metrics-endpoint', err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('connection', (socket) => socket.unref());
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
  });
  server.unref();
  return {
    ready,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
