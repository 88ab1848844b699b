import type { ProduceRequest } from '../protocol/produce.js';
import { encodeRecordBatch, recordSize, RECORD_BATCH_OVERHEAD, type Compression } from '../records/index.js';
import type { PendingMessage } from './message.js';

/** One partition's record batch inside a planned request, with the messages it carries. */
export interface PlannedBatch {
  partition: number;
  messages: PendingMessage[];
  records: Buffer;
}

export interface PlannedRequest {
  request: ProduceRequest;
  batches: PlannedBatch[];
  /** Exact size of the request frame (header and body, without the 4-byte length prefix). */
  size: number;
}

export interface RequestPlan {
  requests: PlannedRequest[];
  /** Messages that cannot fit in a request of maxRequestSize even alone. */
  oversized: PendingMessage[];
}

export interface PlanSettings {
  topic: string;
  version: number;
  clientId: string;
  acks: 0 | 1 | -1;
  timeoutMs: number;
  compression: Compression;
  maxRequestSize: number;
  /** Idempotence fields, when the producer has them. */
  producerId?: bigint;
  producerEpoch?: number;
  baseSequenceOf?: (partition: number, count: number) => number;
}

const FIRST_FLEXIBLE_PRODUCE_VERSION = 9;

function uvarintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value >>>= 7;
    size++;
  }
  return size;
}

/**
 * Exact Produce request sizes, from the grammar (RequestHeader v1/v2 and ProduceRequest v3+):
 * kafka-rx checks maxRequestSize against the real encoded request, not a per-message estimate.
 */
class ProduceSizer {
  readonly flexible: boolean;
  private readonly fixed: number;

  constructor(settings: PlanSettings) {
    this.flexible = settings.version >= FIRST_FLEXIBLE_PRODUCE_VERSION;
    const clientId = Buffer.byteLength(settings.clientId);
    const topic = Buffer.byteLength(settings.topic);
    const header = 2 + 2 + 4 + 2 + clientId + (this.flexible ? 1 : 0);
    const body = this.flexible
      ? 1 /* null transactional id */ + 2 + 4 + 1 /* one topic */ + uvarintSize(topic + 1) + topic + 1 /* topic tags */ + 1 /* body tags */
      : 2 + 2 + 4 + 4 + 2 + topic;
    this.fixed = header + body;
  }

  /** Size of a request holding the given batch sizes. */
  requestSize(batchCount: number, batchBytes: number): number {
    return this.fixed + this.partitionsArraySize(batchCount) + batchBytes;
  }

  /** What one batch of n bytes adds to a request (its partition entry). */
  batchEntrySize(bytes: number): number {
    return this.flexible ? 4 + uvarintSize(bytes + 1) + bytes + 1 : 4 + 4 + bytes;
  }

  private partitionsArraySize(count: number): number {
    return this.flexible ? uvarintSize(count + 1) : 4;
  }
}

/**
 * Splits one broker's messages into Produce requests of at most maxRequestSize bytes: one record
 * batch per partition per request, partition order kept across requests (a later chunk of a
 * partition always goes into a later request), and any message too large to fit alone set aside.
 */
export function planRequests(messages: readonly PendingMessage[], settings: PlanSettings): RequestPlan {
  const sizer = new ProduceSizer(settings);
  const byPartition = new Map<number, PendingMessage[]>();
  for (const message of messages) {
    let list = byPartition.get(message.partition);
    if (list === undefined) byPartition.set(message.partition, (list = []));
    list.push(message);
  }

  // The largest batch that fits in a request on its own.
  const batchLimit = largestBatchAlone(sizer, settings.maxRequestSize);
  const oversized: PendingMessage[] = [];
  const requests: Array<{ batches: PlannedBatch[]; bytes: number; partitions: Set<number> }> = [];

  for (const [partition, list] of byPartition) {
    let lastRequestIndex = -1;
    for (const chunk of chunkByUncompressedSize(list, batchLimit, oversized)) {
      for (const batch of encodeWithinLimit(partition, chunk, settings, batchLimit, oversized)) {
        const entry = sizer.batchEntrySize(batch.records.length);
        let index = lastRequestIndex + 1;
        while (index < requests.length) {
          const candidate = requests[index];
          if (!candidate.partitions.has(partition) && sizer.requestSize(candidate.batches.length + 1, candidate.bytes + entry) <= settings.maxRequestSize) break;
          index++;
        }
        if (index === requests.length) requests.push({ batches: [], bytes: 0, partitions: new Set() });
        const target = requests[index];
        target.batches.push(batch);
        target.bytes += entry;
        target.partitions.add(partition);
        lastRequestIndex = index;
      }
    }
  }

  return {
    oversized,
    requests: requests.map(({ batches, bytes }) => ({
      batches,
      size: sizer.requestSize(batches.length, bytes),
      request: {
        transactionalId: null,
        acks: settings.acks,
        timeoutMs: settings.timeoutMs,
        topics: [{ name: settings.topic, partitions: batches.map((b) => ({ index: b.partition, records: b.records })) }],
      },
    })),
  };
}

function largestBatchAlone(sizer: ProduceSizer, maxRequestSize: number): number {
  // Entry overhead grows by at most a few varint bytes with the batch size: search down from the bound.
  let limit = maxRequestSize - sizer.requestSize(1, 0);
  while (limit > 0 && sizer.requestSize(1, sizer.batchEntrySize(limit)) > maxRequestSize) limit--;
  return limit;
}

function* chunkByUncompressedSize(list: PendingMessage[], limit: number, oversized: PendingMessage[]): Generator<PendingMessage[]> {
  let chunk: PendingMessage[] = [];
  let bytes = RECORD_BATCH_OVERHEAD;
  for (let i = 0; i < list.length; i++) {
    const message = list[i];
    // Offset and timestamp deltas are part of a record's size; with one record they are 0.
    const alone = RECORD_BATCH_OVERHEAD + recordSize(message, 0, 0);
    if (alone > limit) {
      oversized.push(message);
      continue;
    }
    const size = recordSize(message, chunk.length, message.timestamp - (chunk[0]?.timestamp ?? message.timestamp));
    if (chunk.length > 0 && bytes + size > limit) {
      yield chunk;
      chunk = [];
      bytes = RECORD_BATCH_OVERHEAD;
      bytes += recordSize(message, 0, 0);
    } else {
      bytes += size;
    }
    chunk.push(message);
  }
  if (chunk.length > 0) yield chunk;
}

/** Encodes a chunk; if compression made it larger than the limit (incompressible data), halves it. */
function encodeWithinLimit(partition: number, chunk: PendingMessage[], settings: PlanSettings, limit: number, oversized: PendingMessage[]): PlannedBatch[] {
  const records = encodeRecordBatch(chunk, {
    compression: settings.compression,
    producerId: settings.producerId,
    producerEpoch: settings.producerEpoch,
    baseSequence: settings.baseSequenceOf ? settings.baseSequenceOf(partition, chunk.length) : undefined,
  });
  if (records.length <= limit) return [{ partition, messages: chunk, records }];
  if (chunk.length === 1) {
    oversized.push(chunk[0]);
    return [];
  }
  const half = Math.ceil(chunk.length / 2);
  return [
    ...encodeWithinLimit(partition, chunk.slice(0, half), settings, limit, oversized),
    ...encodeWithinLimit(partition, chunk.slice(half), settings, limit, oversized),
  ];
}
