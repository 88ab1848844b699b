import { filter, map, type OperatorFunction } from 'rxjs';
import { ConfigError, MaybeWrittenError, type KafkaRxError } from '../lib/errors/index.js';
import { functionOption, integerOption, refuseUnknownOptions } from '../lib/option-checks.js';
import type { DeliveryReport, RecordHeader } from '../lib/producer/message.js';
import { toKafka, type KafkaRecord, type ProducerLike } from './to-kafka.js';

/** A failed report as toDeadLetter takes it: retryFailed's reports also say how often the record was sent in all. */
export interface FailedReport<V = unknown, K = unknown> extends DeliveryReport<V, K> {
  /** Attempts over every send of the record (retryFailed sets it); default `message.attempts`. */
  readonly totalAttempts?: number;
}

/** The outcome of dead-lettering one failed report. */
export interface DeadLetterReport<V = unknown, K = unknown> {
  /** The failed report that was dead-lettered. */
  readonly original: DeliveryReport<V, K>;
  /** The report of the dead-letter record itself. */
  readonly deadLetter: DeliveryReport<Buffer | null, Buffer | null>;
  /** Present when the dead-letter write failed: reported here, never dead-lettered again. */
  readonly error?: KafkaRxError;
}

export interface ToDeadLetterOptions<V, K> {
  /** Which failed reports to dead-letter (default: every failed report; acknowledged ones are never). */
  when?: (report: DeliveryReport<V, K>) => boolean;
  /** Prefix of the headers added to the original ones (default 'dlq.'). */
  headerPrefix?: string;
  /** Most dead-letter records without an outcome yet (default 1000). */
  maxInFlight?: number;
}

const optionNames = ['when', 'headerPrefix', 'maxInFlight'] as const satisfies ReadonlyArray<keyof ToDeadLetterOptions<unknown, unknown>>;

/**
 * Writes each failed delivery report to a dead-letter topic, through `producer` (a producer for
 * that topic), and emits one DeadLetterReport per failed report, in input order; acknowledged
 * reports are dropped. The dead-letter record carries the original key, value (the bytes that were
 * to be written) and headers, plus headers naming what went wrong:
 *
 * | header (default prefix)  | value                                                        |
 * |--------------------------|--------------------------------------------------------------|
 * | dlq.error.name           | the error's class name, e.g. DeliveryTimeoutError             |
 * | dlq.error.message        | the error's message                                          |
 * | dlq.outcome              | `not-written`, or `maybe-written` for a MaybeWrittenError     |
 * | dlq.source.topic         | the topic the record was meant for                           |
 * | dlq.source.partition     | its partition (-1 if it never got one)                       |
 * | dlq.attempts             | how many times it was sent (over every retryFailed re-send)  |
 *
 * A dead-letter write that fails comes out as a DeadLetterReport with `error`: it is not fed back,
 * so nothing loops. Completes once the source has and every dead-letter write is reported.
 *
 * ```
 * reports:  -a-B-c-D-|        (B and D failed)
 * dlq acks: ----X---Y         (one tick after each dead-letter record leaves)
 * result:   ----X---Y|        X = { original: B, deadLetter: ... }
 * ```
 */
export function toDeadLetter<V, K>(
  producer: ProducerLike<Buffer | null, Buffer | null>,
  options: ToDeadLetterOptions<V, K> = {},
): OperatorFunction<DeliveryReport<V, K>, DeadLetterReport<V, K>> {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object of toDeadLetter options', options);
  refuseUnknownOptions(options, optionNames);
  const when = functionOption<(report: DeliveryReport<V, K>) => boolean>('when', options.when, 'a function (report) => boolean') ?? (() => true);
  const prefix = options.headerPrefix ?? 'dlq.';
  if (typeof prefix !== 'string') throw new ConfigError('headerPrefix', 'a string', prefix);
  const maxInFlight = integerOption('maxInFlight', options.maxInFlight, 1000, 1);
  return (source) =>
    source.pipe(
      filter((report) => report.error !== undefined && when(report)),
      toKafka(producer, {
        toRecord: (report: DeliveryReport<V, K>) => deadLetterRecord(report, prefix),
        passThrough: (report: DeliveryReport<V, K>) => report,
        maxInFlight,
        // A source that cannot pause still never loses a failure: the failures are the point.
        overflow: 'buffer',
      }),
      map((outcome) => {
        const deadLetter = outcome.reports[0];
        return outcome.error === undefined
          ? { original: outcome.passThrough, deadLetter }
          : { original: outcome.passThrough, deadLetter, error: outcome.error };
      }),
    );
}

/** The dead-letter record of a failed report. */
export function deadLetterRecord<V, K>(report: FailedReport<V, K>, prefix = 'dlq.'): KafkaRecord<Buffer | null, Buffer | null> {
  const { message } = report;
  const error = report.error!;
  const headers: RecordHeader[] = message.headers === undefined ? [] : [...message.headers];
  const add = (name: string, value: string) => headers.push({ key: prefix + name, value: Buffer.from(value) });
  add('error.name', error.name);
  add('error.message', error.message);
  add('outcome', error instanceof MaybeWrittenError ? 'maybe-written' : 'not-written');
  add('source.topic', message.topic);
  add('source.partition', String(message.partition));
  add('attempts', String(report.totalAttempts ?? message.attempts));
  return { value: message.value ?? bytesOf(message.input), key: message.key ?? bytesOf(message.inputKey), headers };
}

/** A record the producer refused before serializing it keeps the caller's value: bytes as they are, anything else null. */
function bytesOf(input: unknown): Buffer | null {
  if (Buffer.isBuffer(input)) return input;
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (typeof input === 'string') return Buffer.from(input);
  return null;
}
