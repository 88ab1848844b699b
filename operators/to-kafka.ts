import { Observable, Subject, takeUntil, type OperatorFunction } from 'rxjs';
import { asKafkaRxError } from '../lib/errors/convert.js';
import { BackpressureOverflowError, ConfigError, type KafkaRxError } from '../lib/errors/index.js';
import { Fifo } from '../lib/fifo.js';
import { functionOption, integerOption, oneOfOption, refuseUnknownOptions } from '../lib/option-checks.js';
import type { DeliveryReport, Message, RecordHeader } from '../lib/producer/message.js';
import type { KafkaRecord, RecordFields } from '../lib/producer/record.js';
import { pullIteratorOf } from './lazy-from.js';

export type { KafkaRecord };

/** What toKafka needs of a producer: a send with a callback for the one report of each message. */
export interface ProducerLike<V, K> {
  readonly topic: string;
  send(value: V, record: RecordFields<K>, onReport: (report: DeliveryReport<V, K>) => void): Promise<unknown>;
}

/** The report of one source value: the outcomes of all the records it became. */
export interface SourceReport<P, V = unknown, K = unknown> {
  /** The source value, or what `passThrough` made of it, for correlating downstream. */
  readonly passThrough: P;
  /** One report per record, in the order the records were given; empty when the value carried none. */
  readonly reports: readonly DeliveryReport<V, K>[];
  /** The first failure among its records; absent when every record was acknowledged. */
  readonly error?: KafkaRxError;
  /** The first record's message (the usual one-record case). */
  readonly message?: Message<V, K>;
}

export interface ToKafkaOptions<T, P, V, K> {
  /** Maps a source value to a record, several records, or none (null). Default: the value is the record's value. */
  toRecord?: (value: T) => KafkaRecord<V, K> | readonly KafkaRecord<V, K>[] | null | undefined;
  /** What the report carries for correlation; default the source value itself. */
  passThrough?: (value: T) => P;
  /** Most records handed to the producer without an outcome yet (default 1000). */
  maxInFlight?: number;
  /** Most bytes (keys and values) handed over without an outcome yet (default 16 MiB). */
  maxInFlightBytes?: number;
  /** Source values held while the budget is spent, for sources that cannot be paused (default 10,000). */
  maxBuffered?: number;
  /** Past maxBuffered: 'error' fails the stream with BackpressureOverflowError (default); 'buffer' keeps holding. */
  overflow?: 'error' | 'buffer';
  /** 'emit' (default): failed reports flow like others. 'fail': the first failure errors the stream once in-flight records are reported. */
  onError?: 'emit' | 'fail';
  /** 'input' (default): reports in source order. 'completion': in acknowledgement order. */
  order?: 'input' | 'completion';
}

const toKafkaOptionNames = [
  'toRecord', 'passThrough', 'maxInFlight', 'maxInFlightBytes', 'maxBuffered', 'overflow', 'onError', 'order',
] as const satisfies ReadonlyArray<keyof ToKafkaOptions<unknown, unknown, unknown, unknown>>;

interface Entry<P, V, K> {
  passThrough: P;
  reports: Array<DeliveryReport<V, K> | undefined>;
  remaining: number;
  error: KafkaRxError | undefined;
  done: boolean;
}

interface Prepared<T, V, K> {
  value: T;
  producer: ProducerLike<V, K>;
  records: readonly KafkaRecord<V, K>[];
  bytes: number;
}

function byteLength(data: unknown): number {
  return data instanceof Uint8Array ? data.length : typeof data === 'string' ? data.length : 0;
}

/**
 * Produces each source value to Kafka and emits that value's delivery report.
 *
 * At most `maxInFlight` records (and `maxInFlightBytes`) are outstanding; past that a lazyFrom()
 * source is not read at all, and any other source's values wait in a bounded buffer. The stream
 * completes once every report has been emitted. Unsubscribing stops reading; records already handed
 * to the producer are still delivered (their outcomes stay on the producer's deliveryReports$).
 *
 * ```
 * source:   -a----b----c--|
 * acks:     ------A---------B--C        (A for a, ...)
 * result:   ------A---------B--(C|)     order: 'input'
 * ```
 */
export function toKafka<T, P = T, V = Buffer | null, K = Buffer | null>(
  producer: ProducerLike<V, K>,
  options: ToKafkaOptions<T, P, V, K> = {},
): OperatorFunction<T, SourceReport<P, V, K>> {
  return toKafkaThrough(() => producer, options);
}

