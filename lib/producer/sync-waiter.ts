import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { DeliveryTimeoutError, type KafkaRxError } from '../errors/index.js';
import { Fifo } from '../fifo.js';
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
  private resolve!: (message: Message<V, K>) => void;
  private reject!: (error: KafkaRxError) => void;
  readonly promise: Promise<Message<V, K>>;
  /** The call has its answer: the outcome, or the timeout. */
  answered = false;

  constructor(
    /** Scheduler time at which the call stops waiting. */
    readonly deadline: number,
    private readonly limitMs: number,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The message's outcome; after a timeout it changes nothing. */
  settle(report: DeliveryReport<V, K>): void {
    if (this.answered) return;
    this.answered = true;
    if (report.error) this.reject(report.error);
    else this.resolve(report.message);
  }

  /** pendingTimeoutMs passed: only this call stops waiting; the message keeps its own outcome on deliveryReports$. */
  expire(): void {
    if (this.answered) return;
    this.answered = true;
    this.reject(new DeliveryTimeoutError(`no acknowledgement within pendingTimeoutMs (${this.limitMs} ms); the message is still pending`));
  }
}

/**
 * A producer's sync-mode calls in the order they began, and one timer for all of them: set for
 * the oldest unanswered call's deadline. Every call waits the same pendingTimeoutMs, so deadlines
 * come in call order. A timer per call (set, then cleared at the answer) cost one record at a
 * time ~5% of its allocation and a timer-list insert and removal each (bench/PROFILE.md).
 */
export class SyncWaiters {
  private readonly line = new Fifo<SyncWaiter<unknown, unknown>>();
  private alarm: Subscription | null = null;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly limitMs: number,
  ) {}

  wait<V, K>(): SyncWaiter<V, K> {
    if (this.limitMs === Infinity) return new SyncWaiter<V, K>(Infinity, Infinity);
    const waiter = new SyncWaiter<V, K>(this.scheduler.now() + this.limitMs, this.limitMs);
    // Answered calls leave from the front as new ones come: one record at a time keeps the line at one.
    for (let head = this.line.peek(); head?.answered; head = this.line.peek()) this.line.shift();
    this.line.push(waiter as SyncWaiter<unknown, unknown>);
    this.alarm ??= this.scheduler.schedule(ring, this.limitMs, this);
    return waiter;
  }

  /** Expires the calls whose deadline has come, and sets the timer for the next one still waiting. */
  ring(): void {
    this.alarm = null;
    const now = this.scheduler.now();
    for (let head = this.line.peek(); head !== undefined; head = this.line.peek()) {
      if (!head.answered && head.deadline > now) {
        this.alarm = this.scheduler.schedule(ring, head.deadline - now, this);
        return;
      }
      this.line.shift();
      head.expire();
    }
  }

  /** The producer stopped (every call answered): no timer may outlive it. */
  close(): void {
    this.alarm?.unsubscribe();
    this.alarm = null;
    this.line.clear();
  }
}

function ring(this: SchedulerAction<SyncWaiters>, waiters?: SyncWaiters): void {
  waiters!.ring();
}
