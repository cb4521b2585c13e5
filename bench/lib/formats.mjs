// How the bench's table writes its figures: one place, so that every section shows a ratio, a time,
// a size or a count the same way. A figure that is not finite shows as '—'.

export const fmtRatio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '—');
export const fmtRange = (a, b, f) => (Number.isFinite(a) && Number.isFinite(b) ? `${f(a)}–${f(b)}` : '—');

/** A time in ns, in the unit that keeps it short: 850 ns, 12.4 µs, 3.1 ms, 240 ms. */
export function fmtTime(ns) {
  if (!Number.isFinite(ns)) return '—';
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(ns >= 1e8 ? 0 : 1)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(ns >= 1e5 ? 0 : 1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

export const fmtMs = (ms) => fmtTime(ms * 1e6);
export const fmtBytes = (b) => (Number.isFinite(b) ? `${Math.round(b)} B` : '—');
export const fmtCount = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

/** A figure with its unit, a negative one with a true minus sign: −0.012 ms. */
export const fmtIn = (x, unit, digits) => `${x < 0 ? '−' : ''}${Math.abs(x).toFixed(digits)} ${unit}`;
/** A difference, always signed: +1.7 ms, −0.3 MiB. */
export const fmtDelta = (x, unit, digits) => `${x >= 0 ? '+' : ''}${fmtIn(x, unit, digits)}`;
