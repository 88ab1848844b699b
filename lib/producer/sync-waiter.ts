import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { DeliveryTimeoutError, type KafkaRxError } from '../errors/index.js';
import type { DeliveryReport, Message } from './message.js';

/**
 * A sync-mode produce() call waiting for its message's outcome, or for pendingTimeoutMs.
 *
 * It holds the call's promise functions and nothing of the message, and the message holds it: no
 * closure over the message is stored on the message. With such a closure (message -> closure ->
 * context -> message) V8's scavenges kept every awaited record's objects alive into the old
 * generation (~0.8 MB promoted per scavenge, 1.5-2 ms scavenges against 0.4 ms: bench/PROFILE.md),
 * which was the one-record-at-a-time p99.
 */
export class SyncWaiter<V, K> {
  private timer: Subscription | null = null;
  private resolve!: (message: Message<V, K>) => void;
  private reject!: (error: KafkaRxError) => void;
  readonly promise: Promise<Message<V, K>>;

  constructor(scheduler: SchedulerLike, readonly limitMs: number) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (limitMs !== Infinity) this.timer = scheduler.schedule(expire, limitMs, this as SyncWaiter<unknown, unknown>);
  }

  /** The message's outcome; after a timeout it changes nothing (a promise settles once). */
  settle(report: DeliveryReport<V, K>): void {
    this.timer?.unsubscribe();
    this.timer = null;
    if (report.error) this.reject(report.error);
    else this.resolve(report.message);
  }

  /** pendingTimeoutMs passed: only this call stops waiting; the message keeps its own outcome on deliveryReports$. */
  expire(): void {
    this.timer = null;
    this.reject(new DeliveryTimeoutError(`no acknowledgement within pendingTimeoutMs (${this.limitMs} ms); the message is still pending`));
  }
}

function expire(this: SchedulerAction<SyncWaiter<unknown, unknown>>, waiter?: SyncWaiter<unknown, unknown>): void {
  waiter!.expire();
}
