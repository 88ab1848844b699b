import { Observable, type ObservableInput, type OperatorFunction, from, type Subscriber, type Subscription } from 'rxjs';

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
  return (source) =>
    new Observable<R>((subscriber) => {
      const slots = new Slots(send, config, subscriber);
      const sourceSubscription = source.subscribe({
        next: (batch) => slots.offer(batch),
        error: (error) => subscriber.error(error),
        complete: () => slots.sourceComplete(),
      });
      return () => {
        sourceSubscription.unsubscribe();
        slots.close();
      };
    });
}

/**
 * One subscription's slots. What lives per batch sent is one SlotSend (no closures per send): a
 * batch at a time (one record awaited at a time, low rates) pays only for that.
 */
class Slots<T, R> {
  /** Batches waiting for a slot, oldest first; only the newest one still takes joiners. */
  private readonly waiting: T[][] = [];
  private newestBytes = 0;
  /** False while the newest waiting batch is still the caller's array (copied on the first join). */
  private newestOwned = false;
  private sourceDone = false;
  /** The sends holding a slot (at most `slots` of them). */
  private readonly active: Array<SlotSend<T, R>> = [];

  constructor(
    private readonly send: (batch: T[]) => ObservableInput<R>,
    private readonly config: RequestSlotsConfig<T>,
    readonly subscriber: Subscriber<R>,
  ) {}

  offer(batch: T[]): void {
    const { waiting } = this;
    if (this.active.length < this.config.slots && waiting.length === 0) {
      this.start(batch);
      return;
    }
    const bytes = this.config.sizeOf(batch);
    const last = waiting.length - 1;
    if (last >= 0 && this.newestBytes + bytes <= this.config.maxBytes) {
      // The caller's arrays are left as given: the first join makes the batch our own.
      if (!this.newestOwned) {
        waiting[last] = waiting[last].slice();
        this.newestOwned = true;
      }
      const newest = waiting[last];
      for (let i = 0; i < batch.length; i++) newest.push(batch[i]);
      this.newestBytes += bytes;
    } else {
      waiting.push(batch);
      this.newestBytes = bytes;
      this.newestOwned = false;
    }
  }

  sourceComplete(): void {
    this.sourceDone = true;
    this.completeIfDone();
  }

  /** A send completed: its slot goes to the oldest waiting batch. */
  freed(send: SlotSend<T, R>): void {
    const { active } = this;
    const index = active.indexOf(send);
    if (index !== -1) {
      const last = active.pop()!;
      if (last !== send) active[index] = last;
    }
    const next = this.waiting.shift();
    if (next !== undefined) this.start(next);
    else this.completeIfDone();
  }

  close(): void {
    // Unsubscribing a send never completes it, so the list does not change under the loop.
    for (let i = 0; i < this.active.length; i++) this.active[i].subscription?.unsubscribe();
    this.active.length = 0;
    this.waiting.length = 0;
  }

  private start(batch: T[]): void {
    const send = new SlotSend(this);
    this.active.push(send);
    send.subscription = from(this.send(batch)).subscribe(send);
  }

  private completeIfDone(): void {
    if (this.sourceDone && this.active.length === 0 && this.waiting.length === 0) this.subscriber.complete();
  }
}

/** One batch being sent: its values go out as they come, and its completion frees its slot. */
class SlotSend<T, R> {
  /** Null until subscribe() returns (a send may complete within it). */
  subscription: Subscription | null = null;

  constructor(private readonly slots: Slots<T, R>) {}

  next(value: R): void {
    this.slots.subscriber.next(value);
  }

  error(error: unknown): void {
    this.slots.subscriber.error(error);
  }

  complete(): void {
    this.slots.freed(this);
  }
}
