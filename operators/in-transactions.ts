import { concat, defer, from, Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { asKafkaRxError } from '../lib/errors/convert.js';
import { BackpressureOverflowError, ConfigError, TransactionAbortedError, type KafkaRxError } from '../lib/errors/index.js';
import { integerOption } from '../lib/option-checks.js';
import { unsentMessage, type DeliveryReport } from '../lib/producer/message.js';
import type { KafkaRecord, RecordFields } from '../lib/producer/record.js';
import type { GroupMetadata, OffsetToCommit, TopicPartition } from '../lib/producer/transactions/transaction-manager.js';

/** What inTransactions needs of a producer: a transactional one (Producer with a transactionalId). */
export interface TransactionalProducerLike<V, K> {
  /** The producer's topic, for the reports of records it never got (records may name their own). */
  readonly topic?: string | undefined;
  send(value: V, record: RecordFields<K>, onReport: (report: DeliveryReport<V, K>) => void): PromiseLike<unknown>;
  beginTransaction(): void;
  commitTransaction(): PromiseLike<void>;
  abortTransaction(): PromiseLike<void>;
  /** Needed only with the inputOffsets option. */
  sendOffsetsToTransaction?(offsets: readonly OffsetToCommit[], group: GroupMetadata): PromiseLike<void>;
}

/** Where a source value was read: its input topic partition and offset. */
export interface InputPosition extends TopicPartition {
  offset: bigint;
}

export interface InTransactionsOptions<T, V, K> {
  /** Maps a source value to its record. Default: the value is the record's value. */
  toRecord?: (value: T) => KafkaRecord<V, K>;
  /**
   * Most values held for windows waiting for their transaction (windows come faster than
   * transactions end); past it the open transaction is aborted and the stream fails with
   * BackpressureOverflowError (default 10,000, as toKafka's).
   */
  maxBuffered?: number;
  /**
   * Consume-transform-produce: each window's input offsets (per input partition, the highest offset
   * of the window's values + 1) are committed for `group` in the window's own transaction, just
   * before its commit. (Offsets sent from inside a window would run when the window's source ends,
   * which may be while an earlier window's transaction is still the open one.)
   */
  inputOffsets?: {
    group: GroupMetadata;
    /** Where a value was read. */
    positionOf: (value: T) => InputPosition;
  };
}

/** One window: its values until its transaction starts, its sends and their reports. */
interface WindowState<T, V, K> {
  waiting: T[];
  ended: boolean;
  /** Why the window cannot commit: its source failed, or a record of it was refused. */
  failure: unknown;
  sent: number;
  reports: DeliveryReport<V, K>[];
  /** With inputOffsets: the next offset to read per input partition, from the values sent. */
  nextOffsets: Map<string, OffsetToCommit>;
  subscription: Subscription | null;
  /** Set once the transaction ended: committed or not, and the error that ends the stream, if any. */
  decision: { committed: boolean; fatal: unknown } | null;
}

/**
 * Each window of the source is one transaction: its records are written together or not at all,
 * and its delivery reports are emitted only once that is decided (acknowledged after the commit).
 * A window whose source errors, or one of whose records the producer refused, is aborted and its
 * records are reported failed, each exactly once: those sent, and those it did not send once it had
 * failed (their reports have partition -1 and no attempts); the next window starts a new transaction. Windows are subscribed as
 * they come (windowTime's are hot) and their transactions run one after another, in order.
 * The stream completes after the last window's reports, and errors only when the producer can go
 * on no more (fenced by a newer instance) or the source of windows errors (the open transaction is
 * aborted first). Unsubscribing aborts the open transaction.
 *
 * ```
 * windows:   -a---------b-----|      a = -1-2-|   b = -3-#
 * producer:    begin  commit  begin abort
 * result:    ---------(12)------(3)--|   3 reported failed (TransactionAbortedError)
 * ```
 *
 * ```ts
 * events$.pipe(windowTime(1000), inTransactions(producer)).subscribe(report => ...)
 * ```
 */
export function inTransactions<T, V = T, K = Buffer | null>(
  producer: TransactionalProducerLike<V, K>,
  options: InTransactionsOptions<T, V, K> = {},
): OperatorFunction<Observable<T>, DeliveryReport<V, K>> {
  const toRecord = options.toRecord ?? ((value: T) => ({ value: value as unknown as V }));
  const maxBuffered = integerOption('maxBuffered', options.maxBuffered, 10_000, 1);
  const inputOffsets = options.inputOffsets;
  if (inputOffsets !== undefined && producer.sendOffsetsToTransaction === undefined) {
    throw new ConfigError('inputOffsets', 'a producer with sendOffsetsToTransaction()');
  }
  return (windows) =>
    new Observable<DeliveryReport<V, K>>((subscriber) => {
      const queue: WindowState<T, V, K>[] = [];
      let active: WindowState<T, V, K> | null = null;
      let ending: Subscription | null = null;
      let windowsDone = false;
      let closed = false;
      /** Values held in windows waiting for their transaction. */
      let buffered = 0;

      /** Aborts the open transaction (if any), then fails the stream. */
      const failStream = (error: unknown): void => {
        if (closed) return;
        closed = true;
        const fail = () => subscriber.error(error);
        if (active !== null && ending === null) from(producer.abortTransaction()).subscribe({ complete: fail, error: fail });
        else fail();
      };

      /**
       * A value the window does not send (its window had already failed, or its record could not be
       * made) or that the producer refused: reported failed with the window's reports, with why.
       */
      const reportUnsent = (state: WindowState<T, V, K>, value: T, record: KafkaRecord<V, K> | null, reason: unknown): void => {
        const topic = record?.topic ?? producer.topic ?? '';
        const timestamp = typeof record?.timestamp === 'number' ? record.timestamp : undefined;
        const message = record === null ? unsentMessage<V, K>(topic, value as unknown as V, undefined) : unsentMessage(topic, record.value, record.key ?? undefined, timestamp);
        state.reports.push({ message, error: new TransactionAbortedError('the record was not sent: its window\'s transaction cannot commit', { cause: asKafkaRxError(reason) }) });
      };

      const send = (state: WindowState<T, V, K>, value: T): void => {
        state.sent++;
        if (state.failure !== undefined) return reportUnsent(state, value, null, state.failure);
        let record: KafkaRecord<V, K>;
        try {
          record = toRecord(value);
          if (inputOffsets !== undefined) noteInputOffset(state.nextOffsets, inputOffsets.positionOf(value));
        } catch (error) {
          state.failure = error;
          return reportUnsent(state, value, null, error);
        }
        const { value: recordValue, ...fields } = record;
        producer.send(recordValue, fields, (report) => {
          state.reports.push(report);
          emitWhenReported(state);
        }).then(undefined, (error: unknown) => {
          // Refused before it was accepted: the producer gives it no report, and the window cannot
          // be whole (if its transaction is not already ending: see the README).
          state.failure ??= error;
          reportUnsent(state, value, record, error);
          emitWhenReported(state);
        });
      };

      const startNext = (): void => {
        if (closed) return;
        const next = queue.shift();
        active = next ?? null;
        if (next === undefined) {
          if (windowsDone) subscriber.complete();
          return;
        }
        try {
          producer.beginTransaction();
        } catch (error) {
          closed = true;
          subscriber.error(error);
          return;
        }
        buffered -= next.waiting.length;
        for (const value of next.waiting.splice(0)) send(next, value);
        if (next.ended) end(next);
      };

      /** Emits a decided window's reports once every accepted record has one, then moves on. */
      const emitWhenReported = (state: WindowState<T, V, K>): void => {
        if (closed || state.decision === null || state.reports.length < state.sent) return;
        const { committed, fatal } = state.decision;
        state.decision = null;
        for (const report of state.reports) subscriber.next(committed ? report : failedReport(report, state.failure));
        if (fatal !== undefined) {
          closed = true;
          subscriber.error(fatal);
          return;
        }
        startNext();
      };

      const decide = (state: WindowState<T, V, K>, committed: boolean, fatal?: unknown): void => {
        ending = null;
        state.decision = { committed, fatal };
        emitWhenReported(state);
      };

      /**
       * Ends the active window's transaction: a commit (which waits for every record of it) when
       * the window completed whole, else an abort. A commit that fails is followed by an abort; an
       * abort that fails means the producer can go on no more (fenced).
       */
      const end = (state: WindowState<T, V, K>): void => {
        if (ending !== null || closed) return;
        if (state.failure !== undefined) {
          ending = from(producer.abortTransaction()).subscribe({
            complete: () => decide(state, false),
            error: (error: unknown) => decide(state, false, error),
          });
          return;
        }
        ending = commitWithOffsets(state).subscribe({
          complete: () => decide(state, true),
          error: (error: unknown) => {
            state.failure = error;
            ending = from(producer.abortTransaction()).subscribe({
              complete: () => decide(state, false),
              error: () => decide(state, false, error),
            });
          },
        });
      };

      /** The window's input offsets (if any) into its transaction, then the commit. */
      const commitWithOffsets = (state: WindowState<T, V, K>): Observable<void> => {
        const commit = defer(() => producer.commitTransaction());
        if (inputOffsets === undefined || state.nextOffsets.size === 0) return commit;
        return concat(defer(() => producer.sendOffsetsToTransaction!([...state.nextOffsets.values()], inputOffsets.group)), commit);
      };

      const outer = windows.subscribe({
        next: (window) => {
          const state: WindowState<T, V, K> = { waiting: [], ended: false, failure: undefined, sent: 0, reports: [], nextOffsets: new Map(), subscription: null, decision: null };
          queue.push(state);
          state.subscription = window.subscribe({
            next: (value) => {
              if (state === active) return send(state, value);
              state.waiting.push(value);
              if (++buffered > maxBuffered) {
                failStream(new BackpressureOverflowError(`inTransactions: more than maxBuffered (${maxBuffered}) values wait for their window's transaction; windows come faster than transactions end`));
              }
            },
            error: (error: unknown) => {
              state.failure ??= error;
              state.ended = true;
              if (state === active) end(state);
            },
            complete: () => {
              state.ended = true;
              if (state === active) end(state);
            },
          });
          if (active === null) startNext();
        },
        error: (error: unknown) => failStream(error),
        complete: () => {
          windowsDone = true;
          if (active === null && queue.length === 0) subscriber.complete();
        },
      });

      return () => {
        outer.unsubscribe();
        for (const state of queue) state.subscription?.unsubscribe();
        active?.subscription?.unsubscribe();
        // Left open, the transaction would hold the producer (and the coordinator) until it times out.
        if (!closed && active !== null && ending === null) {
          closed = true;
          from(producer.abortTransaction()).subscribe({ error: () => undefined });
        }
        closed = true;
      };
    });
}

function noteInputOffset(nextOffsets: Map<string, OffsetToCommit>, position: InputPosition): void {
  const key = `${position.topic}\u0000${position.partition}`;
  const next = position.offset + 1n;
  const known = nextOffsets.get(key);
  if (known === undefined || known.offset < next) nextOffsets.set(key, { topic: position.topic, partition: position.partition, offset: next });
}

/** A report of a record whose transaction did not commit: failed, whatever its batch's answer. */
function failedReport<V, K>(report: DeliveryReport<V, K>, cause: unknown): DeliveryReport<V, K> {
  // The producer's own abort report stands, unless it lacks the cause the window knows.
  if (report.error instanceof TransactionAbortedError && (report.error.cause !== undefined || cause === undefined)) return report;
  const error: KafkaRxError = new TransactionAbortedError('the window\'s transaction was aborted: the record will never be visible to read_committed readers', {
    cause: cause === undefined ? report.error : asKafkaRxError(cause),
  });
  return { message: report.message, error };
}
