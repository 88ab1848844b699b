import { Subject, takeUntil, type Observable, type Subscriber } from 'rxjs';
import { asKafkaRxError } from '../../lib/errors/convert.js';
import { BackpressureOverflowError, type KafkaRxError } from '../../lib/errors/index.js';
import { Fifo } from '../../lib/fifo.js';
import { unsentMessage, type DeliveryReport } from '../../lib/producer/message.js';
import type { KafkaRecord } from '../../lib/producer/record.js';
import { pullIteratorOf } from '../lazy-from.js';
import type { ProducerLike, SourceReport } from '../to-kafka.js';
import { InFlightBudget, recordBytes } from './in-flight-budget.js';
import { ReportOrder, type PendingReport } from './report-order.js';

/** toKafka's options, checked and with their defaults. */
export interface ToKafkaConfig<T, P, V, K> {
  producerFor: (value: T) => ProducerLike<V, K>;
  toRecord: (value: T) => KafkaRecord<V, K> | readonly KafkaRecord<V, K>[] | null | undefined;
  passThrough: (value: T) => P;
  maxInFlight: number;
  maxInFlightBytes: number;
  maxBuffered: number;
  /** overflow: 'buffer': hold past maxBuffered instead of failing. */
  bufferPastMax: boolean;
  /** onError: 'fail'. */
  failFast: boolean;
  /** order: 'input'. */
  inputOrder: boolean;
}

/** A source value mapped to its records and the producer they go to, waiting for room in the budget. */
interface PreparedValue<T, V, K> {
  value: T;
  producer: ProducerLike<V, K>;
  records: readonly KafkaRecord<V, K>[];
  bytes: number;
}

/**
 * One subscription of toKafka. Reads the source (pushed, or pulled one value at a time from a
 * lazyFrom() iterator) while the in-flight budget has room, holds what a pushing source sends
 * beyond it (up to maxBuffered), hands each value's records to its producer, and emits each
 * value's report once all its records have their outcome. It completes once the source has and
 * every report is out; it errors on the source's error, an overflow, or (onError: 'fail') the first
 * failed report once what was in flight is reported.
 */
export class ToKafkaRun<T, P, V, K> {
  private readonly budget: InFlightBudget;
  private readonly order: ReportOrder<P, V, K>;
  /** Values a pushing source sent while the budget was spent. */
  private readonly waiting = new Fifo<PreparedValue<T, V, K>>();
  /** The iterator of a lazyFrom() source; undefined for any other source, which pushes. */
  private readonly iterator: Iterator<T> | AsyncIterator<T> | undefined;
  private readonly stopSource$ = new Subject<void>();
  private sourceDone = false;
  private pulling = false;
  /** The failure the stream ends with once in-flight records are reported (onError: 'fail'). */
  private failure: KafkaRxError | undefined;
  private finished = false;

  constructor(
    private readonly source: Observable<T>,
    private readonly subscriber: Subscriber<SourceReport<P, V, K>>,
    private readonly config: ToKafkaConfig<T, P, V, K>,
  ) {
    this.budget = new InFlightBudget(config.maxInFlight, config.maxInFlightBytes);
    this.order = new ReportOrder<P, V, K>(config.inputOrder, (report) => this.emit(report));
    this.iterator = pullIteratorOf(source);
  }

  start(): void {
    // Added before the source is subscribed: an error or unsubscribe during a synchronous
    // source's run stops it then, not after it returns (a teardown returned later would wait).
    this.subscriber.add(() => this.stopReading());
    if (this.iterator !== undefined) {
      this.pull();
      return;
    }
    this.source.pipe(takeUntil(this.stopSource$)).subscribe({
      next: (value) => this.accept(value),
      error: (error: unknown) => this.fail(asKafkaRxError(error)),
      complete: () => {
        if (this.sourceDone) return;
        this.sourceDone = true;
        this.finishIfDone();
      },
    });
  }

  /**
   * Stops reading the source at once, even in the middle of a synchronous source's emissions
   * (range(), from(array)): takeUntil's subscriber exists before the source runs, so the source
   * sees itself closed at its next value instead of running to its end into the buffer.
   */
  private stopReading(): void {
    if (!this.sourceDone) void this.iterator?.return?.();
    this.sourceDone = true;
    this.waiting.clear();
    this.stopSource$.next();
  }

  private accept(value: T): void {
    let prepared: PreparedValue<T, V, K>;
    try {
      prepared = this.prepare(value);
    } catch (error) {
      this.fail(asKafkaRxError(error));
      return;
    }
    if (this.waiting.length === 0 && this.budget.fits(prepared.records.length, prepared.bytes)) {
      this.dispatch(prepared);
      return;
    }
    this.waiting.push(prepared);
    const { maxBuffered, bufferPastMax } = this.config;
    if (this.iterator === undefined && this.waiting.length > maxBuffered && !bufferPastMax) {
      this.fail(new BackpressureOverflowError(`toKafka: more than maxBuffered (${maxBuffered}) source values wait for room; the source does not slow down (use lazyFrom() for a pull source, pause on producer.pressure$, or set overflow: 'buffer')`));
    }
  }

