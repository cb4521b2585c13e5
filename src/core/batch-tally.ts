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
  readonly values: number[];
}

export class BatchTally<A, B> {
  /**
   * The batch's entries, slots 0 to `used`; the two lists take turns, so that an event heard while
   * one batch is told (a listener's own call) lands in the other list and overwrites none of the
   * entries still to be told. Each batch's entries, arrays included, are new: a told entry is never
   * written again, and emptying an array (`length = 0`) is a call into V8's runtime, dearer than a
   * small new one when a batch is the few calls of one request.
   */
  private entries: Tallied<A, B>[] = [];
  private told: Tallied<A, B>[] = [];
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

  /** Hands each pair's events to `take`, then starts over. */
  flush(take: (entry: Tallied<A, B>) => void): void {
    const entries = this.entries;
    const used = this.used;
    this.entries = this.told;
    this.told = entries;
    this.used = 0;
    this.last = -1;
    for (let i = 0; i < used; i++) take(entries[i]!);
  }

  private find(a: A, b: B): number {
    const entries = this.entries;
    for (let i = 0; i < this.used; i++) {
      if (entries[i]!.a === a && entries[i]!.b === b) return i;
    }
    const at = this.used++;
    const entry = { a, b, count: 0, values: [] };
    if (at < entries.length) entries[at] = entry;
    else entries.push(entry);
    return at;
  }
}
