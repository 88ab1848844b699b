import { produceRequestSize, type ProduceRequest } from '../protocol/produce.js';
import type { Compression } from '../records/codecs/index.js';
import { RecordBatchEncoder, recordSize, RECORD_BATCH_OVERHEAD } from '../records/record-batch.js';
import { youngArray, youngArrayOf } from '../young-array.js';
import type { PendingMessage } from './message.js';
import { SealedRecordBatch, type PartitionBuffer, type PartitionBuffers, type ProducerIdentity, type SealedBatch } from './partition-buffer.js';

/** One partition's record batch inside a planned request, with the messages it carries. */
export class PlannedBatch {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly messages: PendingMessage[],
    readonly records: Buffer,
    /** With idempotence: the batch whose sequence numbers are fixed for every attempt. */
    readonly sealed?: SealedBatch,
    /** With idempotence: the partition's buffer, which holds its sequence state. */
    readonly buffer?: PartitionBuffer,
  ) {}
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
  /** With idempotence: messages left out because an older message of their partition is elsewhere. */
  waiting: PendingMessage[];
}

export interface PlanSettings {
  /**
   * Topic ids, required from Produce v13, which names topics by id (the caller plans at v12 while
   * a topic of the messages has none known). Looked up at each plan: a topic deleted and created
   * again under its name has a new id.
   */
  topicIdOf?: (topic: string) => Buffer | undefined;
  version: number;
  clientId: string;
  acks: 0 | 1 | -1;
  timeoutMs: number;
  compression: Compression;
  maxRequestSize: number;
  /** With idempotence: the producer's id and epoch, and the partition buffers holding the sequence numbers. */
  idempotence?: { identity: ProducerIdentity; buffers: PartitionBuffers };
  /** A transactional producer's id: named in each request, and its batches flagged transactional. */
  transactionalId?: string | null;
}

const FIRST_FLEXIBLE_PRODUCE_VERSION = 9;

/**
 * Splits one broker's messages, of any topics, into Produce requests of at most maxRequestSize
 * bytes: one record batch per topic partition per request, every topic the broker leads a
 * partition of in the same request, partition order kept across requests (a later chunk of a
 * partition always goes into a later request), and any message too large to fit alone set aside.
 *
 * Sizes are exact: RequestHeader v1/v2 plus the body as the protocol layer measures it, so
 * maxRequestSize is checked against the real encoded request, not a per-message estimate. A planner
 * serves one producer's settings at one Produce version: what depends only on them (the header's
 * size, the largest batch that fits alone) is worked out once, not per plan.
 */
export class RequestPlanner {
  private readonly headerSize: number;
  /** A request of no batches: header, transactional id, acks, timeout, an empty topic array. */
  private readonly emptyRequestSize: number;
  /** Per topic, the largest record batch that fits in a request on its own (the name's length counts). */
  private readonly batchLimits = new Map<string, number>();
  private readonly encoder = RecordBatchEncoder.pooled();

  constructor(readonly settings: PlanSettings) {
    const flexible = settings.version >= FIRST_FLEXIBLE_PRODUCE_VERSION;
    this.headerSize = 2 + 2 + 4 + 2 + Buffer.byteLength(settings.clientId) + (flexible ? 1 : 0);
    this.emptyRequestSize = this.sizeOf([]);
  }

  /** The largest record batch of the topic that fits in a request on its own. */
  batchLimit(topic: string): number {
    let limit = this.batchLimits.get(topic);
    if (limit === undefined) this.batchLimits.set(topic, (limit = this.largestBatchAlone(topic)));
    return limit;
  }

  /**
   * The broker answered the request, so every byte of it was written: its encoded batches are read
   * no more and their slabs may be reused. A sealed batch sent again is then encoded again, to the
   * same bytes (its messages, producer id, epoch and sequence are kept). Called once per answer:
   * a batch given back twice could let its slab be overwritten while another request still holds it.
   */
  answered(planned: PlannedRequest): void {
    const { batches } = planned;
    for (let b = 0; b < batches.length; b++) {
      const batch = batches[b];
      if (batch.sealed !== undefined && batch.sealed.records === batch.records) batch.sealed.records = null;
      this.encoder.release(batch.records);
    }
  }

