/**
 * Reads the `SSPI_AGENT_*` variables through the settings table (config.ts), warning about each value
 * it does not accept and each name it does not know.
 */
import { warn } from './diagnostics.js';
import { ENV_PREFIX, SETTINGS, type AgentConfig } from './config.js';
import type { Setting } from './config-parsers.js';

/**
 * Reads the settings from `env`. A bad value is reported, naming the variable and the accepted values,
 * and the default is used; unknown `SSPI_AGENT_*` names are reported so a typo does not pass silently.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env, report: (message: string) => void = warn): AgentConfig {
  const config = {} as Record<string, unknown>;
  const known = new Set<string>();
  for (const [key, setting] of Object.entries(SETTINGS) as Array<[string, Setting<unknown>]>) {
    const variable = ENV_PREFIX + setting.name;
    known.add(variable);
    const raw = env[variable];
    let value = setting.default;
    if (raw !== undefined && raw !== '') {
      const parsed = setting.parse(raw);
      if (parsed === undefined) {
        report(`${variable}=${JSON.stringify(raw)} is not valid (expected ${setting.type.replace(/[`\\]/g, '')}); using the default ${setting.shownDefault.replace(/`/g, '')}`);
      } else {
        value = parsed;
      }
    }
    config[key] = value;
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith(ENV_PREFIX) && !known.has(name)) {
      report(`unknown variable ${name} is ignored (known: ${[...known].join(', ')})`);
    }
  }
  return config as AgentConfig;
}
