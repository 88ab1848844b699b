import { InvalidTimestampError, KafkaRxError, kafkaErrorFor } from '../errors/index.js';
import type { ProducePartitionResponse } from '../protocol/produce.js';

const INVALID_TIMESTAMP = InvalidTimestampError.code;

// The broker's text for a refused timestamp (Kafka 3.6+): "... The timestamp should be within [lo, hi]".
const ACCEPTED_RANGE = /within \[(-?\d+), (-?\d+)\]/;

/**
 * The error for one record a broker named in a Produce answer's record errors (v8+, KIP-467).
 * A refused timestamp says which limit it broke: since Kafka 4.0 a broker accepts timestamps at
 * most log.message.timestamp.after.max.ms (one hour by default, unlimited before 4.0) ahead of its
 * own clock, and the broker's own range is quoted when it gives one.
 */
export function recordRefusal(result: ProducePartitionResponse, brokerMessage: string | null, timestamp: number): KafkaRxError {
  const text = brokerMessage ?? result.errorMessage ?? undefined;
  if (result.errorCode !== INVALID_TIMESTAMP) return kafkaErrorFor(result.errorCode, text);
  return kafkaErrorFor(INVALID_TIMESTAMP, timestampRefusal(timestamp, text));
}

function timestampRefusal(timestamp: number, brokerMessage: string | undefined): string {
  const range = brokerMessage === undefined ? null : ACCEPTED_RANGE.exec(brokerMessage);
  const at = `record timestamp ${timestamp} (${isoOrRaw(timestamp)})`;
  const quoted = brokerMessage === undefined ? '' : `; the broker said: ${brokerMessage}`;
  if (range !== null) {
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    if (timestamp > hi) {
      return `${at} is more than the broker accepts ahead of its clock (at most ${hi}, ${isoOrRaw(hi)}): its limit is log.message.timestamp.after.max.ms, or the topic's message.timestamp.after.max.ms (3600000 ms, one hour, by default since Kafka 4.0)${quoted}`;
    }
    if (timestamp < lo) {
      return `${at} is further in the past than the broker accepts (at least ${lo}, ${isoOrRaw(lo)}): its limit is log.message.timestamp.before.max.ms, or the topic's message.timestamp.before.max.ms${quoted}`;
    }
  }
  return `${at} refused: outside log.message.timestamp.after.max.ms / before.max.ms (after.max.ms is one hour by default since Kafka 4.0)${quoted}`;
}

function isoOrRaw(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'out of range' : date.toISOString();
}
