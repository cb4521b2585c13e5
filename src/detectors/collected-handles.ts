/**
 * Definite leaks: the JS object that held a live handle (the out-struct, the Buffer, the External)
 * was garbage-collected, so nobody can release the handle any more. Handles held as strings or plain
 * numbers (a BigInt pointer in koffi 3) have no object to watch.
 */
import type { HandleRegistry } from '../registry.js';
import type { RegistryListener, TrackedHandle } from '../types.js';

export class CollectedHandleDetector implements RegistryListener {
  // The held value is the record (kept while its holder lives); the unregister token is the record too.
  private readonly finalizer: FinalizationRegistry<TrackedHandle>;
  private readonly unsubscribe: () => void;

  constructor(registry: HandleRegistry) {
    this.finalizer = new FinalizationRegistry((handle) => registry.markCollected(handle));
    this.unsubscribe = registry.subscribe(this);
  }

  onOpen(handle: TrackedHandle, holder: object | undefined): void {
    if (holder) this.finalizer.register(holder, handle, handle);
  }

  onClose(handle: TrackedHandle): void {
    this.finalizer.unregister(handle);
  }

  stop(): void {
    this.unsubscribe();
  }
}
