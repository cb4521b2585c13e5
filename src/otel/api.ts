/**
 * The OpenTelemetry API, loaded the first time the agent needs it — when an SDK registered, or the
 * agent starts one. An app without OpenTelemetry never loads it: the agent's start costs nothing more.
 * (An app with an SDK loaded it already: this is then a cache hit on the same module.)
 *
 * It is an optional peer dependency, resolved from the agent's location: in an installed app, the
 * app's own copy, so the agent's spans and metrics meet the SDK the app registered with that copy.
 * Without it the agent runs without OpenTelemetry, and says so once only when OpenTelemetry is in
 * use or asked for.
 */
import * as nodeModule from 'node:module';
import type * as Api from '@opentelemetry/api';
import { warnOnce } from '../diagnostics.js';

// Taken from the built-in module, not imported: see "Start-up" in docs/architecture.md.
const { readFileSync } = process.getBuiltinModule('node:fs');

const API = '@opentelemetry/api';

/** The loaded API; null once it was looked for and could not be loaded. */
let api: typeof Api | null | undefined;

function load(): typeof Api | null {
  try {
    return nodeModule.createRequire(import.meta.url)(API) as typeof Api;
  } catch {
    return null;
  }
}

/**
 * The API, or undefined when it cannot be loaded from the agent's location. `because` says why the
 * agent wanted it (the app registered OpenTelemetry components, the OTEL_* variables ask for export):
 * the first time it is missing, one warning says so, and that the agent then sends nothing there.
 */
export function tryOtelApi(because: string): typeof Api | undefined {
  api ??= load();
  if (api) return api;
  warnOnce(
    'otel.api.missing',
    `${because}, but ${API} cannot be loaded from sspi-agent (an optional peer dependency: install it beside the app's OpenTelemetry packages); the agent's spans and metrics are not sent to OpenTelemetry (Prometheus and the leak report are unaffected)`,
  );
  return undefined;
}

/** The API, where the caller already holds something made through it (a tracer, a registered SDK). */
export function otelApi(): typeof Api {
  api ??= load();
  if (!api) throw new Error(`${API} cannot be loaded from sspi-agent`);
  return api;
}

/**
 * The oldest API (its 1.x minor version) that the agent's OpenTelemetry JS 3.x packages — the SDK it
 * starts, SspiInstrumentation's base class — work with: they use the API's logs, new in 1.10.
 */
const MINOR_FOR_3X = 10;

/**
 * Why the agent's OpenTelemetry JS 3.x packages cannot work with the API the app has — none loads,
 * or it is of the 2.x line — or undefined when they can. The agent's own spans and metrics need
 * neither: they go through whichever API the app has.
 */
export function otel3Unavailable(): string | undefined {
  api ??= load();
  if (!api) return `${API} cannot be loaded from sspi-agent (an optional peer dependency: install it beside the app's OpenTelemetry packages)`;
  const version = otelApiVersion();
  if (version !== undefined && minorOf(version) < MINOR_FOR_3X) {
    return `it is built on OpenTelemetry JS 3.x, which needs ${API} 1.${MINOR_FOR_3X} or newer, and the app has ${version} (under \`node --import sspi-agent\` the agent's spans and metrics reach the app's own SDK)`;
  }
  return undefined;
}

/** Where every copy of the API (major version 1) keeps what was registered with it, and its version. */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/**
 * Warns once when the app registered its OpenTelemetry components through an older copy of the API
 * than the one the agent loads: a copy ignores what an older minor version registered, so the agent
 * would see no SDK. It happens when the agent has an API of its own (installed globally, or nested
 * by a package manager) instead of sharing the app's.
 */
export function warnIfRegisteredByOlderApi(): void {
  const registered = (globalThis as { [API_GLOBAL]?: { version?: unknown } })[API_GLOBAL]?.version;
  const own = otelApiVersion();
  if (typeof registered !== 'string' || own === undefined || minorOf(registered) >= minorOf(own)) return;
  warnOnce(
    'otel.api.older',
    `the app registered OpenTelemetry through ${API} ${registered}, which the agent's own copy (${own}) cannot use: the agent's spans and metrics do not reach the app's SDK (install sspi-agent beside the app's ${API}, so that both share it)`,
  );
}

/** The minor version of a 1.x version string (NaN when it is not one). */
function minorOf(version: string): number {
  const [major, minor] = version.split('.').map(Number);
  return major === 1 && minor !== undefined ? minor : Number.NaN;
}

/**
 * The version of the API the agent loads (the app's copy), or undefined when it cannot be told
 * (findPackageJSON is Node 22.14's: read from the namespace, an older Node still loads this module).
 */
function otelApiVersion(): string | undefined {
  try {
    const manifest = nodeModule.findPackageJSON?.(API, import.meta.url);
    return manifest ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version : undefined;
  } catch {
    return undefined;
  }
}