  plan(messages: readonly PendingMessage[]): RequestPlan {
    const oversized = youngArray<PendingMessage>();
    const waiting = youngArray<PendingMessage>();
    const underway = youngArray<RequestUnderway>();
    const shares = sharesByPartition(messages);
    for (let i = 0; i < shares.length; i++) this.planPartition(shares[i], underway, oversized, waiting);
    let requests: PlannedRequest[];
    if (underway.length === 1) requests = youngArrayOf(this.planned(underway[0]));
    else {
      requests = youngArray();
      for (let i = 0; i < underway.length; i++) requests.push(this.planned(underway[i]));
    }
    return { requests, oversized, waiting };
  }

  private planned({ batches }: RequestUnderway): PlannedRequest {
    const request = this.requestOf(batches);
    return { batches, request, size: this.headerSize + produceRequestSize(this.settings.version, request) };
  }

  /** Places one partition's batches, sealed ones first, each in a request after the previous one. */
  private planPartition(share: PartitionShare, requests: RequestUnderway[], oversized: PendingMessage[], waiting: PendingMessage[]): void {
    const { settings } = this;
    const { topic, partition, sealed } = share;
    const batchLimit = this.batchLimit(topic);
    let fresh = share.fresh;
    const idempotence = settings.idempotence;
    const buffer = idempotence?.buffers.of(topic, partition);
    if (buffer !== undefined && fresh.length > 0) {
      const { now, later } = buffer.sealable(fresh);
      fresh = now;
      for (const message of later) waiting.push(message);
    }
    let lastRequest = -1;
    // Batches sealed by an earlier attempt go first, in sequence order, exactly as first encoded.
    if (sealed !== null && sealed.length > 1) sealed.sort((a, b) => a.baseSequence - b.baseSequence);
    for (let b = 0; sealed !== null && b < sealed.length; b++) {
      const batch = sealed[b];
      lastRequest = this.place(requests, lastRequest, new PlannedBatch(topic, partition, batch.messages, batch.records ?? encodeSealed(batch, settings, this.encoder), batch, buffer));
    }
    if (fresh.length === 0) return;
    // A partition the broker has not yet acknowledged under this producer id gets one batch; the
    // rest waits for its answer (see PartitionBuffer.confirmed).
    const probing = buffer !== undefined && !buffer.isConfirmed;
    const chunks = chunkByUncompressedSize(fresh, batchLimit, oversized);
    for (let c = 0; c < chunks.length; c++) {
      if (probing && c > 0) {
        for (const message of chunks[c]) waiting.push(message);
        continue;
      }
      const chunk = chunks[c];
      // Most chunks fit once encoded: their batch is placed without a list.
      const whole = encodeBatch(topic, partition, chunk, settings, this.encoder, buffer, batchLimit);
      if (whole !== null) {
        lastRequest = this.place(requests, lastRequest, whole);
        continue;
      }
      const halving: Halving = { topic, partition, settings, encoder: this.encoder, buffer, limit: batchLimit, oversized, out: youngArray() };
      encodeHalves(halving, chunk);
      for (let b = 0; b < halving.out.length; b++) lastRequest = this.place(requests, lastRequest, halving.out[b]);
    }
  }

  /** Puts a batch in the first request after `after` that lacks its partition and has room; returns its index. */
  private place(requests: RequestUnderway[], after: number, batch: PlannedBatch): number {
    // The most this batch can add to a request: its partition entry, a new topic entry, and a byte
    // more for each array count that grows (3 UTF-8 bytes per UTF-16 unit of the name at most).
    const growth = batch.records.length + 3 * batch.topic.length + BATCH_ENTRY_BOUND;
    let index = after + 1;
    let size = -1;
    while (index < requests.length) {
      const candidate = requests[index];
      if (!candidate.has(batch) && (size = this.sizeWith(candidate, batch, growth)) >= 0) break;
      index++;
    }
    if (index === requests.length) {
      requests.push(new RequestUnderway(batch, this.emptyRequestSize + growth));
      return index;
    }
    requests[index].add(batch, size);
    return index;
  }

