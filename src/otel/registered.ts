/**
 * Whether anything at all is registered with the OpenTelemetry API — no SDK, not even a diagnostic
 * logger is the usual case of an app without OpenTelemetry — answered without loading the API: every
 * copy of it (major version 1) keeps what was registered in one global.
 */

/** Where every copy of the API (major version 1) keeps what was registered with it. */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

let apiSeen = false;

/**
 * Until the API makes its global, the agent makes the property itself, holding undefined: V8 answers
 * a read of a property the global object lacks with a dictionary lookup, some 10 ns, on every event
 * and call while nothing is registered; one it has, with a load. The API reads and writes its global
 * only as `globalThis[key]`, so to it a property holding undefined is none. Non-enumerable, as no
 * string key, it is invisible to code that lists the global's keys; on a frozen global it is not
 * made, and reads stay lookups.
 */
function holdTheGlobalsPlace(): void {
  try {
    if (Object.prototype.hasOwnProperty.call(globalThis, API_GLOBAL)) return;
    Object.defineProperty(globalThis, API_GLOBAL, { value: undefined, writable: true, configurable: true, enumerable: false });
  } catch {
    // A frozen or locked-down global.
  }
}
holdTheGlobalsPlace();

/** Nothing at all registered with the API: one property read. */
export function nothingRegistered(): boolean {
  // The API never removes its global object once made (disable() only empties it), so once seen
  // it need not be looked up again: a symbol lookup on the global object is not free on every event.
  if (apiSeen) return false;
  apiSeen = (globalThis as { [API_GLOBAL]?: unknown })[API_GLOBAL] !== undefined;
  return !apiSeen;
}
