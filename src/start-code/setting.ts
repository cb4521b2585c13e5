/**
 * What SSPI_AGENT_CODE_CACHE says, read the same way by the settings table (config.ts, which warns
 * about a value it does not accept) and by the cache's loader (cache-place.ts, which runs before
 * that table is loaded, and keeps the default for such a value).
 */
import { switchValue } from '../switches.js';

const { isAbsolute } = process.getBuiltinModule('node:path');

/** false: off; true: the default directory; a string: that directory; undefined: not a value it accepts. */
export function codeCacheSetting(raw: string): boolean | string | undefined {
  const value = raw.trim();
  return switchValue(value) ?? (isAbsolute(value) ? value : undefined);
}
