/**
 * The CPU time stack capture may take: a token bucket of milliseconds that fills at `share` of the
 * elapsed time (1% is 10 ms a second) and holds at most one second's worth. A capture may start
 * while the bucket holds more than its reserve, and is charged what it took, so a capture dearer
 * than what is left is repaid before the next: over any long run, capture takes at most `share` of
 * one core, and at most one second's worth more in a burst.
 *
 * A capture is timed by the wall clock, which also counts what preempted it (another process on a
 * busy machine, a GC pause): on a shared 2-core VM a tenth of the captures took 4–9 times the median
 * in one run. Charging those in full emptied the bucket for work the agent did not do, and leaks
 * right after a busy phase went without stacks. So a charge is held to twice the median capture,
 * which the bucket tracks as it goes.
 *
 * `allows` reads the caller's clock: a call the budget turns down costs a few arithmetic operations.
 */
const WINDOW_MS = 1000;
/** A charge is at most this many times the median capture. */
const OUTLIER = 2;

export class StackBudget {
  private readonly capacity: number;
  private balance: number;
  private at = -Infinity;
  /** The median capture in ms, estimated by steps toward each new one; starts at a slow capture's 20 µs. */
  private median = 0.02;

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
    // A step of 1/32 of the estimate up or down: the estimate settles where half the captures are
    // above it, and follows a change in the usual cost (another stack depth) within a few hundred.
    this.median += ms > this.median ? this.median / 32 : -this.median / 32;
    this.balance -= Math.min(ms, OUTLIER * this.median);
  }

  /** What the bucket holds, in ms of capture: for tests. */
  get available(): number {
    return this.balance;
  }
}
