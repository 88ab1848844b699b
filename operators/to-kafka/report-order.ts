import type { KafkaRxError } from '../../lib/errors/index.js';
import type { DeliveryReport } from '../../lib/producer/message.js';

/** The report of one source value while its records are in flight. */
export interface PendingReport<P, V, K> {
  readonly passThrough: P;
  /** One slot per record, filled as each outcome arrives. */
  readonly reports: Array<DeliveryReport<V, K> | undefined>;
  /** Records still without an outcome. */
  remaining: number;
  /** The first failure among its records. */
  error: KafkaRxError | undefined;
  done: boolean;
}

/**
 * Hands complete reports to `emit` in source order (order: 'input': a report waits for every
 * earlier value's) or as they complete (order: 'completion').
 */
export class ReportOrder<P, V, K> {
  /** Reports in source order, from `head` on still to be emitted (input order only). */
  private readonly queue: Array<PendingReport<P, V, K> | undefined> = [];
  private head = 0;

  constructor(
    private readonly inputOrder: boolean,
    private readonly emit: (report: PendingReport<P, V, K>) => void,
  ) {}

  /** A report for a value of `records` records, placed after every earlier one. */
  open(passThrough: P, records: number): PendingReport<P, V, K> {
    const report: PendingReport<P, V, K> = { passThrough, reports: new Array(records), remaining: records, error: undefined, done: false };
    if (this.inputOrder) this.queue.push(report);
    return report;
  }

  /** The report has every outcome: emitted now, or once the reports before it are. */
  complete(report: PendingReport<P, V, K>): void {
    report.done = true;
    if (!this.inputOrder) {
      this.emit(report);
      return;
    }
    while (this.head < this.queue.length && this.queue[this.head]!.done) {
      const next = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      this.emit(next);
    }
    // Emitted slots are dropped in bulk: a shift() per report would be quadratic.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Whether reports are still to be emitted. */
  get pending(): boolean {
    return this.head < this.queue.length;
  }
}
