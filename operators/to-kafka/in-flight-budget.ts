import type { KafkaRecord } from '../../lib/producer/record.js';

/** Bytes a record's value and key count against maxInFlightBytes (before serialization: what the caller handed over). */
export function recordBytes(record: KafkaRecord<unknown, unknown>): number {
  return byteLength(record.value) + byteLength(record.key);
}

function byteLength(data: unknown): number {
  return data instanceof Uint8Array ? data.length : typeof data === 'string' ? data.length : 0;
}

/** toKafka's budget: records (and their bytes) handed to a producer without an outcome yet. */
export class InFlightBudget {
  records = 0;
  bytes = 0;

  constructor(
    private readonly maxRecords: number,
    private readonly maxBytes: number,
  ) {}

  /**
   * Whether a source value of `records` records and `bytes` bytes may be handed over now. Always
   * when nothing is in flight, so a value larger than the whole budget still goes, alone.
   */
  fits(records: number, bytes: number): boolean {
    return this.records === 0 || (this.records + records <= this.maxRecords && this.bytes + bytes <= this.maxBytes);
  }

  /** Whether reading another value from a pull source is worth it. */
  get hasRoom(): boolean {
    return this.records < this.maxRecords && this.bytes < this.maxBytes;
  }

  take(bytes: number): void {
    this.records++;
    this.bytes += bytes;
  }

  release(bytes: number): void {
    this.records--;
    this.bytes -= bytes;
  }
}
