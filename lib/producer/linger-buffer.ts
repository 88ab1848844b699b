import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { youngArray, youngArrayOf } from '../young-array.js';
import { zeroDelayScheduler } from './zero-delay.js';

export interface LingerBufferConfig<T> {
  /** Longest a value waits in the buffer, counted from the first value of the batch. */
  lingerMs: number;
  /** The batch leaves as soon as it holds this many values (or this much of countOf). */
  maxCount: number;
  /** How many items a value stands for (e.g. a chunk of messages); 1 each by default. */
  countOf?: (value: T) => number;
  /** Optional byte budget: the batch leaves once the summed sizes reach it, and before a value would take it past. */
  maxBytes?: number;
  sizeOf?: (value: T) => number;
  /** Each emission sends what is buffered at once (flush() and stop()). */
  flush$?: Observable<unknown>;
  /**
   * At each emission of `recheck$` the batch leaves at once if `leavesNow` is true of a value in it
   * (the producer: a metadata refresh moved the leader of a partition the batch holds, and its
   * messages should go to the new leader now rather than wait out the old one's linger).
   */
  recheck$?: Observable<unknown>;
  leavesNow?: (value: T) => boolean;
  scheduler?: SchedulerLike;
}

/**
 * bufferTime + bufferCount with what a producer needs on top: the linger timer starts with the
 * first value of a batch (so no message waits longer than lingerMs, and an idle group holds no
 * timer), empty windows emit nothing, a byte budget, and a notifier that flushes on demand.
 *
 * ```
 * source:  -a-b-c-------d-|         (maxCount 3, lingerMs 5)
 * result:  -----x-------------(y|)  x = [a,b,c] (count), y = [d] (completion flushes)
 * ```
 */
export function lingerBuffer<T>(config: LingerBufferConfig<T>): OperatorFunction<T, T[]> {
  const { lingerMs, maxCount, countOf, maxBytes = Infinity, sizeOf, flush$, recheck$, leavesNow, scheduler = asyncScheduler } = config;
  // lingerMs 0 means "what this burst gave": the end of the current microtask queue, not Node's 1 ms.
  const lingerScheduler = lingerMs <= 0 ? zeroDelayScheduler(scheduler) : scheduler;
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let buffer: T[] = youngArray();
      let count = 0;
      let bytes = 0;
      let timer: Subscription | null = null;

      const emit = () => {
        if (timer !== null) {
          timer.unsubscribe();
          timer = null;
        }
        if (buffer.length === 0) return;
        const batch = buffer;
        buffer = youngArray();
        count = 0;
        bytes = 0;
        subscriber.next(batch);
      };

      const flushSubscription = flush$?.subscribe({ next: emit, error: (err) => subscriber.error(err) });
      const recheckSubscription = leavesNow === undefined ? undefined : recheck$?.subscribe({
        next: () => {
          if (buffer.some(leavesNow)) emit();
        },
        error: (err) => subscriber.error(err),
      });
      const sourceSubscription = source.subscribe({
        next(value) {
          const size = sizeOf === undefined ? 0 : sizeOf(value);
          // A value that would take the batch past its byte budget starts the next batch: a batch
          // just over the budget would leave as a full request and a nearly empty one.
          if (buffer.length > 0 && bytes + size > maxBytes) emit();
          // A batch of one value (one record at a time) gets a list of its size.
          if (buffer.length === 0) buffer = youngArrayOf(value);
          else buffer.push(value);
          count += countOf === undefined ? 1 : countOf(value);
          bytes += size;
          if (count >= maxCount || bytes >= maxBytes) {
            emit();
          } else if (timer === null) {
            timer = lingerScheduler.schedule(emit, lingerMs);
          }
        },
        error(err) {
          buffer = [];
          subscriber.error(err);
        },
        complete() {
          emit();
          subscriber.complete();
        },
      });

      return () => {
        sourceSubscription.unsubscribe();
        flushSubscription?.unsubscribe();
        recheckSubscription?.unsubscribe();
        timer?.unsubscribe();
        timer = null;
        buffer = [];
      };
    });
}
