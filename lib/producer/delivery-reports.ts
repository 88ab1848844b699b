import { asyncScheduler, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { ConfigError, MaybeWrittenError, type KafkaRxError } from '../errors/index.js';
import { Fifo } from '../fifo.js';
import { reportOf, type DeliveryReport, type PendingMessage } from './message.js';
import { PendingMessages } from './pending-messages.js';
import type { QueuedBytes } from './queued-bytes.js';
import { ReportStream } from './report-stream.js';
import type { TopicCounts } from './stats.js';

interface Waiter<T> {
  resolve: (value: T) => void;
  timer: Subscription | null;
}

/**
 * The one place where a message gets its outcome. settle() reports each message exactly once
 * (a second outcome, e.g. a late acknowledgement after stop() gave up, is ignored), publishes it on
 * reports$, keeps it for getDeliveryReport() when asked to, and wakes flush() when nothing is
 * pending any more.
 */
export class DeliveryOutcomes {
  private readonly reports = new ReportStream<DeliveryReport>();
  readonly reports$: Observable<DeliveryReport> = this.reports.observable;
  private readonly pending = new PendingMessages();
  private readonly pulled: DeliveryReport[] = [];
  private pulledHead = 0;
  private readonly pullWaiters: Array<Waiter<DeliveryReport | undefined>> = [];
  private readonly idleWaiters: Array<() => void> = [];
  /** produce() calls waiting for getDeliveryReport() to make room: as many as the caller made. */
  private readonly roomWaiters = new Fifo<() => void>();
  acknowledged = 0;
  failed = 0;
  /** Told when a message of an idempotent producer gets its outcome (its partition buffer keeps count). */
  partitionSettled: ((message: PendingMessage, failed: boolean) => void) | null = null;
  /** Per-topic acknowledged and failed counts (stats$), when the producer keeps them. */
  topicCounts: TopicCounts | null = null;
  /** The producer's maxQueuedBytes budget: a record's bytes are given back at its outcome, whatever it is. */
  queuedBytes: QueuedBytes | null = null;

  constructor(
    private readonly keepForPull: boolean,
    /** Most reports kept for getDeliveryReport() before produce() has to wait (pykafka keeps them without bound). */
    private readonly pullCapacity: number,
    /** The clock of getDeliveryReport()'s timeoutMs (the producer's scheduler). */
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {}

  track(message: PendingMessage): void {
    this.pending.add(message);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * A transactional producer's hold on reports: told of every outcome first, it may keep a report
   * back (returns true) and publish it later, once the transaction's fate is known (an acknowledged
   * record of an aborted transaction is reported failed, never acknowledged).
   */
  hold: ((message: PendingMessage, error: KafkaRxError | null) => boolean) | null = null;

  settle(message: PendingMessage, error: KafkaRxError | null): void {
    if (message.settled) return;
    message.settled = true;
    this.pending.remove(message);
    this.queuedBytes?.release(message);
    // A message that may be on the broker is never reported as simply failed: a caller that
    // re-sends failures would write it twice.
    if (error !== null) error = (message.inFlight || message.mayBeWritten) && !(error instanceof MaybeWrittenError) ? new MaybeWrittenError(error) : error;
    if (message.buffer !== null) this.partitionSettled?.(message, error !== null);
    if (this.hold === null || !this.hold(message, error)) this.publish(message, error);
    // One record at a time empties this after every record: the list is copied only when someone waits.
    if (this.pending.size === 0 && this.idleWaiters.length > 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /**
   * Reports a settled message's outcome: counted, told to its callbacks, published, kept for pull.
   * The report (a copy of the message) is made only when something takes it: a callback, a
   * subscriber of reports$, or getDeliveryReport().
   */
  publish(message: PendingMessage, error: KafkaRxError | null): void {
    if (error !== null) message.error = error;
    if (error === null) this.acknowledged++;
    else this.failed++;
    this.topicCounts?.settled(message.topic, error !== null);
    const { waiter, onReport } = message;
    if (waiter === null && onReport === null && !this.keepForPull && !this.reports.observed) return;
    const report = reportOf(message);
    message.waiter = null;
    message.onReport = null;
    waiter?.settle(report);
    if (onReport !== null) callSafely(onReport, report);
    this.reports.next(report);
    if (this.keepForPull) this.keep(report);
  }

  /** Settles everything still pending with the given error (stop() after pendingTimeoutMs). */
  failAll(errorFor: (message: PendingMessage) => KafkaRxError): void {
    for (const message of this.pending.all()) this.settle(message, errorFor(message));
  }

  /** Resolves when no message is pending. */
  whenIdle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** True when getDeliveryReport() reports are piling up past their room. */
  get pullQueueFull(): boolean {
    return this.keepForPull && this.pulled.length - this.pulledHead >= this.pullCapacity;
  }

  waitForPullRoom(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** pykafka's pull-style report API; undefined when none came within the wait. */
  getDeliveryReport(options: { block?: boolean; timeoutMs?: number } = {}): Promise<DeliveryReport | undefined> {
    if (!this.keepForPull) {
      return Promise.reject(new ConfigError('deliveryReports', 'true to keep reports for getDeliveryReport()', false));
    }
    const report = this.takeKept();
    if (report !== undefined || options.block === false) return Promise.resolve(report);
    return new Promise((resolve) => {
      const waiter: Waiter<DeliveryReport | undefined> = { resolve, timer: null };
      if (options.timeoutMs !== undefined && options.timeoutMs >= 0) {
        waiter.timer = this.scheduler.schedule(() => {
          const at = this.pullWaiters.indexOf(waiter);
          if (at >= 0) this.pullWaiters.splice(at, 1);
          resolve(undefined);
        }, options.timeoutMs);
      }
      this.pullWaiters.push(waiter);
    });
  }

  complete(): void {
    this.reports.complete();
    for (const waiter of this.pullWaiters.splice(0)) {
      waiter.timer?.unsubscribe();
      waiter.resolve(undefined);
    }
    for (const wake of this.roomWaiters.drain()) wake();
  }

  private keep(report: DeliveryReport): void {
    const waiter = this.pullWaiters.shift();
    if (waiter !== undefined) {
      waiter.timer?.unsubscribe();
      waiter.resolve(report);
      return;
    }
    this.pulled.push(report);
  }

  private takeKept(): DeliveryReport | undefined {
    if (this.pulledHead >= this.pulled.length) return undefined;
    const report = this.pulled[this.pulledHead];
    this.pulled[this.pulledHead++] = undefined as unknown as DeliveryReport;
    if (this.pulledHead > 1024 && this.pulledHead * 2 > this.pulled.length) {
      this.pulled.splice(0, this.pulledHead);
      this.pulledHead = 0;
    }
    const wake = this.roomWaiters.shift();
    wake?.();
    return report;
  }
}

/** A throwing callback must not cost other messages their reports: its error surfaces on its own. */
function callSafely(callback: (report: DeliveryReport) => void, report: DeliveryReport): void {
  try {
    callback(report);
  } catch (error) {
    setTimeout(() => {
      throw error;
    });
  }
}
