import type { RecordHeader } from './message.js';

/** Headers as a record takes them: a list of { key, value } (keys may repeat), an object or a Map; values strings (UTF-8), bytes or null. */
export type RecordHeaders = RecordHeader[] | Record<string, string | Buffer | null> | Map<string, string | Buffer | Uint8Array | null>;

/** A record without its value: the second argument of produce() in its record form. */
export interface RecordFields<K = unknown> {
  /**
   * The topic to write to. Required by a producer made without a topic (`client.producer(options)`);
   * for one made with a topic, any other topic, or left out for that one.
   */
  topic?: string;
  key?: K | null;
  /** Milliseconds since the epoch, or a Date; default now. */
  timestamp?: number | Date;
  headers?: RecordHeaders;
  /** An explicit partition, bypassing the partitioner. */
  partition?: number;
}

/**
 * One record as kafka-rx takes it, whichever way it comes in: produce(value, fields), sendAll's
 * and toKafka's toRecord. Value and key are what the producer's serializer (if any) turns into bytes.
 */
export interface KafkaRecord<V = Buffer | null, K = Buffer | null> extends RecordFields<K> {
  value: V;
}
