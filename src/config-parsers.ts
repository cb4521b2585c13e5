/**
 * How the settings table reads a variable's text: each parser returns the value, or undefined for
 * text it does not accept (the caller then warns and keeps the default).
 */

import { switchValue } from './switches.js';

export type Parser<T> = (raw: string) => T | undefined;

/** One `SSPI_AGENT_*` variable of the settings table (config.ts). */
export interface Setting<T> {
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

export const bool: Parser<boolean> = switchValue;

export function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^\s*\d+\s*$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  };
}

export function oneOf<T extends string>(values: readonly T[], aliases: Record<string, T> = {}): Parser<T> {
  return (raw) => {
    const v = raw.trim().toLowerCase();
    return (values as readonly string[]).includes(v) ? (v as T) : aliases[v];
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `10m`, `1.5h`, `500ms`, `2d`; `0` turns the check off. In milliseconds. */
export const duration: Parser<number> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (v === '0' || v === 'off') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v);
  return m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : undefined;
};

export function formatDuration(ms: number): string {
  if (ms === 0) return '`0` (off)';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `\`${ms / size}${unit}\``;
  }
  return `\`${ms}ms\``;
}

export const text: Parser<string> = (raw) => (raw.trim() === '' ? undefined : raw.trim());

export const list: Parser<string[]> = (raw) =>
  raw
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** `1%`, `0.5%` or `1` (a percentage either way), within `min`–`max`. As a fraction: `1%` → 0.01. */
export function percent(min: number, max: number): Parser<number> {
  return (raw) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(raw);
    if (!m) return undefined;
    const n = Number(m[1]);
    return n >= min && n <= max ? n / 100 : undefined;
  };
}
