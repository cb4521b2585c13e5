/**
 * Whether anything at all is registered with the OpenTelemetry API — no SDK, not even a diagnostic
 * logger is the usual case of an app without OpenTelemetry — answered without loading the API: every
 * copy of it (major version 1) keeps what was registered in one global.
 */

/** Where every copy of the API (major version 1) keeps what was registered with it. */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

let apiSeen = false;

/** Nothing at all registered with the API: one property read. */
export function nothingRegistered(): boolean {
  // The API never removes its global object once made (disable() only empties it), so once seen
  // it need not be looked up again: a symbol lookup on the global object is not free on every event.
  if (apiSeen) return false;
  apiSeen = (globalThis as { [API_GLOBAL]?: unknown })[API_GLOBAL] !== undefined;
  return !apiSeen;
}
