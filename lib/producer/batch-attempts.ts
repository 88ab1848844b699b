import { defer, filter, from, ignoreElements, type Observable, of, throwError, timer, type SchedulerLike } from 'rxjs';
import { DeliveryTimeoutError, LeaderNotAvailableError } from '../errors/index.js';
import { asKafkaRxError } from '../errors/convert.js';
import type { SenderContext } from './batch-sender.js';
import type { PendingMessage } from './message.js';
import type { TransmitFailures } from './produce-answers.js';
import { retryBackoff } from './retry-backoff.js';
import { youngArray } from '../young-array.js';
import type { TopicPartition } from './transactions/transaction-manager.js';

/** What an attempt sends through: one request per broker (BatchSender.transmit). */
export interface Transmitter {
  transmit(broker: number, messages: PendingMessage[]): Promise<TransmitFailures>;
}

/** Messages whose partitions one broker leads. */
interface LeaderGroup {
  leader: number;
  messages: PendingMessage[];
}

/** Thrown inside one attempt to make retry() schedule the next; carries what is still unsent. */
class AttemptFailed extends Error {
  constructor(readonly refreshMetadata: boolean) {
    super('some messages of the batch need another attempt');
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The attempts at sending one batch, and what carries over between them: the messages still to
 * send, the metadata refresh the last failure asked for, and the partitions it failed on. One
 * object per batch with its steps as methods, not closures made per batch: one record at a time
 * pays this per record (bench/PROFILE.md).
 */
export class BatchAttempts {
  private pending: PendingMessage[];
  /** The metadata refresh the last failure asked for: the next attempt goes out once it is in. */
  private refreshing: Promise<void> | null = null;
  /** Topic partitions whose last failure asked for fresh metadata, with the leader they failed on. */
  private failedOn: Array<{ topic: string; partition: number; leader: number }> | null = null;

  constructor(
    private readonly context: SenderContext,
    private readonly sender: Transmitter,
    batch: PendingMessage[],
  ) {
    this.pending = batch;
  }

  /**
   * One attempt: resolves when every message still pending was sent and answered, rejects with
   * AttemptFailed when some need another. Nothing to await before sending (no refresh asked for,
   * no idempotence, no transaction) is the common case, written with then() rather than async.
   */
  attempt(): Promise<void> {
    const { context } = this;
    if (this.refreshing !== null || context.idempotence !== null || context.transactions != null) return this.attemptAfterWaits();
    // What an async function would do: a throw here (a defect) rejects, it does not escape.
    try {
      this.failedOn = null;
      const pending = (this.pending = expire(context, this.pending));
      if (pending.length === 0) return RESOLVED;
      // One leader for all (the common case): sent as it is, without grouping.
      const leader = soleLeaderOf(context, pending);
      if (leader >= 0) return this.sender.transmit(leader, pending).then((failed) => this.retryOrDone(failed.messages, failed.refreshMetadata));
      const { byLeader, leaderless } = splitByLeader(context, pending);
      waitForLeader(leaderless);
      return this.transmitSplit(byLeader, leaderless);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The same attempt, after what it has to await first: the refresh, an epoch bump, the partitions joining the transaction. */
  private async attemptAfterWaits(): Promise<void> {
    const { context } = this;
    if (this.refreshing !== null) {
      const refresh = this.refreshing;
      this.refreshing = null;
      await refreshedOrCap(refresh, context.options.retryBackoffMaxMs, context.options.scheduler);
    }
    this.failedOn = null;
    this.pending = expire(context, this.pending);
    if (this.pending.length === 0) return;
    // An epoch bump waits for the requests in flight; this attempt waits with it, uncounted.
    if (context.idempotence !== null && !(await context.idempotence.prepare())) throw new AttemptFailed(false);
    const { byLeader, leaderless } = splitByLeader(context, this.pending);
    waitForLeader(leaderless);
    if (byLeader.length > 0 && context.transactions != null) {
      // Not one batch of a partition leaves before the partition is in the transaction.
      const sendable = byLeader.length === 1 ? byLeader[0].messages : byLeader.flatMap((group) => group.messages);
      try {
        await context.transactions.joined(partitionsOf(sendable));
      } catch (error) {
        const failure = asKafkaRxError(error);
        for (const message of sendable) context.outcomes.settle(message, failure);
        this.pending = leaderless;
        if (leaderless.length > 0) throw new AttemptFailed(true);
        return;
      }
    }
    await this.transmitSplit(byLeader, leaderless);
  }

  /** Sends to each leader; what comes back unsent (and the leaderless) is what the next attempt has. */
  private transmitSplit(byLeader: LeaderGroup[], leaderless: PendingMessage[]): Promise<void> {
    if (byLeader.length === 1) {
      return this.sender.transmit(byLeader[0].leader, byLeader[0].messages).then((failed) => {
        this.retryOrDone(leaderless.length === 0 ? failed.messages : leaderless.concat(failed.messages), leaderless.length > 0 || failed.refreshMetadata);
      });
    }
    if (byLeader.length === 0) {
      this.retryOrDone(leaderless, leaderless.length > 0);
      return RESOLVED;
    }
    return Promise.all(byLeader.map(({ leader, messages }) => this.sender.transmit(leader, messages))).then((all) => {
      let retryable = leaderless;
      let refresh = leaderless.length > 0;
      for (const failed of all) {
        retryable = retryable.concat(failed.messages);
        refresh ||= failed.refreshMetadata;
      }
      this.retryOrDone(retryable, refresh);
    });
  }

  private retryOrDone(retryable: PendingMessage[], refresh: boolean): void {
    this.pending = retryable;
    if (retryable.length > 0) throw new AttemptFailed(refresh);
  }

  /**
   * The attempts after a failed first one: RxJS retry with a delay that doubles at each failure
   * (retryBackoffMs up to retryBackoffMaxMs), cut short when the metadata names a new leader for a
   * partition whose failure asked for one. Built only once an attempt has failed: a batch whose
   * first attempt succeeds (the common case) costs no chain of operators.
   */
  retried(firstFailure: unknown): Observable<never> {
    const { context } = this;
    const { options, outcomes, stats, transport } = context;
    const leaderMoved = (): boolean => {
      if (this.failedOn === null) return false;
      for (const { topic, partition, leader } of this.failedOn) {
        const now = transport.leaderOf(topic, partition);
        if (now !== -1 && now !== leader) return true;
      }
      return false;
    };

    let first: { error: unknown } | null = { error: firstFailure };
    return defer(() => {
      if (first === null) return from(this.attempt());
      const { error } = first;
      first = null;
      return throwError(() => error);
    }).pipe(
      retryBackoff({
        retryBackoffMs: options.retryBackoffMs,
        retryBackoffMaxMs: options.retryBackoffMaxMs,
        scheduler: options.scheduler,
        // Checked at once too: the refresh this failure asked for may have landed already.
        wake: defer(() => (leaderMoved() ? of(true) : transport.metadataChanges$.pipe(filter(leaderMoved)))),
        retryAfter: (error: unknown) => {
          if (!(error instanceof AttemptFailed)) {
            // A defect, not a Kafka failure: still give every message its one outcome.
            const failure = asKafkaRxError(error, 'unexpected failure while sending');
            for (const message of this.pending) outcomes.settle(message, failure);
            return false;
          }
          this.pending = this.pending.filter((message) => {
            if (message.settled) return false;
            if (message.countedFailures > options.maxRetries) {
              outcomes.settle(message, message.lastError);
              return false;
            }
            return true;
          });
          if (this.pending.length === 0) return false;
          stats.retries += this.pending.length;
          if (error.refreshMetadata) {
            this.failedOn = partitionsOf(this.pending).map(({ topic, partition }) => ({ topic, partition, leader: transport.leaderOf(topic, partition) }));
            this.refreshing = refreshTopicsOf(context, this.pending);
          }
          return true;
        },
      }),
      ignoreElements(),
    );
  }
}

/**
 * Waits for a metadata refresh, so that a retry after a leader move goes where the cluster now
 * says, but no longer than `capMs`: a cluster that does not answer is the next attempt's problem.
 */
function refreshedOrCap(refresh: Promise<void>, capMs: number, scheduler: SchedulerLike): Promise<void> {
  return new Promise<void>((resolve) => {
    const cap = timer(capMs, scheduler).subscribe(() => resolve());
    void refresh.then(() => {
      cap.unsubscribe();
      resolve();
    });
  });
}

/** The topic partitions of these messages, each once. */
function partitionsOf(messages: readonly PendingMessage[]): TopicPartition[] {
  const byTopic = new Map<string, Set<number>>();
  for (const message of messages) {
    let partitions = byTopic.get(message.topic);
    if (partitions === undefined) byTopic.set(message.topic, (partitions = new Set()));
    partitions.add(message.partition);
  }
  const out: TopicPartition[] = [];
  for (const [topic, partitions] of byTopic) for (const partition of partitions) out.push({ topic, partition });
  return out;
}

/** One metadata refresh for the topics of these messages (the cluster fetches them together). */
function refreshTopicsOf(context: SenderContext, messages: readonly PendingMessage[]): Promise<void> {
  const topics = new Set<string>();
  for (const message of messages) topics.add(message.topic);
  return Promise.all([...topics].map((topic) => context.transport.refreshMetadata(topic))).then(
    () => undefined,
    () => {
      // A failed refresh shows up again as a retriable error on the next attempt.
    },
  );
}

/** Messages of partitions without a known leader: not sent, and not counted, they wait for the new leader. */
function waitForLeader(leaderless: readonly PendingMessage[]): void {
  for (const message of leaderless) message.lastError = new LeaderNotAvailableError(`partition ${message.partition} of ${message.topic} has no leader`);
}

/** sharedLeaderOf's answer when the messages' partitions have different leaders. */
const SEVERAL_LEADERS = -2;

/**
 * The leader of every message's partition if they share one (-1: none known for any), else
 * SEVERAL_LEADERS. An attempt's messages are in accept order, a few partitions taking turns: the
 * partitions of the first message's topic (most attempts have no other) are looked up once each,
 * not once per message; those of other topics once per message, with no list made per topic.
 */
function sharedLeaderOf(context: SenderContext, messages: readonly PendingMessage[]): number {
  const { transport } = context;
  const { topic, partition } = messages[0];
  const first = transport.leaderOf(topic, partition);
  const checked: boolean[] = [];
  checked[partition] = true;
  for (let i = 1; i < messages.length; i++) {
    const message = messages[i];
    if (message.topic === topic) {
      if (checked[message.partition] === true) continue;
      checked[message.partition] = true;
    }
    if (transport.leaderOf(message.topic, message.partition) !== first) return SEVERAL_LEADERS;
  }
  return first;
}

/** The leader of every message's partition if it is one known broker; -1 if not (none known for some, or several). */
function soleLeaderOf(context: SenderContext, messages: readonly PendingMessage[]): number {
  const leader = sharedLeaderOf(context, messages);
  return leader === SEVERAL_LEADERS ? -1 : leader;
}

/** The messages by their partition's leader now, and those whose partition has none known. */
function splitByLeader(context: SenderContext, messages: PendingMessage[]): { byLeader: LeaderGroup[]; leaderless: PendingMessage[] } {
  const { transport } = context;
  // The common case is one leader for the whole batch: the list is handed on as it is.
  const shared = sharedLeaderOf(context, messages);
  if (shared !== SEVERAL_LEADERS) return shared === -1 ? { byLeader: [], leaderless: messages } : { byLeader: [{ leader: shared, messages }], leaderless: [] };
  const groups = new Map<number, PendingMessage[]>();
  for (const message of messages) {
    const leader = transport.leaderOf(message.topic, message.partition);
    let group = groups.get(leader);
    if (group === undefined) groups.set(leader, (group = youngArray()));
    group.push(message);
  }
  const leaderless = groups.get(-1) ?? [];
  groups.delete(-1);
  return { byLeader: [...groups].map(([leader, list]) => ({ leader, messages: list })), leaderless };
}

/** Drops settled messages and fails expired ones; returns what is still to send. */
function expire(context: SenderContext, messages: PendingMessage[]): PendingMessage[] {
  const now = context.options.scheduler.now();
  // Until a message leaves, `stay` is the given list itself (no copy in the common case).
  let stay: PendingMessage[] | null = null;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (message.settled || message.sealed?.provenWritten === true || now >= message.deadline) {
      stay ??= messages.slice(0, i);
      leave(context, message);
    } else if (stay !== null) {
      stay.push(message);
    }
  }
  // An expired message fails its whole sealed batch, batch-mates kept above included (a message
  // that waited for room in the queue can expire before one accepted ahead of it): drop those.
  if (stay !== null && stay.some((message) => message.settled)) stay = stay.filter((message) => !message.settled);
  return stay ?? messages;
}

/** A message that leaves without being sent: already settled, proven written, or expired. */
function leave(context: SenderContext, message: PendingMessage): void {
  if (message.settled) return;
  if (message.sealed?.provenWritten === true) {
    context.outcomes.settle(message, null);
    return;
  }
  // A sealed batch is sent whole or not at all, so it expires whole too.
  for (const expired of message.sealed?.messages ?? [message]) {
    context.outcomes.settle(expired, new DeliveryTimeoutError(`not acknowledged within deliveryTimeoutMs (${context.options.deliveryTimeoutMs} ms) after ${expired.attempts} attempt(s)`, { cause: expired.lastError ?? undefined }));
  }
}
