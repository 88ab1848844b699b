import { Subject, type SchedulerLike } from 'rxjs';
import { ConnectionError, RequestNotSentError } from '../../lib/errors/index.js';
import type { ProduceRequest, ProduceResponse } from '../../lib/protocol/produce.js';
import type { ProducerIdentity } from '../../lib/producer/idempotence.js';
import type { ProducerTransport } from '../../lib/producer/transport.js';

/** Where a record batch keeps its record count (RecordBatch v2 header). */
const RECORD_COUNT_OFFSET = 57;

export interface SentBatch {
  broker: number;
  partition: number;
  count: number;
  bytes: number;
  acks: number;
}

/**
 * A cluster double for producer unit tests, with the contract of the real transport: leaders as
 * the client last saw them (updated only by refreshMetadata, like a real metadata cache) apart from
 * the cluster's truth, per-partition logs handing out offsets, acknowledgements after a delay, and
 * faults on demand (error codes for the next requests of a partition, brokers down). Tests of what
 * reaches a real broker live in the integration specs; this one makes faults deterministic.
 */
export class FakeTransport implements ProducerTransport {
  readonly clientId = 'fake';
  readonly metadataChanges$ = new Subject<void>();
  readonly sent: SentBatch[] = [];
  /** Copies of the record batches as they arrived, in order (the sender may reuse their memory once answered). */
  readonly arrived: Buffer[] = [];
  readonly requests: ProduceRequest[] = [];
  ackDelayMs = 0;
  /** The clock of ackDelayMs: a spec in virtual time sets its TestScheduler here. */
  scheduler: SchedulerLike | null = null;
  refreshes = 0;
  private readonly truth = new Map<number, number>();
  private readonly seen = new Map<number, number>();
  private readonly logEnds = new Map<number, bigint>();
  private readonly errorQueues = new Map<number, number[]>();
  private readonly refusals = new Map<number, Array<{ code: number; batchIndexes: number[]; message: (batchIndex: number) => string }>>();
  private readonly downBrokers = new Set<number>();
  private readonly partitions: number[];
  /** Per partition: the sequence ranges of the last 5 batches written, as a broker keeps them per producer. */
  private readonly lastBatches = new Map<number, Array<{ producerId: bigint; epoch: number; first: number; last: number }>>();
  private nextProducerId = 1000n;
  /** The topic's id in the cluster, and as the client last saw it (for Produce v13+); undefined: none. */
  topicId: Buffer | undefined;
  private seenTopicId: Buffer | undefined;
  /** Partitions the next answer naming them leaves out (written, but not answered for), once each. */
  readonly unansweredNext = new Set<number>();
  /** Acknowledge but "lose" the answers of the next requests (the broker wrote them). */
  loseAnswers = 0;
  duplicatesRejected = 0;

  constructor(partitionCount: number, brokerCount = 1, readonly produceVersionNumber = 9) {
    this.partitions = Array.from({ length: partitionCount }, (_, i) => i);
    for (const partition of this.partitions) {
      this.truth.set(partition, partition % brokerCount);
      this.seen.set(partition, partition % brokerCount);
      this.logEnds.set(partition, 0n);
    }
  }

  async partitionsOf(): Promise<readonly number[]> {
    return this.partitions;
  }

  knownPartitionsOf(): readonly number[] {
    return this.partitions;
  }

  leaderOf(_topic: string, partition: number): number {
    return this.seen.get(partition) ?? -1;
  }

  topicIdOf(): Buffer | undefined {
    return this.seenTopicId;
  }

  async refreshMetadata(): Promise<void> {
    this.refreshes++;
    this.seenTopicId = this.topicId;
    for (const [partition, leader] of this.truth) this.seen.set(partition, leader);
    this.metadataChanges$.next();
  }

  async produceVersion(broker: number): Promise<number> {
    if (this.downBrokers.has(broker)) throw new ConnectionError(`broker ${broker} is down`, { broker: String(broker) });
    return this.produceVersionNumber;
  }

