/**
 * Label sets, each made once into what is recorded into (for an event: the Prometheus series or
 * OpenTelemetry attributes of every metric it feeds) and found again from an event's raw values by
 * one Map lookup per label: no key string is built and nothing is allocated on the per-call path.
 * It is also where a label's `cap` holds, for both exporters alike.
 */
import type { Label, LabelValue, Reader } from './model.js';

/** The value a capped label shows past its cap. */
const OTHER = 'other';
/** Its key among raw values: cannot collide with a status code or a label's text. */
const OTHER_KEY = Symbol('other');

type Key = LabelValue | typeof OTHER_KEY;
type Node<S> = Map<Key, Node<S> | S>;

/**
 * The two label sets found last, by their raw values: a batch's events meet a few sets in turn (a
 * request's AcceptSecurityContext and FreeContextBuffer), and a hit here spares a Map lookup per label.
 * For one or two labels, the common case; longer sets are always found in the tree.
 */
class RecentSets<S> {
  private first0: Key | undefined = undefined;
  private first1: Key | undefined = undefined;
  private first: S | undefined = undefined;
  private second0: Key | undefined = undefined;
  private second1: Key | undefined = undefined;
  private second: S | undefined = undefined;

  find(k0: Key, k1: Key | undefined): S | undefined {
    if (this.first !== undefined && this.first0 === k0 && this.first1 === k1) return this.first;
    if (this.second !== undefined && this.second0 === k0 && this.second1 === k1) return this.second;
    return undefined;
  }

  keep(k0: Key, k1: Key | undefined, made: S): void {
    this.second0 = this.first0;
    this.second1 = this.first1;
    this.second = this.first;
    this.first0 = k0;
    this.first1 = k1;
    this.first = made;
  }
}

export class LabelSets<S> {
  private readonly root: Node<S> = new Map();
  private single: S | undefined;
  private readonly recent = new RecentSets<S>();

  constructor(
    private readonly labels: readonly Label[],
    /** One per label, in the same order: reads its raw value from an event's arguments. */
    private readonly readers: readonly Reader[],
    /** Makes what is recorded into, from the labels' text. */
    private readonly make: (values: readonly string[]) => S,
  ) {}

  /** What the event with these arguments records into. */
  get(a: unknown, b: unknown, c: unknown): S {
    const readers = this.readers;
    const n = readers.length;
    if (n === 0) return this.single ?? this.at([]);
    if (n <= 2) {
      // Raw values map to one set for good: a value past its cap stays past it (caps only fill).
      const k0 = readers[0]!(a, b, c);
      const k1 = n === 2 ? readers[1]!(a, b, c) : undefined;
      const found = this.recent.find(k0, k1);
      if (found !== undefined) return found;
      const made = this.inTree(a, b, c);
      this.recent.keep(k0, k1, made);
      return made;
    }
    return this.inTree(a, b, c);
  }

  private inTree(a: unknown, b: unknown, c: unknown): S {
    const readers = this.readers;
    let node: Node<S> | S = this.root;
    for (let i = 0; i < readers.length; i++) {
      const next: Node<S> | S | undefined = (node as Node<S>).get(readers[i]!(a, b, c));
      if (next === undefined) return this.at(readers.map((read) => read(a, b, c)));
      node = next;
    }
    return node as S;
  }

  /** What these raw values record into, made if new (a value past its label's cap goes to `other`). */
  private at(raw: readonly LabelValue[]): S {
    const last = this.labels.length - 1;
    if (last < 0) return this.single ?? this.store(undefined, undefined, []);
    let node = this.root;
    const values: string[] = [];
    let key: Key = OTHER_KEY;
    for (let i = 0; i <= last; i++) {
      const label = this.labels[i]!;
      key = raw[i]!;
      const full = label.cap !== undefined && node.size >= label.cap && !node.has(key);
      if (full) key = OTHER_KEY;
      values.push(full ? OTHER : label.format ? label.format(raw[i]!) : String(raw[i]));
      if (i === last) break;
      let next = node.get(key) as Node<S> | undefined;
      if (!next) node.set(key, (next = new Map()));
      node = next;
    }
    return (node.get(key) as S | undefined) ?? this.store(node, key, values);
  }

  private store(node: Node<S> | undefined, key: Key | undefined, values: readonly string[]): S {
    const made = this.make(values);
    if (node) node.set(key!, made);
    else this.single = made;
    return made;
  }
}
