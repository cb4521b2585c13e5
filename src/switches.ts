/**
 * The words an on/off setting accepts. The settings table reads them (config-parsers.ts), and so do
 * the two pieces that run before it is loaded: the preload entry (SSPI_AGENT_ENABLED) and the start
 * code's cache (SSPI_AGENT_CODE_CACHE, SSPI_AGENT_DEBUG). The bundle inlines this module into each.
 */

const ON = ['1', 'true', 'yes', 'on'];
const OFF = ['0', 'false', 'no', 'off'];

/** true or false for a word of either list (any case, spaces around), undefined for anything else. */
export function switchValue(raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  const v = raw.trim().toLowerCase();
  if (ON.includes(v)) return true;
  if (OFF.includes(v)) return false;
  return undefined;
}
