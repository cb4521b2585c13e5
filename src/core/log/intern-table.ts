/**
 * Values interned as small ids, for the call log's typed columns: the providers, packages and token
 * verdicts a process meets are a handful each. Id 0 is `undefined`.
 */
export class InternTable<V> {
  readonly values: (V | undefined)[] = [undefined];
  private readonly ids = new Map<V, number>();
  /** Runs of calls share their function's provider, package and the like: most lookups stop here. */
  private lastValue: V | undefined = undefined;
  private lastId = 0;

  id(value: V | undefined): number {
    if (value === undefined) return 0;
    if (value === this.lastValue) return this.lastId;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.push(value) - 1;
      this.ids.set(value, id);
    }
    this.lastValue = value;
    this.lastId = id;
    return id;
  }
}