  private prepare(value: T): PreparedValue<T, V, K> {
    const producer = this.config.producerFor(value);
    const mapped = this.config.toRecord(value);
    const records = mapped === null || mapped === undefined ? [] : Array.isArray(mapped) ? mapped : [mapped as KafkaRecord<V, K>];
    let bytes = 0;
    for (const record of records) bytes += recordBytes(record);
    return { value, producer, records, bytes };
  }

  /** Hands a value's records to its producer; its report completes with the last outcome. */
  private dispatch(prepared: PreparedValue<T, V, K>): void {
    const report = this.order.open(this.config.passThrough(prepared.value), prepared.records.length);
    if (prepared.records.length === 0) {
      this.order.complete(report);
      return;
    }
    const producer = prepared.producer;
    prepared.records.forEach((record, index) => {
      const bytes = recordBytes(record);
      this.budget.take(bytes);
      const settle = (outcome: DeliveryReport<V, K>) => this.settle(report, index, bytes, outcome);
      producer
        .send(record.value, { topic: record.topic, key: record.key, headers: record.headers, timestamp: record.timestamp, partition: record.partition }, settle)
        .catch((error: unknown) => settle({ message: unsentMessage(record.topic ?? producer.topic ?? '', record.value, record.key ?? undefined, typeof record.timestamp === 'number' ? record.timestamp : undefined), error: asKafkaRxError(error) }));
    });
  }

  /** One record's outcome; a second one for the same record (a refusal after a report) is ignored. */
  private settle(report: PendingReport<P, V, K>, index: number, bytes: number, outcome: DeliveryReport<V, K>): void {
    if (report.reports[index] !== undefined) return;
    report.reports[index] = outcome;
    this.budget.release(bytes);
    if (outcome.error !== undefined && report.error === undefined) report.error = outcome.error;
    if (--report.remaining === 0) this.order.complete(report);
    if (!this.subscriber.closed) {
      this.drain();
      this.finishIfDone();
    }
  }

  private emit(pending: PendingReport<P, V, K>): void {
    const reports = pending.reports as DeliveryReport<V, K>[];
    const message = reports[0]?.message;
    this.subscriber.next(
      pending.error === undefined
        ? { passThrough: pending.passThrough, reports, message }
        : { passThrough: pending.passThrough, reports, message, error: pending.error },
    );
    if (pending.error !== undefined && this.config.failFast && this.failure === undefined) {
      this.failure = pending.error;
      // Stop reading; what is already handed over is still reported before the error.
      this.stopReading();
    }
  }

  /** Room was freed: waiting values go first, then a pull source is read again. */
  private drain(): void {
    while (this.waiting.length > 0 && this.failure === undefined) {
      const next = this.waiting.peek()!;
      if (!this.budget.fits(next.records.length, next.bytes)) break;
      this.dispatch(this.waiting.shift()!);
    }
    if (this.iterator !== undefined && this.waiting.length === 0) this.pull();
  }

  /** Reads a lazyFrom() source one value at a time while the budget has room. */
  private pull(): void {
    if (this.pulling || this.sourceDone || this.iterator === undefined) return;
    this.pulling = true;
    this.step(this.iterator);
  }

  private step(iterator: Iterator<T> | AsyncIterator<T>): void {
    while (!this.sourceDone && !this.subscriber.closed && this.waiting.length === 0 && this.failure === undefined && this.budget.hasRoom) {
      let result: IteratorResult<T> | Promise<IteratorResult<T>>;
      try {
        result = iterator.next();
      } catch (error) {
        this.pulling = false;
        this.fail(asKafkaRxError(error));
        return;
      }
      if (result instanceof Promise) {
        result.then(
          (next) => {
            if (this.subscriber.closed) return;
            if (next.done) this.sourceDone = true;
            else this.accept(next.value);
            this.step(iterator);
          },
          (error: unknown) => {
            this.pulling = false;
            this.fail(asKafkaRxError(error));
          },
        );
        return;
      }
      if (result.done) this.sourceDone = true;
      else this.accept(result.value);
    }
    this.pulling = false;
    this.finishIfDone();
  }

  private finishIfDone(): void {
    if (this.finished || !this.sourceDone || this.waiting.length > 0 || this.budget.records > 0 || this.order.pending) return;
    this.finished = true;
    if (this.failure !== undefined) this.subscriber.error(this.failure);
    else this.subscriber.complete();
  }

  private fail(error: KafkaRxError): void {
    if (this.finished) return;
    this.finished = true;
    this.subscriber.error(error);
  }
}
