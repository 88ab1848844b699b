import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError, type KafkaRxError } from '../lib/errors/index.js';
import { functionOption, integerOption, oneOfOption, refuseUnknownOptions } from '../lib/option-checks.js';
import type { DeliveryReport, Message } from '../lib/producer/message.js';
import type { KafkaRecord, RecordFields } from '../lib/producer/record.js';
import { ToKafkaRun, type ToKafkaConfig } from './to-kafka/run.js';

export type { KafkaRecord };

/** What toKafka needs of a producer: a send with a callback for the one report of each message. */
export interface ProducerLike<V, K> {
  /** The default topic; undefined for a producer whose records name theirs. */
  readonly topic: string | undefined;
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
  // Checked when the operator is made, not when it is subscribed: a wrong option fails at once.
  const config = resolveToKafkaOptions(producerFor, options);
  return (source) => new Observable<SourceReport<P, V, K>>((subscriber) => new ToKafkaRun(source, subscriber, config).start());
}

function resolveToKafkaOptions<T, P, V, K>(
  producerFor: (value: T) => ProducerLike<V, K>,
  options: ToKafkaOptions<T, P, V, K>,
): ToKafkaConfig<T, P, V, K> {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object of toKafka options', options);
  refuseUnknownOptions(options, toKafkaOptionNames);
  return {
    producerFor,
    maxInFlight: integerOption('maxInFlight', options.maxInFlight, 1000, 1),
    maxInFlightBytes: integerOption('maxInFlightBytes', options.maxInFlightBytes, 16 * 1024 * 1024, 1),
    maxBuffered: integerOption('maxBuffered', options.maxBuffered, 10_000, 0),
    bufferPastMax: oneOfOption('overflow', options.overflow, ['error', 'buffer'], 'error') === 'buffer',
    failFast: oneOfOption('onError', options.onError, ['emit', 'fail'], 'emit') === 'fail',
    inputOrder: oneOfOption('order', options.order, ['input', 'completion'], 'input') === 'input',
    toRecord: functionOption<ToKafkaConfig<T, P, V, K>['toRecord']>('toRecord', options.toRecord, 'a function (value) => record, records or null')
      ?? ((value: T) => ({ value: value as unknown as V })),
    passThrough: functionOption<(value: T) => P>('passThrough', options.passThrough, 'a function (value) => what the report carries')
      ?? ((value: T) => value as unknown as P),
  };
}
