import { asKafkaRxError } from '../../errors/convert.js';
import { TransactionAbortedError, TransactionAbortRequiredError } from '../../errors/index.js';
import { AddOffsetsToTxn } from '../../protocol/add-offsets-to-txn.js';
import { AddPartitionsToTxnFromProducer, type TxnTopicPartitions } from '../../protocol/add-partitions-to-txn.js';
import { EndTxn, END_TXN_V2_FROM } from '../../protocol/end-txn.js';
import { InitProducerId } from '../../protocol/init-producer-id.js';
import { TxnOffsetCommit, TXN_OFFSET_COMMIT_TOPIC_IDS_FROM, TXN_OFFSET_COMMIT_V2_FROM } from '../../protocol/txn-offset-commit.js';
import type { ProducerIdentity } from '../partition-buffer.js';
import { CoordinatorKeyType, CoordinatorRequests, throwIfError, type CoordinatorRequestOptions } from './coordinator-requests.js';
import { coordinatorErrorAction, needsEpochBump, recordErrorAction } from './error-policy.js';
import { TransactionStateMachine, type TransactionState } from './transaction-state.js';
import type { TransactionTransport } from './transaction-transport.js';

/** 1: partitions and offsets join with AddPartitionsToTxn/AddOffsetsToTxn; 2: KIP-890, implicitly. */
export type TransactionProtocol = 1 | 2;

/** The last Produce version of transactions v1: v12 tells the broker the producer speaks v2. */
export const LAST_TXN_V1_PRODUCE_VERSION = 11;

// Transactions v1 must not send the versions that tell the coordinator the producer speaks v2.
const EndTxnV1 = { ...EndTxn, maxVersion: END_TXN_V2_FROM - 1 };
const TxnOffsetCommitV1 = { ...TxnOffsetCommit, maxVersion: TXN_OFFSET_COMMIT_V2_FROM - 1 };

export interface TransactionManagerOptions extends CoordinatorRequestOptions {
  transactionalId: string;
  transactionTimeoutMs: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface OffsetToCommit extends TopicPartition {
  /** The offset of the next record the group should read (the last one processed + 1). */
  offset: bigint;
  leaderEpoch?: number;
  metadata?: string | null;
}

export interface GroupMetadata {
  groupId: string;
  /** The consumer's generation (classic groups) or member epoch; lets the group fence a zombie. */
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
}

const keyOf = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

/**
 * One transactional id's side of the transaction protocol: finds its coordinator, gets the producer
 * id and epoch, adds partitions (batched: those asked for while one AddPartitionsToTxn is in flight
 * go in the next) and offsets to the open transaction, and ends it. The records themselves, their
 * sequence numbers and which batches are in flight belong to the producer's partition buffers; the
 * producer tells this manager which partitions it is about to write, which records failed, and
 * hands commit and abort a way to wait for every batch of the transaction.
 */
export class TransactionManager {
  private readonly machine = new TransactionStateMachine();
  private readonly requests: CoordinatorRequests;
  private identity: ProducerIdentity | null = null;
  private chosenProtocol: TransactionProtocol = 1;
  /** Whether any partition joined the open transaction (which partitions did, their buffers know). */
  private partitionsJoined = false;
  /** Asked for while an AddPartitionsToTxn is in flight: the next request carries them. */
  private queued = new Map<string, TopicPartition>();
  private queuedDone: Deferred | null = null;
  /** Partitions in the queued or in-flight AddPartitionsToTxn, with the promise of their request. */
  private readonly joining = new Map<string, Promise<void>>();
  private addInFlight: Promise<void> | null = null;
  private sendScheduled = false;
  private offsetsAdded = false;
  /** sendOffsetsToTransaction() calls under way: the transaction ends only after them. */
  private readonly offsetsInFlight = new Set<Promise<void>>();
  private epochBumpRequired = false;
  private readonly identityListeners = new Set<(identity: ProducerIdentity) => void>();

  constructor(
    private readonly transport: TransactionTransport,
    private readonly options: TransactionManagerOptions,
  ) {
    this.requests = new CoordinatorRequests(transport, options);
  }

  get state(): TransactionState {
    return this.machine.state;
  }

  /** The error that made the state abortable-error or fatal-error. */
  get lastError(): Error | null {
    return this.machine.error;
  }

  get transactionalId(): string {
    return this.options.transactionalId;
  }

  /** The producer id and epoch batches of the current transaction carry; null before initTransactions(). */
  get producerIdentity(): ProducerIdentity | null {
    return this.identity;
  }

  get protocol(): TransactionProtocol {
    return this.chosenProtocol;
  }

  /** The highest Produce version this producer may send (v12+ would tell the broker it speaks v2). */
  get maxProduceVersion(): number {
    return this.chosenProtocol === 2 ? Infinity : LAST_TXN_V1_PRODUCE_VERSION;
  }

