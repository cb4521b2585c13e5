// A local OTLP/HTTP receiver for the tests: listens on 127.0.0.1, keeps every request body as it
// arrived (to grep for secrets), and decodes OTLP/JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) into
// plain spans and metric points.
import http from 'node:http';

/** An OTLP AnyValue as a plain JS value. */
function anyValue(v) {
  if (v === undefined || v === null) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(anyValue);
  if ('kvlistValue' in v) return attributes(v.kvlistValue.values);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}

/** OTLP key/value lists as an object. */
export function attributes(list = []) {
  return Object.fromEntries(list.map(({ key, value }) => [key, anyValue(value)]));
}

export async function startReceiver() {
  const requests = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ path: req.url, contentType: req.headers['content-type'], body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();

  const json = (path) => requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body.toString('utf8')));

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    /** Every span received: name, ids, parent, status, attributes, links, and its resource's attributes. */
    spans() {
      const out = [];
      for (const payload of json('/v1/traces')) {
        for (const rs of payload.resourceSpans ?? []) {
          const resource = attributes(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              out.push({
                name: s.name,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                status: s.status ?? {},
                attributes: attributes(s.attributes),
                links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attributes(l.attributes) })),
                scope: ss.scope?.name,
                resource,
              });
            }
          }
        }
      }
      return out;
    },
    /** Every metric point received: name → [{ attributes, value }] (last export wins; histograms: { count, sum }). */
    metrics() {
      const out = {};
      for (const payload of json('/v1/metrics')) {
        for (const rm of payload.resourceMetrics ?? []) {
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              const data = m.sum ?? m.gauge ?? m.histogram;
              out[m.name] = (data?.dataPoints ?? []).map((p) => ({
                attributes: attributes(p.attributes),
                value: m.histogram ? { count: Number(p.count), sum: p.sum } : p.asDouble ?? Number(p.asInt),
              }));
            }
          }
        }
      }
      return out;
    },
    /** Every body as received, for grepping. */
    raw: () => Buffer.concat(requests.map((r) => r.body)),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
