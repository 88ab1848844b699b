import { asKafkaRxError } from '../errors/convert.js';
import { ConfigError } from '../errors/index.js';
import { functionOption, integerOption, refuseUnknownOptions } from '../option-checks.js';
import type { DeliveryReport, Message } from './message.js';
import type { KafkaRecord, RecordFields } from './record.js';
import { Fifo } from '../fifo.js';

/** sendAll's record (its public name). */
export type SendAllRecord<V, K> = KafkaRecord<V, K>;

export interface SendAllOptions<T, V, K> {
  /** Maps each item to its record; default: the item is the record's value. */
  toRecord?: (item: T) => KafkaRecord<V, K>;
  /** Most records sent and not yet reported (default 1000). */
  maxInFlight?: number;
}

interface Sender<V, K> {
  /** The default topic; undefined for a producer whose records name theirs. */
  readonly topic: string | undefined;
  send(value: V, record: RecordFields<K>, onReport: (report: DeliveryReport<V, K>) => void): Promise<Message<V, K>>;
}

/**
 * Pull-based producing for lazy sources: reads the next item only while fewer than maxInFlight
 * records await their outcome, and only while the caller keeps reading reports (an async
 * generator runs only when asked for its next value). Reports come in input order.
 */
export async function* sendAll<T, V, K>(producer: Sender<V, K>, items: Iterable<T> | AsyncIterable<T>, options: SendAllOptions<T, V, K> = {}): AsyncGenerator<DeliveryReport<V, K>, void, undefined> {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object of sendAll options', options);
  refuseUnknownOptions(options, ['toRecord', 'maxInFlight']);
  const maxInFlight = integerOption('maxInFlight', options.maxInFlight, 1000, 1);
  const toRecord: (item: T) => KafkaRecord<V, K> = functionOption<(item: T) => KafkaRecord<V, K>>('toRecord', options.toRecord, 'a function (item) => record')
    ?? ((item: T) => ({ value: item as unknown as V }));
  const iterator = Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]();
  const outstanding = new Fifo<Promise<DeliveryReport<V, K>>>();
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && outstanding.length < maxInFlight) {
        const step = await iterator.next();
        if (step.done) {
          exhausted = true;
          break;
        }
        const record = toRecord(step.value);
        outstanding.push(
          new Promise<DeliveryReport<V, K>>((resolve) => {
            producer
              .send(record.value, { topic: record.topic, key: record.key, headers: record.headers, timestamp: record.timestamp, partition: record.partition }, resolve)
              .catch((error: unknown) => resolve({ message: refused(record.topic ?? producer.topic ?? '', record), error: asKafkaRxError(error) }));
          }),
        );
      }
      const next = outstanding.shift();
      if (next === undefined) return;
      yield await next;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}

function refused<V, K>(topic: string, record: KafkaRecord<V, K>): Message<V, K> {
  return { topic, partition: -1, offset: -1n, timestamp: Date.now(), value: null, key: null, headers: undefined, input: record.value, inputKey: record.key ?? undefined, attempts: 0 };
}