  /** Told of every new producer id or epoch: each partition's sequence numbers start at 0 again. */
  onIdentityChange(listener: (identity: ProducerIdentity) => void): () => void {
    this.identityListeners.add(listener);
    return () => this.identityListeners.delete(listener);
  }

  /**
   * FindCoordinator for the transactional id, then InitProducerId with it: the coordinator aborts
   * or completes what a previous instance left open and fences that instance (a higher epoch).
   * Transactions v2 are used when the coordinator finalized transaction.version 2 and speaks EndTxn v5.
   */
  async initTransactions(): Promise<void> {
    this.machine.require('initTransactions()', ['uninitialized']);
    this.machine.transitionTo('initializing');
    try {
      await this.initProducerId(null);
      this.machine.transitionTo('ready');
    } catch (error) {
      this.failWith(error, 'uninitialized');
      throw error;
    }
  }

  beginTransaction(): void {
    this.machine.require('beginTransaction()', ['ready']);
    this.partitionsJoined = false;
    this.joining.clear();
    this.offsetsAdded = false;
    this.machine.transitionTo('in-transaction');
  }

  /**
   * Resolves once the partitions are part of the open transaction, so their batches may be sent.
   * With transactions v1 that takes AddPartitionsToTxn, one request at a time with every partition
   * asked for meanwhile; with v2 the Produce request adds its partitions itself. Which partitions
   * joined already is the caller's to know (each partition buffer keeps it): asked again, a
   * partition is added again, which the coordinator accepts.
   */
  addPartitions(partitions: readonly TopicPartition[]): Promise<void> {
    // Batches not sent when the abort began are not sent at all (the Java producer fails them too).
    if (this.machine.state === 'aborting') {
      return Promise.reject(new TransactionAbortedError(`the transaction of ${this.options.transactionalId} is being aborted: the record was not sent`));
    }
    try {
      this.requireWritable('adding partitions');
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.chosenProtocol === 2) {
      this.partitionsJoined ||= partitions.length > 0;
      return Promise.resolve();
    }
    const waits = new Set<Promise<void>>();
    for (const tp of partitions) {
      const key = keyOf(tp);
      let joining = this.joining.get(key);
      if (joining === undefined) {
        this.queued.set(key, tp);
        this.queuedDone ??= new Deferred();
        joining = this.queuedDone.promise;
        this.joining.set(key, joining);
      }
      waits.add(joining);
    }
    if (waits.size === 0) return Promise.resolve();
    // Sent on the next microtask, so the partitions the producer asks for in one go share a request.
    if (this.addInFlight === null && !this.sendScheduled && this.queued.size > 0) {
      this.sendScheduled = true;
      queueMicrotask(() => {
        this.sendScheduled = false;
        if (this.addInFlight === null && this.queued.size > 0) this.sendQueuedPartitions();
      });
    }
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * Puts a consumer group's offsets into the open transaction: they become the group's committed
   * offsets if and only if the transaction commits (consume-transform-produce exactly once).
   */
  sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: GroupMetadata): Promise<void> {
    try {
      this.requireWritable('sendOffsetsToTransaction()');
    } catch (error) {
      return Promise.reject(error);
    }
    const call = this.addOffsets(offsets, group);
    this.offsetsInFlight.add(call);
    const forget = () => void this.offsetsInFlight.delete(call);
    call.then(forget, forget);
    return call;
  }

