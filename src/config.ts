/**
 * Every `SSPI_AGENT_*` variable, declared once: its type, default and meaning. The agent reads its
 * settings only through this table, and the README's configuration table is generated from it
 * (`npm run docs`; a test fails when they differ), so code and documentation cannot drift apart.
 */
import { warn } from './diagnostics.js';

export const ENV_PREFIX = 'SSPI_AGENT_';

type Parser<T> = (raw: string) => T | undefined;

interface Setting<T> {
  /** Variable name without the prefix. */
  readonly name: string;
  /** How the README names the accepted values. */
  readonly type: string;
  readonly default: T;
  /** As the README shows the default. */
  readonly shownDefault: string;
  readonly doc: string;
  readonly parse: Parser<T>;
}

const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return undefined;
};

function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^\s*\d+\s*$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  };
}

function oneOf<T extends string>(values: readonly T[], aliases: Record<string, T> = {}): Parser<T> {
  return (raw) => {
    const v = raw.trim().toLowerCase();
    return (values as readonly string[]).includes(v) ? (v as T) : aliases[v];
  };
}

const text: Parser<string> = (raw) => (raw.trim() === '' ? undefined : raw.trim());

const list: Parser<string[]> = (raw) =>
  raw
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

export type StackMode = 'all' | 'off';

/** The table. Order is the README's order. */
export const SETTINGS = {
  enabled: {
    name: 'ENABLED',
    type: 'boolean',
    default: true,
    shownDefault: '`1`',
    doc: '`0` loads nothing: no hooks, no endpoint, no report.',
    parse: bool,
  } as Setting<boolean>,
  libraries: {
    name: 'LIBRARIES',
    type: 'list',
    default: [] as string[],
    shownDefault: '(none)',
    doc:
      'More SSPI provider libraries to instrument, comma-separated: file names (`*` matches any run of ' +
      'characters, case-insensitive) or absolute paths. Always instrumented: `secur32.dll`, `sspicli.dll`, ' +
      '`security.dll`, `libwinpr2.so*`, `libwinpr3.so*`.',
    parse: list,
  } as Setting<string[]>,
  stacks: {
    name: 'STACKS',
    type: '`all` \\| `off` (`1`/`0`)',
    default: 'all',
    shownDefault: '`all`',
    doc: 'Capture an allocation stack (app frames only) for each handle, shown in the leak report.',
    parse: oneOf<StackMode>(['all', 'off'], { '1': 'all', true: 'all', on: 'all', '0': 'off', false: 'off', none: 'off' }),
  } as Setting<StackMode>,
  stackDepth: {
    name: 'STACK_DEPTH',
    type: 'integer 1–50',
    default: 8,
    shownDefault: '`8`',
    doc: 'How many app frames an allocation stack keeps.',
    parse: integer(1, 50),
  } as Setting<number>,
  metricsHost: {
    name: 'METRICS_HOST',
    type: 'host',
    default: '127.0.0.1',
    shownDefault: '`127.0.0.1`',
    doc: 'Address the `/metrics` endpoint binds to.',
    parse: text,
  } as Setting<string>,
  metricsPort: {
    name: 'METRICS_PORT',
    type: 'integer 0–65535',
    default: 9469,
    shownDefault: '`9469`',
    doc: 'Port of the `/metrics` endpoint; `0` serves no endpoint.',
    parse: integer(0, 65535),
  } as Setting<number>,
  report: {
    name: 'REPORT',
    type: 'boolean',
    default: true,
    shownDefault: '`1`',
    doc: 'Print the leak report to stderr at exit when handles are still live.',
    parse: bool,
  } as Setting<boolean>,
  reportFile: {
    name: 'REPORT_FILE',
    type: 'path',
    default: '',
    shownDefault: '(none)',
    doc: 'Also write the exit report as JSON to this file (written even when nothing leaked).',
    parse: text,
  } as Setting<string>,
  debug: {
    name: 'DEBUG',
    type: 'boolean',
    default: false,
    shownDefault: '`0`',
    doc: 'Print startup and hook diagnostics to stderr.',
    parse: bool,
  } as Setting<boolean>,
} as const;

type Settings = typeof SETTINGS;
export type AgentConfig = { -readonly [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };

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
