/**
 * What ended workers left in the process's totals: their counts, and the handles they never
 * released, which stay allocated in the process (SSPI handles are the process's, not the thread's),
 * so `sspi_handles_live` goes on counting them. Those handles go on aging too: the oldest-age gauge
 * ("the oldest live handle of each kind") must not forget them while the live count shows them. The
 * ages a thread reports are its own clock's, so the time each kind's oldest was made is kept on this
 * thread's clock and its age worked out at each read.
 */
import * as clock from '../core/clock.js';
import { endedThreadMetrics, mergeSnapshots } from '../exporters/merged-metrics.js';
import type { MetricObject } from '../exporters/series.js';
import { METRICS } from '../metrics/catalog.js';

export class EndedWorkers {
  private counts: MetricObject[] = [];
  /** Per kind, when the oldest handle an ended worker left live was made (this thread's performance.now()). */
  private readonly oldestMadeAt = new Map<string, number>();
  /** The ended threads' oldest-age metric as they reported it: its name, help and type for the values made here. */
  private ages: MetricObject | undefined;

  /** A worker's last metrics, as they stood at `readAt` (this thread's performance.now()). */
  add(metrics: readonly MetricObject[], readAt: number): void {
    this.counts = mergeSnapshots([this.counts, endedThreadMetrics(metrics)]);
    const ages = metrics.find((m) => m.name === METRICS.oldestAge);
    if (!ages) return;
    this.ages ??= { ...ages, values: [] };
    for (const { labels, value } of ages.values) {
      // 0: none of that kind was live.
      const kind = labels.kind;
      if (!(value > 0) || kind === undefined) continue;
      const madeAt = readAt - value * 1000;
      const known = this.oldestMadeAt.get(kind);
      if (known === undefined || madeAt < known) this.oldestMadeAt.set(kind, madeAt);
    }
  }

  /** The totals they left, with their live handles' oldest ages as of `now`. */
  metrics(now = clock.now()): readonly MetricObject[] {
    if (!this.ages || this.oldestMadeAt.size === 0) return this.counts;
    const values = [...this.oldestMadeAt].map(([kind, madeAt]) => ({ labels: { kind }, value: (now - madeAt) / 1000 }));
    return [...this.counts, { ...this.ages, values }];
  }
}