/**
 * toKafka with the producer chosen per source value (routeToKafka): one budget, one buffer and
 * one report order over every producer the values are routed to.
 */
export function toKafkaThrough<T, P = T, V = Buffer | null, K = Buffer | null>(
  producerFor: (value: T) => ProducerLike<V, K>,
  options: ToKafkaOptions<T, P, V, K> = {},
): OperatorFunction<T, SourceReport<P, V, K>> {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object of toKafka options', options);
  refuseUnknownOptions(options, toKafkaOptionNames);
  const maxInFlight = integerOption('maxInFlight', options.maxInFlight, 1000, 1);
  const maxInFlightBytes = integerOption('maxInFlightBytes', options.maxInFlightBytes, 16 * 1024 * 1024, 1);
  const maxBuffered = integerOption('maxBuffered', options.maxBuffered, 10_000, 0);
  oneOfOption('overflow', options.overflow, ['error', 'buffer'], 'error');
  const failFast = oneOfOption('onError', options.onError, ['emit', 'fail'], 'emit') === 'fail';
  const inputOrder = oneOfOption('order', options.order, ['input', 'completion'], 'input') === 'input';
  const toRecord = functionOption<(value: T) => KafkaRecord<V, K> | readonly KafkaRecord<V, K>[] | null | undefined>('toRecord', options.toRecord, 'a function (value) => record, records or null')
    ?? ((value: T) => ({ value: value as unknown as V }));
  const passThrough = functionOption<(value: T) => P>('passThrough', options.passThrough, 'a function (value) => what the report carries')
    ?? ((value: T) => value as unknown as P);

  return (source) =>
    new Observable<SourceReport<P, V, K>>((subscriber) => {
      const emitQueue: Array<Entry<P, V, K>> = [];
      let emitHead = 0;
      const waiting = new Fifo<Prepared<T, V, K>>();
      let inFlightRecords = 0;
      let inFlightBytes = 0;
      let sourceDone = false;
      let failure: KafkaRxError | undefined;
      let finished = false;
      const iterator = pullIteratorOf(source);
      let pulling = false;
      const stopSource$ = new Subject<void>();

      /**
       * Stops reading the source at once, even in the middle of a synchronous source's emissions
       * (range(), from(array)): takeUntil's subscriber exists before the source runs, so the source
       * sees itself closed at its next value instead of running to its end into the buffer.
       */
      const stopReading = () => {
        if (!sourceDone) void iterator?.return?.();
        sourceDone = true;
        waiting.clear();
        stopSource$.next();
      };
      // Added before the source is subscribed: an error or unsubscribe during a synchronous
      // source's run stops it then, not after it returns (a teardown returned below would wait).
      subscriber.add(stopReading);

      const prepare = (value: T): Prepared<T, V, K> => {
        const producer = producerFor(value);
        const mapped = toRecord(value);
        const records = mapped === null || mapped === undefined ? [] : Array.isArray(mapped) ? mapped : [mapped as KafkaRecord<V, K>];
        let bytes = 0;
        for (const record of records) bytes += byteLength(record.value) + byteLength(record.key);
        return { value, producer, records, bytes };
      };

      const fits = (next: Prepared<T, V, K>) =>
        inFlightRecords === 0 || (inFlightRecords + next.records.length <= maxInFlight && inFlightBytes + next.bytes <= maxInFlightBytes);

      const finishIfDone = () => {
        if (finished || !sourceDone || waiting.length > 0 || inFlightRecords > 0 || emitHead < emitQueue.length) return;
        finished = true;
        if (failure !== undefined) subscriber.error(failure);
        else subscriber.complete();
      };

      const emit = (entry: Entry<P, V, K>) => {
        const reports = entry.reports as DeliveryReport<V, K>[];
        const report: SourceReport<P, V, K> = entry.error === undefined
          ? { passThrough: entry.passThrough, reports, message: reports[0]?.message }
          : { passThrough: entry.passThrough, reports, message: reports[0]?.message, error: entry.error };
        subscriber.next(report);
        if (entry.error !== undefined && failFast && failure === undefined) {
          failure = entry.error;
          // Stop reading; what is already handed over is still reported before the error.
          stopReading();
        }
      };

      const entryDone = (entry: Entry<P, V, K>) => {
        entry.done = true;
        if (!inputOrder) {
          emit(entry);
          return;
        }
        while (emitHead < emitQueue.length && emitQueue[emitHead].done) {
          const head = emitQueue[emitHead];
          emitQueue[emitHead++] = undefined as unknown as Entry<P, V, K>;
          emit(head);
        }
        if (emitHead > 1024 && emitHead * 2 > emitQueue.length) {
          emitQueue.splice(0, emitHead);
          emitHead = 0;
        }
      };

      const dispatch = (prepared: Prepared<T, V, K>) => {
        const entry: Entry<P, V, K> = {
          passThrough: passThrough(prepared.value),
          reports: new Array(prepared.records.length),
          remaining: prepared.records.length,
          error: undefined,
          done: false,
        };
        if (inputOrder) emitQueue.push(entry);
        if (prepared.records.length === 0) {
          entryDone(entry);
          return;
        }
        const producer = prepared.producer;
        prepared.records.forEach((record, index) => {
          const bytes = byteLength(record.value) + byteLength(record.key);
          inFlightRecords++;
          inFlightBytes += bytes;
          const settle = (report: DeliveryReport<V, K>) => {
            if (entry.reports[index] !== undefined) return;
            entry.reports[index] = report;
            inFlightRecords--;
            inFlightBytes -= bytes;
            if (report.error !== undefined && entry.error === undefined) entry.error = report.error;
            if (--entry.remaining === 0) entryDone(entry);
            if (!subscriber.closed) {
              drain();
              finishIfDone();
            }
          };
          producer
            .send(record.value, { key: record.key, headers: record.headers, timestamp: record.timestamp, partition: record.partition }, settle)
            .catch((error: unknown) => settle({ message: unsentMessage(producer.topic, record), error: asKafkaRxError(error) }));
        });
      };

      const drain = () => {
        while (waiting.length > 0 && failure === undefined && fits(waiting.peek()!)) dispatch(waiting.shift()!);
        if (iterator !== undefined && waiting.length === 0) pull();
      };

      const accept = (value: T) => {
        let prepared: Prepared<T, V, K>;
        try {
          prepared = prepare(value);
        } catch (error) {
          fail(asKafkaRxError(error));
          return;
        }
        if (waiting.length === 0 && fits(prepared)) {
          dispatch(prepared);
          return;
        }
        waiting.push(prepared);
        if (iterator === undefined && waiting.length > maxBuffered && options.overflow !== 'buffer') {
          fail(new BackpressureOverflowError(`toKafka: more than maxBuffered (${maxBuffered}) source values wait for room; the source does not slow down (use lazyFrom() for a pull source, pause on producer.pressure$, or set overflow: 'buffer')`));
        }
      };

      const fail = (error: KafkaRxError) => {
        if (finished) return;
        finished = true;
        subscriber.error(error);
      };

      // Reads a lazyFrom() source one value at a time while the budget has room.
      const pull = () => {
        if (pulling || sourceDone || iterator === undefined) return;
        pulling = true;
        const step = (): void => {
          while (!sourceDone && !subscriber.closed && waiting.length === 0 && failure === undefined && (inFlightRecords < maxInFlight && inFlightBytes < maxInFlightBytes)) {
            let result: IteratorResult<T> | Promise<IteratorResult<T>>;
            try {
              result = iterator.next();
            } catch (error) {
              pulling = false;
              fail(asKafkaRxError(error));
              return;
            }
            if (result instanceof Promise) {
              result.then(
                (r) => {
                  if (subscriber.closed) return;
                  if (r.done) sourceDone = true;
                  else accept(r.value);
                  step();
                },
                (error) => {
                  pulling = false;
                  fail(asKafkaRxError(error));
                },
              );
              return;
            }
            if (result.done) sourceDone = true;
            else accept(result.value);
          }
          pulling = false;
          finishIfDone();
        };
        step();
      };

      if (iterator !== undefined) {
        pull();
      } else {
        source.pipe(takeUntil(stopSource$)).subscribe({
          next: accept,
          error: (error) => fail(asKafkaRxError(error)),
          complete: () => {
            if (sourceDone) return;
            sourceDone = true;
            finishIfDone();
          },
        });
      }
    });
}

/** The message of a record the producer refused before queueing it (wrong type, stopped, queue full). */
function unsentMessage<V, K>(topic: string, record: KafkaRecord<V, K>): Message<V, K> {
  return {
    topic,
    partition: -1,
    offset: -1n,
    timestamp: typeof record.timestamp === 'number' ? record.timestamp : Date.now(),
    value: null,
    key: null,
    headers: undefined,
    input: record.value,
    inputKey: record.key ?? undefined,
    attempts: 0,
  };
}