  private async addOffsets(offsets: readonly OffsetToCommit[], group: GroupMetadata): Promise<void> {
    const id = this.options.transactionalId;
    try {
      if (this.chosenProtocol === 1) {
        await this.requests.request(CoordinatorKeyType.transaction, id, AddOffsetsToTxn, () => ({ transactionalId: id, ...this.currentIdentity(), groupId: group.groupId }), ({ response }) =>
          throwIfError(response.errorCode, `AddOffsetsToTxn for group ${group.groupId}`),
        );
      }
      this.offsetsAdded = true;
      const byTopic = new Map<string, OffsetToCommit[]>();
      for (const offset of offsets) byTopic.set(offset.topic, [...(byTopic.get(offset.topic) ?? []), offset]);
      const api = this.chosenProtocol === 1 ? TxnOffsetCommitV1 : TxnOffsetCommit;
      await this.requests.request(
        CoordinatorKeyType.group,
        group.groupId,
        api,
        async (node) => {
          const byId = (await this.transport.versionAt(node, api)) >= TXN_OFFSET_COMMIT_TOPIC_IDS_FROM;
          const topics = await Promise.all(
            [...byTopic].map(async ([name, list]) => ({
              name,
              topicId: byId ? await this.transport.topicIdOf(name) : undefined,
              partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, committedMetadata: o.metadata ?? null })),
            })),
          );
          return {
            transactionalId: id,
            groupId: group.groupId,
            ...this.currentIdentity(),
            generationIdOrMemberEpoch: group.generationId ?? -1,
            memberId: group.memberId ?? '',
            groupInstanceId: group.groupInstanceId ?? null,
            topics,
          };
        },
        ({ response }) => {
          for (const topic of response.topics) for (const p of topic.partitions) throwIfError(p.errorCode, `TxnOffsetCommit for ${topic.name ?? 'a topic'}[${p.partitionIndex}]`);
        },
      );
    } catch (error) {
      // An abort under way has its own ending; only an open transaction becomes abortable here.
      if (this.machine.state !== 'aborting' || coordinatorErrorAction(error) === 'fatal') this.failWith(error, 'abortable-error');
      throw error;
    }
  }

  /**
   * A record batch of the open transaction failed for good: the transaction can no longer commit
   * (or, for a fencing, the producer can no longer do anything).
   */
  recordFailed(error: Error): void {
    if (this.machine.state !== 'in-transaction' && this.machine.state !== 'abortable-error') return;
    if (recordErrorAction(error) === 'fatal') {
      this.machine.transitionTo('fatal-error', error);
      return;
    }
    if (needsEpochBump(error)) this.epochBumpRequired = true;
    this.machine.transitionTo('abortable-error', error);
  }

  /**
   * Commits the open transaction once `drain` resolved (every batch of it answered). When `drain`
   * reports a failed record, or one came meanwhile, nothing is committed: the transaction is left
   * to be aborted and the call fails with TransactionAbortRequiredError.
   */
  async commitTransaction(drain: () => Promise<Error | null> = async () => null): Promise<void> {
    this.requireWritable('commitTransaction()');
    await this.settleAdds();
    await this.settleOffsets();
    const failure = await drain();
    if (failure !== null) this.recordFailed(failure);
    // Offsets sent while the records drained: EndTxn must not overtake their TxnOffsetCommit.
    await this.settleOffsets();
    this.requireWritable('commitTransaction()');
    this.machine.transitionTo('committing');
    try {
      await this.endTransaction(true);
      this.machine.transitionTo('ready');
    } catch (error) {
      this.failWith(error, 'abortable-error');
      throw error;
    }
  }

  /**
   * Aborts the open transaction after `drain` (every batch of it answered or failed): whatever it
   * wrote stays invisible to read_committed readers. Also the way out of abortable-error.
   */
  async abortTransaction(drain: () => Promise<unknown> = async () => null): Promise<void> {
    this.machine.require('abortTransaction()', ['in-transaction', 'abortable-error']);
    this.machine.transitionTo('aborting');
    try {
      await this.settleAdds().catch(() => undefined);
      await this.settleOffsets();
      await drain();
      await this.endTransaction(false);
      if (this.epochBumpRequired && this.chosenProtocol === 1) {
        this.machine.transitionTo('initializing');
        await this.initProducerId(this.identity);
      }
      this.epochBumpRequired = false;
      this.machine.transitionTo('ready');
    } catch (error) {
      this.failWith(error, 'abortable-error');
      throw error;
    }
  }

  /** Fatal: the producer can do nothing more (a newer instance with the same id took over). */
  fenced(error: Error): void {
    this.machine.transitionTo('fatal-error', error);
  }

  /** Throws unless records may be added now (an open transaction that can still commit). */
  requireWritableNow(operation: string): void {
    this.requireWritable(operation);
  }

  private requireWritable(operation: string): void {
    if (this.machine.state === 'abortable-error') {
      throw new TransactionAbortRequiredError(`${operation}: the transaction cannot commit after an earlier error; abort it`, { cause: this.machine.error });
    }
    this.machine.require(operation, ['in-transaction']);
  }

  /** Moves to fatal-error for a fatal error, else to `otherwise` (where that move is legal). */
  private failWith(error: unknown, otherwise: TransactionState): void {
    const asError = asKafkaRxError(error);
    if (coordinatorErrorAction(error) === 'fatal') {
      this.machine.transitionTo('fatal-error', asError);
      return;
    }
    if (this.machine.canMoveTo(otherwise)) this.machine.transitionTo(otherwise, asError);
  }

  private currentIdentity(): ProducerIdentity {
    if (this.identity === null) throw new Error('no producer id before initTransactions()');
    return { producerId: this.identity.producerId, producerEpoch: this.identity.producerEpoch };
  }

  private setIdentity(identity: ProducerIdentity): void {
    this.identity = identity;
    for (const listener of this.identityListeners) listener(identity);
  }

  private async initProducerId(current: ProducerIdentity | null): Promise<void> {
    const id = this.options.transactionalId;
    const identity = await this.requests.request(
      CoordinatorKeyType.transaction,
      id,
      InitProducerId,
      async (node) => {
        const level = await this.transport.transactionVersionOf(node);
        const endTxnVersion = await this.transport.versionAt(node, EndTxn);
        this.chosenProtocol = level >= 2 && endTxnVersion >= END_TXN_V2_FROM ? 2 : 1;
        const bump = current !== null && (await this.transport.versionAt(node, InitProducerId)) >= 3;
        return {
          transactionalId: id,
          transactionTimeoutMs: this.options.transactionTimeoutMs,
          producerId: bump ? current.producerId : -1n,
          producerEpoch: bump ? current.producerEpoch : -1,
        };
      },
      ({ response }) => {
        throwIfError(response.errorCode, `InitProducerId for ${id}`);
        return { producerId: response.producerId, producerEpoch: response.producerEpoch };
      },
    );
    this.setIdentity(identity);
  }

  private async endTransaction(committed: boolean): Promise<void> {
    // Nothing joined: the coordinator holds no transaction to end (the Java producer skips it too).
    if (!this.partitionsJoined && !this.offsetsAdded) return;
    const id = this.options.transactionalId;
    const v2 = this.chosenProtocol === 2;
    const next = await this.requests.request(
      CoordinatorKeyType.transaction,
      id,
      v2 ? EndTxn : EndTxnV1,
      () => ({ transactionalId: id, ...this.currentIdentity(), committed }),
      ({ response, version }) => {
        throwIfError(response.errorCode, `EndTxn (${committed ? 'commit' : 'abort'})`);
        return version >= END_TXN_V2_FROM && response.producerId >= 0n ? { producerId: response.producerId, producerEpoch: response.producerEpoch } : null;
      },
    );
    this.partitionsJoined = false;
    this.offsetsAdded = false;
    // Transactions v2: the next transaction runs under the epoch the coordinator bumped.
    if (next !== null) this.setIdentity(next);
  }

  private sendQueuedPartitions(): void {
    const batch = this.queued;
    const done = this.queuedDone!;
    this.queued = new Map();
    this.queuedDone = null;
    const request = this.addToTransaction([...batch.values()]).then(
      () => {
        this.partitionsJoined = true;
        for (const key of batch.keys()) this.joining.delete(key);
        done.resolve();
      },
      (error: unknown) => {
        for (const key of batch.keys()) this.joining.delete(key);
        // An abort under way has its own ending; only an open transaction becomes abortable here.
        if (this.machine.state === 'in-transaction' || coordinatorErrorAction(error) === 'fatal') this.failWith(error, 'abortable-error');
        done.reject(error);
      },
    );
    this.addInFlight = request.then(() => {
      this.addInFlight = null;
      if (this.queued.size > 0) this.sendQueuedPartitions();
    });
  }

  private async addToTransaction(partitions: TopicPartition[]): Promise<void> {
    const byTopic = new Map<string, number[]>();
    for (const tp of partitions) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const topics: TxnTopicPartitions[] = [...byTopic].map(([name, list]) => ({ name, partitions: list }));
    const id = this.options.transactionalId;
    await this.requests.request(
      CoordinatorKeyType.transaction,
      id,
      AddPartitionsToTxnFromProducer,
      () => ({ transactions: [{ transactionalId: id, ...this.currentIdentity(), topics }] }),
      ({ response }) => {
        throwIfError(response.errorCode, 'AddPartitionsToTxn');
        // OPERATION_NOT_ATTEMPTED marks partitions held back by another's error: that error is the news.
        const results = response.transactions.flatMap((t) => t.topics.flatMap((topic) => topic.partitions.map((p) => ({ topic: topic.name, ...p }))));
        const failed = results.find((r) => r.errorCode !== 0 && r.errorCode !== 55) ?? results.find((r) => r.errorCode !== 0);
        if (failed !== undefined) throwIfError(failed.errorCode, `AddPartitionsToTxn for ${failed.topic}[${failed.partitionIndex}]`);
      },
    );
  }

  /**
   * Waits for every sendOffsetsToTransaction() under way (their failures are their callers' news and
   * the state's): an EndTxn sent before their TxnOffsetCommit would leave those offsets out of the
   * transaction, and the broker refuses a TxnOffsetCommit whose transaction is no longer open.
   */
  private async settleOffsets(): Promise<void> {
    while (this.offsetsInFlight.size > 0) await Promise.allSettled([...this.offsetsInFlight]);
  }

  /** Waits for every AddPartitionsToTxn asked for so far. */
  private async settleAdds(): Promise<void> {
    while (this.addInFlight !== null || this.queued.size > 0) {
      if (this.addInFlight === null) this.sendQueuedPartitions();
      const pending = this.queuedDone?.promise;
      await this.addInFlight;
      if (pending !== undefined) await pending;
    }
  }
}

class Deferred {
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;
  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A caller may not be waiting on it; the rejection is delivered to whoever is.
    this.promise.catch(() => undefined);
  }
}
