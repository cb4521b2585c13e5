// The demo's NTLM HTTP server (examples/ntlm-demo/server.mjs) as the end-to-end benchmark runs it:
// its leak fixed, and with BENCH_OTEL_SDK=1 an OpenTelemetry SDK the app registers first, as a
// traced app would (its exporter counts spans and drops them: no network).
import { startCountingSdk } from '../lib/otel-sdk.mjs';

if (process.env.BENCH_OTEL_SDK === '1') await startCountingSdk();
await import('../../examples/ntlm-demo/server.mjs');