  /**
   * The request's size with the batch added, if that is within maxRequestSize; -1 if not. An upper
   * bound while far from the limit, the exact size near it: a request of many partitions is not
   * measured again from the start at each batch it takes.
   */
  private sizeWith(candidate: RequestUnderway, batch: PlannedBatch, growth: number): number {
    const { maxRequestSize } = this.settings;
    const bound = candidate.size + growth;
    if (bound <= maxRequestSize) return bound;
    const exact = this.sizeOf([...candidate.batches, batch]);
    return exact <= maxRequestSize ? exact : -1;
  }

  /** The request for these batches: one entry per topic, in the order the topics first appear. */
  private requestOf(batches: readonly PlannedBatch[]): ProduceRequest {
    type TopicEntry = { name: string; topicId: Buffer | undefined; partitions: Array<{ index: number; records: Buffer }> };
    let topics: TopicEntry[] | null = null;
    let last: TopicEntry | undefined;
    for (let b = 0; b < batches.length; b++) {
      const batch = batches[b];
      const partition = { index: batch.partition, records: batch.records };
      let entry: TopicEntry | undefined = last !== undefined && last.name === batch.topic ? last : topics?.find((t) => t.name === batch.topic);
      if (entry === undefined) {
        entry = { name: batch.topic, topicId: this.settings.topicIdOf?.(batch.topic), partitions: youngArrayOf(partition) };
        if (topics === null) topics = youngArrayOf(entry);
        else topics.push(entry);
      } else {
        entry.partitions.push(partition);
      }
      last = entry;
    }
    topics ??= youngArray();
    return { transactionalId: this.settings.transactionalId ?? null, acks: this.settings.acks, timeoutMs: this.settings.timeoutMs, topics };
  }

  private sizeOf(batches: readonly PlannedBatch[]): number {
    return this.headerSize + produceRequestSize(this.settings.version, this.requestOf(batches));
  }

  private largestBatchAlone(topic: string): number {
    // A batch's entry overhead grows by a few varint bytes with its size: step down from the bound.
    // Only the length of the records matters to the size: measure placeholders, allocate nothing.
    const { maxRequestSize } = this.settings;
    const sized = (length: number) => [new PlannedBatch(topic, 0, [], { length } as Buffer)];
    let limit = maxRequestSize - this.sizeOf(sized(0));
    while (limit > 0 && this.sizeOf(sized(limit)) > maxRequestSize) limit--;
    return limit;
  }
}

/**
 * The most one batch adds to a request beyond its records and its topic's name: partition index (4),
 * records length (4, or a varint of at most 5) and tagged fields (1); for a new topic, the name's
 * length (2, or a varint of at most 5) or a 16-byte id, the partition count (4, or a varint of at
 * most 5) and tagged fields (1); and one byte for each of the two counts that may grow a varint byte.
 */
const BATCH_ENTRY_BOUND = 48;

/** Up to this many batches, a request's partitions are looked up in its list of batches, not a map. */
const SCANNED_BATCHES = 8;

/** A request being planned: its batches, and once it holds many, their topic partitions. */
class RequestUnderway {
  readonly batches: PlannedBatch[];
  private byTopic: Map<string, Set<number>> | null = null;

  constructor(
    first: PlannedBatch,
    /** At least the request's encoded size (exact where the planner measured it near the limit). */
    public size: number,
  ) {
    this.batches = youngArrayOf(first);
  }

  /** Whether the request holds a batch of this batch's partition. */
  has(batch: PlannedBatch): boolean {
    if (this.byTopic !== null) return this.byTopic.get(batch.topic)?.has(batch.partition) ?? false;
    const { batches } = this;
    for (let i = 0; i < batches.length; i++) if (batches[i].partition === batch.partition && batches[i].topic === batch.topic) return true;
    return false;
  }

  add(batch: PlannedBatch, size: number): void {
    this.size = size;
    this.batches.push(batch);
    if (this.byTopic !== null) indexPartition(this.byTopic, batch);
    else if (this.batches.length > SCANNED_BATCHES) {
      this.byTopic = new Map();
      for (const held of this.batches) indexPartition(this.byTopic, held);
    }
  }
}

