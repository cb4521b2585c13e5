/**
 * The calls of one batch, counted by function and status: what the call metrics take once per batch
 * per label set (`onCalls`) instead of once per call. A batch meets a handful of (function, status)
 * pairs, so they are found by a scan of a short list; the arrays are kept from batch to batch.
 */
export interface TalliedCalls {
  readonly fn: string;
  readonly status: number;
  count: number;
  /** Each call's duration in seconds, in call order. */
  readonly durations: number[];
}

export class CallTally {
  private readonly entries: TalliedCalls[] = [];
  private used = 0;
  /** The entry the last call went to: runs of one function's calls find it at once. */
  private last = -1;

  add(fn: string, status: number, durationSeconds: number): void {
    const entries = this.entries;
    let at = this.last;
    if (at < 0 || entries[at]!.fn !== fn || entries[at]!.status !== status) at = this.find(fn, status);
    const entry = entries[at]!;
    entry.count++;
    entry.durations.push(durationSeconds);
    this.last = at;
  }

  /** Whether any call waits to be told. */
  get pending(): boolean {
    return this.used !== 0;
  }

  /** Hands each (function, status) pair's calls to `take`, then starts over; `take` must not keep the arrays. */
  flush(take: (entry: TalliedCalls) => void): void {
    const used = this.used;
    this.used = 0;
    this.last = -1;
    for (let i = 0; i < used; i++) {
      const entry = this.entries[i]!;
      if (entry.count !== 0) take(entry);
      entry.count = 0;
      entry.durations.length = 0;
    }
  }

  private find(fn: string, status: number): number {
    const entries = this.entries;
    for (let i = 0; i < this.used; i++) {
      if (entries[i]!.fn === fn && entries[i]!.status === status) return i;
    }
    const at = this.used++;
    if (at < entries.length) {
      // A slot of an earlier batch, for another pair: it gets this one.
      entries[at] = { fn, status, count: 0, durations: entries[at]!.durations };
    } else {
      entries.push({ fn, status, count: 0, durations: [] });
    }
    return at;
  }
}