  async produce(broker: number, request: ProduceRequest): Promise<ProduceResponse | undefined> {
    if (this.downBrokers.has(broker)) throw new RequestNotSentError(`broker ${broker} is down`, { broker: String(broker) });
    this.requests.push(request);
    if (this.ackDelayMs > 0) {
      const scheduler = this.scheduler;
      await new Promise((resolve) => (scheduler === null ? setTimeout(resolve, this.ackDelayMs) : scheduler.schedule(resolve, this.ackDelayMs)));
    }
    if (this.downBrokers.has(broker)) throw new ConnectionError(`broker ${broker} went down`, { broker: String(broker) });
    const responses = request.topics.map((topic) => ({
      // From v13 the broker answers by topic id (and the request carried one).
      name: topic.topicId ? null : topic.name,
      topicId: topic.topicId ?? null,
      partitionResponses: topic.partitions.map((data) => {
        if (topic.topicId && !(this.topicId?.equals(topic.topicId) ?? false)) {
          return { index: data.index, errorCode: 100, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null, currentLeader: null }; // UNKNOWN_TOPIC_ID
        }
        const records = data.records as Buffer;
        const count = records.readInt32BE(RECORD_COUNT_OFFSET);
        this.sent.push({ broker, partition: data.index, count, bytes: records.length, acks: request.acks });
        this.arrived.push(Buffer.from(records));
        const refusal = this.refusals.get(data.index)?.shift();
        if (refusal !== undefined) {
          // As a broker refusing records (Produce v8+): the whole batch unwritten, the culprits named.
          const recordErrors = refusal.batchIndexes.filter((i) => i < count).map((batchIndex) => ({ batchIndex, message: refusal.message(batchIndex) }));
          return { index: data.index, errorCode: refusal.code, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors, errorMessage: 'One or more records have been rejected', currentLeader: null };
        }
        const queued = this.errorQueues.get(data.index);
        let errorCode = queued && queued.length > 0 ? queued.shift()! : 0;
        if (errorCode === 0 && this.truth.get(data.index) !== broker) errorCode = 6; // NOT_LEADER_OR_FOLLOWER
        if (errorCode === 0) errorCode = this.checkSequence(data.index, records, count);
        const baseOffset = errorCode === 0 ? this.logEnds.get(data.index)! : -1n;
        if (errorCode === 0) this.logEnds.set(data.index, baseOffset + BigInt(count));
        return { index: data.index, errorCode, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null, currentLeader: null };
      }),
    }));
    if (this.unansweredNext.size > 0) for (const topic of responses) topic.partitionResponses = topic.partitionResponses.filter((result) => !this.unansweredNext.delete(result.index));
    if (request.acks === 0) return undefined;
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      throw new ConnectionError(`broker ${broker} dropped the connection before answering`, { broker: String(broker) });
    }
    return { responses, throttleTimeMs: 0, nodeEndpoints: [] } as ProduceResponse;
  }

  async initProducerId(current: ProducerIdentity | null): Promise<ProducerIdentity> {
    if (current !== null) return { producerId: current.producerId, producerEpoch: current.producerEpoch + 1 };
    return { producerId: this.nextProducerId++, producerEpoch: 0 };
  }

  /** The broker's idempotence check (RecordBatch v2: producer id at 43, epoch at 51, base sequence at 53). */
  private checkSequence(partition: number, records: Buffer, count: number): number {
    const producerId = records.readBigInt64BE(43);
    if (producerId < 0n) return 0;
    const epoch = records.readInt16BE(51);
    const first = records.readInt32BE(53);
    const last = first + count - 1;
    const cached = this.lastBatches.get(partition) ?? [];
    const previous = cached[cached.length - 1];
    if (previous && previous.producerId === producerId && previous.epoch === epoch) {
      if (cached.some((b) => b.producerId === producerId && b.epoch === epoch && b.first === first && b.last === last)) {
        this.duplicatesRejected++;
        return 46; // DUPLICATE_SEQUENCE_NUMBER
      }
      if (first !== previous.last + 1) return 45; // OUT_OF_ORDER_SEQUENCE_NUMBER
    } else if (previous && previous.producerId === producerId && epoch < previous.epoch) {
      return 47; // INVALID_PRODUCER_EPOCH
    } else if (first !== 0) {
      return 45;
    }
    cached.push({ producerId, epoch, first, last });
    if (cached.length > 5) cached.shift();
    this.lastBatches.set(partition, cached);
    return 0;
  }

  /** The next requests for this partition answer with these error codes, one per request. */
  failNext(partition: number, ...codes: number[]): void {
    const queue = this.errorQueues.get(partition) ?? [];
    queue.push(...codes);
    this.errorQueues.set(partition, queue);
  }

  /** The next request for this partition is refused with `code`, naming these records of its batch. */
  refuseRecordsNext(partition: number, code: number, batchIndexes: number[], message: (batchIndex: number) => string): void {
    const queue = this.refusals.get(partition) ?? [];
    queue.push({ code, batchIndexes, message });
    this.refusals.set(partition, queue);
  }

  /** Moves a partition's leader in the cluster; the client learns of it only by refreshing. */
  moveLeader(partition: number, broker: number): void {
    this.truth.set(partition, broker);
  }

  setDown(broker: number, down: boolean): void {
    if (down) this.downBrokers.add(broker);
    else this.downBrokers.delete(broker);
  }

  /** Records acknowledged per partition. */
  logEnd(partition: number): bigint {
    return this.logEnds.get(partition)!;
  }
}