function indexPartition(byTopic: Map<string, Set<number>>, batch: PlannedBatch): void {
  let partitions = byTopic.get(batch.topic);
  if (partitions === undefined) byTopic.set(batch.topic, (partitions = new Set()));
  partitions.add(batch.partition);
}

/** One topic partition's part of a broker's messages: batches sealed earlier, and messages not yet in one. */
class PartitionShare {
  /** Made at the first sealed batch: only an idempotent producer's retries have any. */
  sealed: SealedBatch[] | null = null;
  readonly fresh: PendingMessage[];

  constructor(
    readonly topic: string,
    readonly partition: number,
    first: PendingMessage,
  ) {
    if (first.sealed === null) this.fresh = youngArrayOf(first);
    else {
      this.fresh = youngArray();
      this.sealed = [first.sealed];
    }
  }
}

/** The messages' topic partitions in the order they first appear. */
function sharesByPartition(messages: readonly PendingMessage[]): PartitionShare[] {
  let shares: PartitionShare[] | null = null;
  // Made at the second partition: a batch of one partition (one record at a time) needs no maps.
  let byTopic: Map<string, Map<number, PartitionShare>> | null = null;
  // Messages of one partition often come together: the last share is checked before the maps.
  let last: PartitionShare | undefined;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    let share = last !== undefined && last.partition === message.partition && last.topic === message.topic ? last : undefined;
    if (share === undefined && last !== undefined) {
      if (byTopic === null) indexShare((byTopic = new Map()), last);
      share = byTopic.get(message.topic)?.get(message.partition);
    }
    if (share === undefined) {
      share = new PartitionShare(message.topic, message.partition, message);
      if (byTopic !== null) indexShare(byTopic, share);
      if (shares === null) shares = youngArrayOf(share);
      else shares.push(share);
      last = share;
      continue;
    }
    last = share;
    const sealed = message.sealed;
    if (sealed === null) share.fresh.push(message);
    else if (share.sealed === null) share.sealed = [sealed];
    else if (!share.sealed.includes(sealed)) share.sealed.push(sealed);
  }
  return shares ?? youngArray();
}

function indexShare(byTopic: Map<string, Map<number, PartitionShare>>, share: PartitionShare): void {
  let byPartition = byTopic.get(share.topic);
  if (byPartition === undefined) byTopic.set(share.topic, (byPartition = new Map()));
  byPartition.set(share.partition, share);
}

/** Re-encodes a sealed batch after an epoch bump renumbered it. */
function encodeSealed(batch: SealedBatch, settings: PlanSettings, encoder: RecordBatchEncoder): Buffer {
  batch.records = encoder.encode(batch.messages, {
    compression: settings.compression,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    isTransactional: settings.transactionalId != null,
  });
  return batch.records!;
}

/**
 * Splits a partition's messages into chunks whose batches fit in `limit` bytes (uncompressed).
 * Chunks are slices of the list, made only where it splits: a list that fits is handed on as is.
 *
 * Each message carries the most bytes its record can take (`size`, worked out at produce() while
 * its key and value were in cache), so a chunk far from the limit is sized without reading them
 * again; only near the limit is the chunk measured exactly, and from there on each record too.
 */
