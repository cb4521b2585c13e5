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

export class LabelSets<S> {
  private readonly root: Node<S> = new Map();
  private single: S | undefined;

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
    if (readers.length === 0) return this.single ?? this.at([]);
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
