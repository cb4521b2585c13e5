/**
 * Definite leaks: the JS object that held a live handle (the out-struct, the Buffer, the External)
 * was garbage-collected, so nobody can release the handle any more. Handles held as strings or plain
 * numbers (a BigInt pointer in koffi 3) have no object to watch.
 *
 * A watch is a V8 FinalizationRegistry entry: about 1 µs to register and unregister and ~100 bytes
 * per live handle, as much as the rest of the agent's work on an acquire + free together. Hence
 * SSPI_AGENT_COLLECTED: every holder (`all`), or a sample per creating function (`sampled`).
 */
import type { HandleRegistry } from '../core/registry.js';
import { sampler, type SampleMode } from '../core/sampling.js';
import { OVER_BUDGET } from '../core/stacks.js';
import type { TrackedHandle } from '../types.js';
import type { RegistryListener } from '../core/registry-events.js';

export class CollectedHandleDetector implements RegistryListener {
  // The held value is the record (kept while its holder lives); the unregister token is the record too.
  private readonly finalizer: FinalizationRegistry<TrackedHandle>;
  private readonly take: (fn: string) => boolean;
  private readonly unsubscribe: () => void;

  constructor(
    registry: HandleRegistry,
    private readonly mode: SampleMode = 'all',
  ) {
    this.finalizer = new FinalizationRegistry((handle) => registry.markCollected(handle));
    this.take = sampler(mode);
    this.unsubscribe = mode === 'off' ? () => {} : registry.subscribe(this);
  }

  onOpen(handle: TrackedHandle, holder: object | undefined): void {
    if (!holder || this.mode === 'off') return;
    // A handle whose allocation stack was sampled is always watched: its leak can then say where.
    const site = handle.site;
    if ((site === undefined || site === OVER_BUDGET) && !this.take(handle.createdBy)) return;
    this.finalizer.register(holder, handle, handle);
  }

  onClose(handle: TrackedHandle): void {
    // Cheap for a handle never watched: V8 finds no identity hash on it and looks no further.
    this.finalizer.unregister(handle);
  }

  stop(): void {
    this.unsubscribe();
  }
}
