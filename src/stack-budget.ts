/**
 * The CPU time stack capture may take: a token bucket of milliseconds that fills at `share` of the
 * elapsed time (1% is 10 ms a second) and holds at most one second's worth. A capture may start
 * while the bucket holds more than its reserve, and is charged what it really took, so a capture
 * dearer than what is left is repaid before the next: over any long run, capture takes at most
 * `share` of one core, and at most one second's worth more in a burst.
 *
 * A capture's time is wall time, so a capture the OS preempted, or one a GC pause landed in, would be
 * charged for others' work: the charge is held to a few times the usual cost (a running average).
 *
 * The clock is the caller's: a `performance.now()` the wrapper read anyway (the native call's end),
 * so a call the budget turns down costs a few arithmetic operations, no clock read (~50 ns each,
 * a tenth of what a koffi call costs).
 */
const WINDOW_MS = 1000;
/** A charge is at most this many times the usual capture. */
const OUTLIER = 4;

export class StackBudget {
  private readonly capacity: number;
  private balance: number;
  private at = -Infinity;
  /** The usual capture, in ms: a running average of the charges, starting at a slow capture's 20 µs. */
  private usual = 0.02;

  constructor(private readonly share: number) {
    this.capacity = share * WINDOW_MS;
    this.balance = this.capacity;
  }

  /** Whether a capture may start at `now`, leaving `reserve` (a fraction of the capacity) for others. */
  allows(now: number, reserve = 0): boolean {
    if (now > this.at) {
      this.balance = Math.min(this.capacity, this.balance + (now - this.at) * this.share);
      this.at = now;
    }
    return this.balance > reserve * this.capacity;
  }

  /** A capture took `ms` of wall time. */
  charge(ms: number): void {
    const charged = Math.min(ms, OUTLIER * this.usual);
    this.usual += (charged - this.usual) / 16;
    this.balance -= charged;
  }
}
