import { firstValueFrom, from, race, timer, type SchedulerLike } from 'rxjs';
import { asKafkaRxError } from '../../errors/convert.js';
import { ProducerStoppedError, TransactionAbortedError, type KafkaRxError } from '../../errors/index.js';
import type { SenderTransactions } from '../batch-sender.js';
import type { DeliveryOutcomes } from '../delivery-reports.js';
import type { IdempotentState } from '../idempotence.js';
import type { PendingMessage } from '../message.js';
import type { PartitionBuffers } from '../partition-buffer.js';
import type { GroupMetadata, OffsetToCommit, TopicPartition, TransactionManager } from './transaction-manager.js';

/**
 * A producer's transactions: the manager's protocol, plus what only the producer knows: which
 * records belong to the open transaction and their outcomes. An acknowledged record's report is
 * held until the transaction's end: published as acknowledged once it commits, as failed
 * (TransactionAbortedError) when it is aborted, because no read_committed reader will ever see it.
 * A record that failed is reported at once, and it makes the transaction abortable.
 */
export class ProducerTransactions implements SenderTransactions {
  /** Acknowledged records of the open transaction, waiting for its end. */
  private held: PendingMessage[] = [];
  /** The first record failure of the open transaction: why it cannot commit. */
  private firstFailure: KafkaRxError | null = null;
  /** The open (or last) transaction's number: a partition buffer that joined it holds the same. */
  private transactionNumber = 0;
  private readonly buffers: PartitionBuffers;

  constructor(
    readonly manager: TransactionManager,
    private readonly outcomes: DeliveryOutcomes,
    idempotence: IdempotentState,
    /** Sends everything queued and resolves when every record so far has its outcome. */
    private readonly drain: () => Promise<void>,
    /** The clock of abandon()'s wait (the producer's scheduler). */
    private readonly scheduler: SchedulerLike,
  ) {
    this.buffers = idempotence.buffers;
    manager.onIdentityChange((identity) => idempotence.adopt(identity));
    outcomes.hold = (message, error) => this.hold(message, error);
  }

  get transactionalId(): string {
    return this.manager.transactionalId;
  }

  get maxProduceVersion(): number {
    return this.manager.maxProduceVersion;
  }

  /** Resolves once these topic partitions are in the open transaction; each partition's buffer remembers it. */
  joined(partitions: readonly TopicPartition[]): Promise<void> {
    const transaction = this.transactionNumber;
    const missing = partitions.map(({ topic, partition }) => this.buffers.of(topic, partition)).filter((buffer) => buffer.joinedTransaction !== transaction);
    if (missing.length === 0) return Promise.resolve();
    return this.manager.addPartitions(missing.map((buffer) => ({ topic: buffer.topic, partition: buffer.partition }))).then(() => {
      for (const buffer of missing) buffer.joinedTransaction = transaction;
    });
  }

  /** Throws unless a record may be produced now (inside a transaction that can still commit). */
  requireOpen(): void {
    this.manager.requireWritableNow('produce()');
  }

  initTransactions(): Promise<void> {
    return this.manager.initTransactions();
  }

  beginTransaction(): void {
    this.manager.beginTransaction();
    this.transactionNumber++;
    this.held = [];
    this.firstFailure = null;
  }

  sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: GroupMetadata): Promise<void> {
    return this.manager.sendOffsetsToTransaction(offsets, group);
  }

  /**
   * Waits for every record of the transaction, then commits it; its held reports are published
   * as acknowledged. If a record failed the transaction is not committed (TransactionAbortRequiredError):
   * abortTransaction() then reports the held ones failed.
   */
  async commitTransaction(): Promise<void> {
    try {
      await this.manager.commitTransaction(async () => {
        await this.drain();
        return this.firstFailure;
      });
    } catch (error) {
      // Fenced: the new instance aborts what this one left open.
      if (this.manager.state === 'fatal-error') this.releaseFailed(error);
      throw error;
    }
    const held = this.held;
    this.held = [];
    for (const message of held) this.outcomes.publish(message, null);
  }

  /** Waits for every record of the transaction, aborts it, and reports its acknowledged records failed. */
  async abortTransaction(): Promise<void> {
    try {
      await this.manager.abortTransaction(() => this.drain());
    } finally {
      // Committed it can no longer be: whatever the abort's own fate, its records stay invisible.
      if (this.manager.state !== 'in-transaction') this.releaseFailed(this.firstFailure);
    }
  }

  /**
   * stop() with a transaction open: it is aborted (waiting at most `limitMs` for the coordinator;
   * without an answer the coordinator aborts it at its timeout, or when a new instance starts), and
   * its acknowledged records are reported failed, since they will never be committed.
   */
  async abandon(limitMs: number): Promise<void> {
    const state = this.manager.state;
    if (state !== 'in-transaction' && state !== 'abortable-error') return;
    const cause = new ProducerStoppedError('the producer stopped with its transaction open');
    this.firstFailure ??= cause;
    const abort = this.manager.abortTransaction(async () => null).catch(() => undefined);
    await firstValueFrom(race(from(abort), timer(limitMs, this.scheduler)));
    this.releaseFailed(this.firstFailure);
  }

  private hold(message: PendingMessage, error: KafkaRxError | null): boolean {
    if (error !== null) {
      this.firstFailure ??= error;
      this.manager.recordFailed(error);
      return false;
    }
    this.held.push(message);
    return true;
  }

  private releaseFailed(cause: unknown): void {
    const held = this.held;
    this.held = [];
    if (held.length === 0) return;
    const failure = new TransactionAbortedError(
      `the transaction of ${this.manager.transactionalId} was aborted: the record was written but will never be visible to read_committed readers`,
      { cause: cause === null ? undefined : asKafkaRxError(cause) },
    );
    for (const message of held) this.outcomes.publish(message, failure);
  }
}
