// No secrets: whatever the agent says — /metrics, its warnings and debug lines on stderr, the exit
// report, the JSON report, and what it exports over OTLP — must not contain the password (UTF-8 or
// UTF-16LE, raw or base64), its NT hash, the user or domain name, the target name, or the bytes of
// any NTLM message (raw, hex or base64). Principal and target names are not recorded at all: the
// agent reads only the package name and the credential use from AcquireCredentialsHandle.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ntHash } from '../../examples/lib/nt-hash.mjs';
import { freePort } from '../../examples/lib/free-port.mjs';
import { startReceiver } from '../helpers/otlp-receiver.mjs';
import { explain, runApp } from '../helpers/run-app.mjs';

const unique = () => randomBytes(6).toString('hex');

/** Every encoding in which a secret could leak into text or a binary payload. */
function forms(label, value) {
  const bytes = Buffer.isBuffer(value) ? value : undefined;
  const text = bytes ? undefined : value;
  const out = [];
  if (text !== undefined) {
    for (const enc of ['utf8', 'utf16le']) {
      out.push([`${label} (${enc})`, Buffer.from(text, enc)]);
      out.push([`${label} (${enc}, base64)`, Buffer.from(Buffer.from(text, enc).toString('base64'))]);
    }
  } else {
    out.push([`${label} (raw)`, bytes]);
    out.push([`${label} (hex)`, Buffer.from(bytes.toString('hex'))]);
    out.push([`${label} (HEX)`, Buffer.from(bytes.toString('hex').toUpperCase())]);
    out.push([`${label} (base64)`, Buffer.from(bytes.toString('base64'))]);
  }
  return out;
}

describe('robustness: no secrets in anything the agent produces', function () {
  this.timeout(60_000);
  let receiver;
  before(async () => (receiver = await startReceiver()));
  after(async () => receiver?.close());

  it('never shows the password, its NT hash, the user, domain or target name, or token bytes', async function () {
    const secret = {
      SECRET_USER: `u${unique()}`,
      SECRET_DOMAIN: `D${unique().toUpperCase()}`,
      SECRET_PASSWORD: `Pw-${unique()}-${unique()}`,
      SECRET_WRONG_PASSWORD: `Wrong-${unique()}`,
      SECRET_TARGET: `HTTP/host-${unique()}`,
    };
    const port = await freePort();
    const run = await runApp('robustness/secrets.mjs', {
      env: {
        ...secret,
        SSPI_AGENT_METRICS_PORT: String(port),
        SSPI_AGENT_STACKS: 'all',
        SSPI_AGENT_DEBUG: '1',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      },
    });
    assert.equal(run.code, 0, explain(run));
    const [result] = run.results;
    assert.equal(result.ok, 20, explain(run));
    assert.equal(result.rejected, 5);
    assert.equal(result.doubleStatus, 0x80090301 | 0, 'the double free was stopped');

    // There is something to search: each output carries what the agent saw.
    assert.match(result.metrics, /sspi_handles_opened_total\{kind="context",package="NTLM"\}/);
    assert.match(run.stderr, /still live at exit/, 'the exit report');
    assert.match(run.stderr, /second release of credential/, 'the double-free warning');
    assert.match(run.stderr, /\[debug\]/, 'debug lines');
    assert.ok(run.report.groups.length > 0, 'the JSON report lists the leaks');
    assert.ok(receiver.spans().length > 0, 'spans arrived over OTLP');
    assert.ok(Object.keys(receiver.metrics()).length > 0, 'metrics arrived over OTLP');

    const outputs = {
      '/metrics': Buffer.from(result.metrics),
      'stderr (warnings, debug, exit report)': Buffer.from(run.stderr),
      'JSON report': Buffer.from(JSON.stringify(run.report)),
      'OTLP payloads': receiver.raw(),
    };
    const tokens = result.tokens.map((t) => Buffer.from(t, 'base64'));
    assert.ok(tokens.length >= 75, 'NEGOTIATE, CHALLENGE and AUTHENTICATE of every login');
    const needles = [
      ...forms('password', secret.SECRET_PASSWORD),
      ...forms('wrong password', secret.SECRET_WRONG_PASSWORD),
      ...forms('NT hash', Buffer.from(ntHash(secret.SECRET_PASSWORD), 'hex')),
      ...forms('user name', secret.SECRET_USER),
      ...forms('domain name', secret.SECRET_DOMAIN),
      ...forms('target name', secret.SECRET_TARGET),
      // Every token whole, and the CHALLENGE's 8-byte server challenge on its own.
      ...tokens.flatMap((t, i) => forms(`token #${i}`, t)),
      ...tokens.filter((t) => t.readUInt32LE(8) === 2).flatMap((t, i) => forms(`server challenge #${i}`, t.subarray(24, 32))),
    ];
    for (const [where, haystack] of Object.entries(outputs)) {
      for (const [what, needle] of needles) {
        assert.equal(haystack.indexOf(needle), -1, `${what} appears in ${where}`);
      }
    }
  });
});
