/**
 * What one batch of calls did, counted by a pair of label values (a function and its status; a
 * handle's kind and package), with one number per event (a duration, a lifetime): what the metrics
 * take once per batch per label set instead of once per call. A batch meets a handful of pairs, so
 * they are found by a scan of a short list.
 */
export interface Tallied<A, B> {
  readonly a: A;
  readonly b: B;
  count: number;
  /** One number per event, in call order. */
  values: number[];
}

export class BatchTally<A, B> {
  private readonly entries: Tallied<A, B>[] = [];
  private used = 0;
  /** The entry the last event went to: runs of one pair find it at once. */
  private last = -1;

  add(a: A, b: B, value: number): void {
    const entries = this.entries;
    let at = this.last;
    if (at < 0 || entries[at]!.a !== a || entries[at]!.b !== b) at = this.find(a, b);
    const entry = entries[at]!;
    entry.count++;
    entry.values.push(value);
    this.last = at;
  }

  /** Whether anything waits to be told. */
  get pending(): boolean {
    return this.used !== 0;
  }

  /**
   * Hands each pair's events to `take`, then starts over. Each pair's numbers start in a new array:
   * emptying one (`length = 0`) is a call into V8's runtime, dearer than a small new array, and a
   * server's batches are the few calls of one request.
   */
  flush(take: (entry: Tallied<A, B>) => void): void {
    const used = this.used;
    this.used = 0;
    this.last = -1;
    for (let i = 0; i < used; i++) {
      const entry = this.entries[i]!;
      if (entry.count !== 0) take(entry);
      entry.count = 0;
      if (entry.values.length !== 0) entry.values = [];
    }
  }

  private find(a: A, b: B): number {
    const entries = this.entries;
    for (let i = 0; i < this.used; i++) {
      if (entries[i]!.a === a && entries[i]!.b === b) return i;
    }
    const at = this.used++;
    // A new array, never the slot's last one: that one may have been handed out (an event heard
    // while a batch is told can add to the next).
    const entry = { a, b, count: 0, values: [] };
    if (at < entries.length) entries[at] = entry;
    else entries.push(entry);
    return at;
  }
}
