/**
 * Live handle counts by the labels the metrics carry (kind, package, direction): one group object per
 * label set, which each handle record points at, so opening and closing a handle is a count on it.
 * The number of groups is bounded by the label values, not by handles.
 */
import type { LiveGroup } from './record-side.js';
import { HANDLE_KINDS, perKind, type Direction, type HandleKind } from '../types.js';

export class LiveGroups {
  /** kind → package → direction → group: nested, so the hot path builds no key strings. */
  private readonly groups = perKind(() => new Map<string, Map<Direction, LiveGroup>>());

  of(kind: HandleKind, pkg: string, direction: Direction): LiveGroup {
    const byPackage = this.groups[kind];
    let byDirection = byPackage.get(pkg);
    if (!byDirection) {
      byDirection = new Map();
      byPackage.set(pkg, byDirection);
    }
    let group = byDirection.get(direction);
    if (!group) {
      group = { kind, package: pkg, direction, count: 0 };
      byDirection.set(direction, group);
    }
    return group;
  }

  all(): LiveGroup[] {
    return HANDLE_KINDS.flatMap((kind) => [...this.groups[kind].values()].flatMap((byDirection) => [...byDirection.values()]));
  }
}
