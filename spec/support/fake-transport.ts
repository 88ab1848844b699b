import { Subject } from 'rxjs';
import { ConnectionError } from '../../lib/errors.js';
import type { ProduceRequest, ProduceResponse } from '../../lib/protocol/produce.js';
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
  readonly requests: ProduceRequest[] = [];
  ackDelayMs = 0;
  refreshes = 0;
  private readonly truth = new Map<number, number>();
  private readonly seen = new Map<number, number>();
  private readonly logEnds = new Map<number, bigint>();
  private readonly errorQueues = new Map<number, number[]>();
  private readonly downBrokers = new Set<number>();
  private readonly partitions: number[];

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

  async refreshMetadata(): Promise<void> {
    this.refreshes++;
    for (const [partition, leader] of this.truth) this.seen.set(partition, leader);
    this.metadataChanges$.next();
  }

  async produceVersion(broker: number): Promise<number> {
    if (this.downBrokers.has(broker)) throw new ConnectionError(`broker ${broker} is down`, { broker: String(broker) });
    return this.produceVersionNumber;
  }

  async produce(broker: number, request: ProduceRequest): Promise<ProduceResponse | undefined> {
    if (this.downBrokers.has(broker)) throw new ConnectionError(`broker ${broker} is down`, { broker: String(broker) });
    this.requests.push(request);
    if (this.ackDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.ackDelayMs));
    if (this.downBrokers.has(broker)) throw new ConnectionError(`broker ${broker} went down`, { broker: String(broker) });
    const responses = request.topics.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitions.map((data) => {
        const records = data.records as Buffer;
        const count = records.readInt32BE(RECORD_COUNT_OFFSET);
        this.sent.push({ broker, partition: data.index, count, bytes: records.length, acks: request.acks });
        const queued = this.errorQueues.get(data.index);
        let errorCode = queued && queued.length > 0 ? queued.shift()! : 0;
        if (errorCode === 0 && this.truth.get(data.index) !== broker) errorCode = 6; // NOT_LEADER_OR_FOLLOWER
        const baseOffset = errorCode === 0 ? this.logEnds.get(data.index)! : -1n;
        if (errorCode === 0) this.logEnds.set(data.index, baseOffset + BigInt(count));
        return { index: data.index, errorCode, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null };
      }),
    }));
    if (request.acks === 0) return undefined;
    return { responses, throttleTimeMs: 0 } as unknown as ProduceResponse;
  }

  /** The next requests for this partition answer with these error codes, one per request. */
  failNext(partition: number, ...codes: number[]): void {
    const queue = this.errorQueues.get(partition) ?? [];
    queue.push(...codes);
    this.errorQueues.set(partition, queue);
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