function chunkByUncompressedSize(list: PendingMessage[], limit: number, oversized: PendingMessage[]): PendingMessage[][] {
  const chunks = youngArray<PendingMessage[]>();
  // The chunk is list[start, i) plus, once a message was left out of it, the messages in `picked`.
  let start = 0;
  let picked: PendingMessage[] | null = null;
  let count = 0;
  let firstTimestamp = 0;
  // The chunk's size: an upper bound (the sum of the messages' bounds) until `exact`.
  let bytes = RECORD_BATCH_OVERHEAD;
  let exact = false;
  const take = (end: number): PendingMessage[] => (picked ?? (start === 0 && end === list.length ? list : list.slice(start, end)));
  const measure = (end: number): number => {
    let total = RECORD_BATCH_OVERHEAD;
    if (picked !== null) for (let k = 0; k < picked.length; k++) total += recordSize(picked[k], k, picked[k].timestamp - firstTimestamp);
    else for (let k = start; k < end; k++) total += recordSize(list[k], k - start, list[k].timestamp - firstTimestamp);
    return total;
  };
  for (let i = 0; i < list.length; i++) {
    const message = list[i];
    // A record is smallest alone (offset and timestamp deltas 0): too large only if that is.
    const tooLarge = RECORD_BATCH_OVERHEAD + message.size > limit && RECORD_BATCH_OVERHEAD + recordSize(message, 0, 0) > limit;
    if (tooLarge || message.alone) {
      // Left out of the running chunk: from here on the chunk is gathered in `picked`.
      picked ??= list.slice(start, i);
      if (tooLarge) {
        oversized.push(message);
      } else {
        if (picked.length > 0) chunks.push(picked);
        chunks.push([message]);
        picked = [];
        count = 0;
        bytes = RECORD_BATCH_OVERHEAD;
        exact = false;
      }
      continue;
    }
    let size = message.size;
    if (count > 0 && (exact || bytes + size > limit)) {
      if (!exact) {
        bytes = measure(i);
        exact = true;
      }
      size = recordSize(message, count, message.timestamp - firstTimestamp);
    }
    if (count > 0 && bytes + size > limit) {
      chunks.push(take(i));
      start = i;
      picked = picked === null ? null : [];
      count = 0;
      bytes = RECORD_BATCH_OVERHEAD + message.size;
      exact = false;
    } else {
      bytes += size;
    }
    if (count === 0) firstTimestamp = message.timestamp;
    count++;
    picked?.push(message);
  }
  if (count > 0) {
    // A list that fits in one batch (the common case) is handed on in a list of its own size.
    if (chunks.length === 0) return youngArrayOf(take(list.length));
    chunks.push(take(list.length));
  }
  return chunks;
}

/** A chunk too large once encoded (incompressible data under compression), and where its halves go. */
interface Halving {
  readonly topic: string;
  readonly partition: number;
  readonly settings: PlanSettings;
  readonly encoder: RecordBatchEncoder;
  readonly buffer: PartitionBuffer | undefined;
  readonly limit: number;
  readonly oversized: PendingMessage[];
  readonly out: PlannedBatch[];
}

/**
 * Encodes a chunk that did not fit once encoded as its two halves, each halved again until it fits
 * or is one message, which is then oversized. With idempotence a half takes the partition's next
 * sequence numbers only once it fits, so halving never leaves a gap.
 */
function encodeHalves(halving: Halving, chunk: PendingMessage[]): void {
  if (chunk.length === 1) {
    halving.oversized.push(chunk[0]);
    return;
  }
  const half = Math.ceil(chunk.length / 2);
  for (const part of [chunk.slice(0, half), chunk.slice(half)]) {
    const { topic, partition, settings, encoder, buffer, limit } = halving;
    const batch = encodeBatch(topic, partition, part, settings, encoder, buffer, limit);
    if (batch !== null) halving.out.push(batch);
    else encodeHalves(halving, part);
  }
}

/**
 * The chunk as one record batch, if it fits in `limit` bytes once encoded; null if not. With
 * idempotence the batch takes the partition's next sequence numbers only then, so a chunk that has
 * to be halved leaves no gap.
 */
function encodeBatch(
  topic: string,
  partition: number,
  chunk: PendingMessage[],
  settings: PlanSettings,
  encoder: RecordBatchEncoder,
  buffer: PartitionBuffer | undefined,
  limit: number,
): PlannedBatch | null {
  const idempotence = settings.idempotence;
  const baseSequence = buffer?.peekSequence();
  const records = encoder.encode(chunk, {
    compression: settings.compression,
    producerId: idempotence?.identity.producerId,
    producerEpoch: idempotence?.identity.producerEpoch,
    baseSequence,
    isTransactional: settings.transactionalId != null,
  });
  if (records.length > limit) return null;
  if (idempotence === undefined || buffer === undefined) return new PlannedBatch(topic, partition, chunk, records);
  const sealed = new SealedRecordBatch(partition, chunk, idempotence.identity.producerId, idempotence.identity.producerEpoch, baseSequence!, records);
  buffer.seal(sealed);
  return new PlannedBatch(topic, partition, chunk, records, sealed, buffer);
}
