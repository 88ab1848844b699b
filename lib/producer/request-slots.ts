import { Observable, type ObservableInput, type OperatorFunction, from, type Subscription } from 'rxjs';

export interface RequestSlotsConfig<T> {
  /** Most batches being sent at once (maxInFlightRequestsPerBroker). */
  slots: number;
  /** Batches waiting for a slot are joined while the joined batch stays within this many bytes. */
  maxBytes: number;
  sizeOf: (batch: readonly T[]) => number;
}

/**
 * mergeMap(send, slots) for batches, with natural batching: a batch that finds every slot taken
 * waits, and the batches that arrive while it waits are joined to it (up to one request's bytes),
 * so the next free slot sends one larger batch instead of a queue of small ones. A batch that finds
 * a slot free leaves at once. With a short linger this is what lets batches grow from back-pressure
 * (requests in flight) rather than from a timer, as the Java client and librdkafka do; batch order
 * is kept, and `send` is called only when a slot is free, so what waits here still counts as
 * queued (the per-broker queue bound) until then.
 *
 * ```
 * source:  -a-b-c-d-------|           (slots 1; a send lasts 8 frames, then emits its batch)
 * result:  ---------a-------(x|)      x = [b,c,d]: they waited for the slot together, one send
 * ```
 */
export function requestSlots<T, R>(send: (batch: T[]) => ObservableInput<R>, config: RequestSlotsConfig<T>): OperatorFunction<T[], R> {
  const { slots, maxBytes, sizeOf } = config;
  return (source) =>
    new Observable<R>((subscriber) => {
      /** Batches waiting for a slot, oldest first; only the newest one still takes joiners. */
      const waiting: T[][] = [];
      let newestBytes = 0;
      /** False while the newest waiting batch is still the caller's array (copied on the first join). */
      let newestOwned = false;
      let active = 0;
      let sourceDone = false;
      const sends = new Set<Subscription>();

      const completeIfDone = () => {
        if (sourceDone && active === 0 && waiting.length === 0) subscriber.complete();
      };

      const start = (batch: T[]) => {
        active++;
        let subscription: Subscription | null = null;
        let finished = false;
        subscription = from(send(batch)).subscribe({
          next: (value) => subscriber.next(value),
          error: (error) => subscriber.error(error),
          complete: () => {
            finished = true;
            if (subscription !== null) sends.delete(subscription);
            active--;
            const next = waiting.shift();
            if (next !== undefined) start(next);
            else completeIfDone();
          },
        });
        // A send that completed synchronously has already freed its slot.
        if (!finished) sends.add(subscription);
      };

      const sourceSubscription = source.subscribe({
        next(batch) {
          if (active < slots && waiting.length === 0) {
            start(batch);
            return;
          }
          const bytes = sizeOf(batch);
          const last = waiting.length - 1;
          if (last >= 0 && newestBytes + bytes <= maxBytes) {
            // The caller's arrays are left as given: the first join makes the batch our own.
            if (!newestOwned) {
              waiting[last] = waiting[last].slice();
              newestOwned = true;
            }
            const newest = waiting[last];
            for (let i = 0; i < batch.length; i++) newest.push(batch[i]);
            newestBytes += bytes;
          } else {
            waiting.push(batch);
            newestBytes = bytes;
            newestOwned = false;
          }
        },
        error: (error) => subscriber.error(error),
        complete() {
          sourceDone = true;
          completeIfDone();
        },
      });

      return () => {
        sourceSubscription.unsubscribe();
        for (const send of sends) send.unsubscribe();
        sends.clear();
        waiting.length = 0;
      };
    });
}
