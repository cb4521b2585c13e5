/**
 * The Node.js releases the agent runs on: the ones whose `module.registerHooks` handles CommonJS
 * correctly (22.22.3, 24.11.1, and every 26). 25, an odd line, is let through untested rather than
 * refused. Kept in step with `engines` in package.json (a test checks).
 */

export const SUPPORTED_NODE = '^22.22.3 || >=24.11.1';

/** The lowest supported release of each line; a line not listed here is supported from 25 on. */
const FLOORS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [22, [22, 3]],
  [24, [11, 1]],
]);

export function nodeSupported(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  const floor = FLOORS.get(major);
  if (floor) return minor > floor[0] || (minor === floor[0] && patch >= floor[1]);
  return major >= 25;
}
