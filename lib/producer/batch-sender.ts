import { concat, mergeMap, Observable, of, Subject, type SchedulerLike } from 'rxjs';
import { MessageSizeTooLargeError } from '../errors/index.js';
import { asKafkaRxError } from '../errors/convert.js';
import { TOPIC_IDS_FROM, type ProduceResponse } from '../protocol/produce.js';
import type { BrokerQueues } from './broker-queues.js';
import type { DeliveryOutcomes } from './delivery-reports.js';
import type { IdempotentState } from './idempotence.js';
import type { PendingMessage } from './message.js';
import type { PartitionBuffer, SealedBatch } from './partition-buffer.js';
import { settleFromResponse, TransmitFailures } from './produce-answers.js';
import type { ResolvedProducerOptions } from './options.js';
import { RequestPlanner, type PlannedRequest } from './request-planner.js';
import { BatchAttempts } from './batch-attempts.js';
import { zeroDelayScheduler } from './zero-delay.js';
import { requestMayHaveBeenWritten } from './retry-policy.js';
import type { ProducerStats } from './stats.js';
import type { ProducerTransport } from './transport.js';
import type { TopicPartition } from './transactions/transaction-manager.js';

export interface SenderContext {
  readonly options: ResolvedProducerOptions;
  readonly transport: ProducerTransport;
  readonly outcomes: DeliveryOutcomes;
  readonly stats: ProducerStats;
  /** Present when the producer is idempotent. */
  readonly idempotence: IdempotentState | null;
  /** The per-broker queue bound; parked messages keep their place in it. */
  readonly queues?: BrokerQueues;
  /** Present when the producer is transactional. */
  readonly transactions?: SenderTransactions | null;
}

/** What sending needs from a transactional producer. */
export interface SenderTransactions {
  readonly transactionalId: string;
  /** The highest Produce version to send (transactions v1 must not send v12+). */
  readonly maxProduceVersion: number;
  /** Resolves once these partitions are in the open transaction (AddPartitionsToTxn with transactions v1). */
  joined(partitions: readonly TopicPartition[]): Promise<void>;
}

/**
 * Sends the producer's batches and gives each of their messages its outcome. Each attempt sends
 * every message to its partition's leader as the metadata names it then, so a leader move needs no
 * re-routing: the batch follows its partitions. It keeps what outlives one batch: a request
 * planner per Produce version, and the partition buffers holding messages that wait for older
 * ones of their partition (idempotence), which it sends on as soon as their buffer lets them go.
 */
export class BatchSender {
  /**
   * One planner per Produce version the brokers speak: settings fixed for the producer's life
   * (topic ids, v13+, are looked up at each plan: a topic deleted and created again has a new one).
   */
  private readonly planners = new Map<number, RequestPlanner>();
  /** Partition buffers holding parked or held messages. */
  private readonly waiting = new Set<PartitionBuffer>();
  /** Partition buffers looked at again once the current work is done. */
  private readonly releaseDue = new Set<PartitionBuffer>();
  /** Messages their partition buffer let go: sent as batches of their own, without a linger. */
  private readonly released = new Subject<PendingMessage[]>();
  /** The sends of released messages; the pipeline subscribes to it beside the linger groups'. */
  readonly releasedSends$: Observable<PendingMessage[]> = this.released.pipe(mergeMap((messages) => this.send(messages)));

  /** Runs the release of waiting messages once the current work is done (a microtask on the real clock). */
  private readonly soon: SchedulerLike;

  constructor(readonly context: SenderContext) {
    this.soon = zeroDelayScheduler(context.options.scheduler);
    if (context.idempotence !== null) {
      // A sealed batch is done once its messages have their outcome; and the message may be what
      // messages waiting in its partition buffer waited for.
      context.outcomes.partitionSettled = (message, failed) => {
        const buffer = message.buffer!;
        if (message.sealed !== null) buffer.finished(message.sealed, failed);
        this.settled(buffer);
      };
    }
  }

  /**
   * Sends a batch and emits it once every message still in it has its outcome (messages that must
   * wait for older ones of their partition leave it for their partition buffer). Failures go
   * through RxJS retry with a delay that doubles at each failure of the batch (retryBackoffMs up to
   * retryBackoffMaxMs), cut short when the metadata names a new leader for a partition whose
   * failure asked for one. Before each attempt the batch is re-examined, so acknowledged messages
   * are not sent again and expired ones fail with DeliveryTimeoutError. Failed attempts are counted
   * per message against maxRetries, except a failover's (see countsAgainstRetries): those wait,
   * metadata refreshed before each retry, until the new leader shows or deliveryTimeoutMs ends.
   */
  send(batch: PendingMessage[]): Observable<PendingMessage[]> {
    const attempts = new BatchAttempts(this.context, this, batch);
    return new Observable<PendingMessage[]>((subscriber) => {
      attempts.attempt().then(
        () => {
          if (subscriber.closed) return;
          subscriber.next(batch);
          subscriber.complete();
        },
        (error: unknown) => {
          if (!subscriber.closed) concat(attempts.retried(error), of(batch)).subscribe(subscriber);
        },
      );
    });
  }

  /**
   * A message of this partition buffer got its outcome: it may have been what the waiting ones
   * waited for. Looked at after the current work, not inside a settle().
   */
  private settled(buffer: PartitionBuffer): void {
    if (!buffer.hasWaiting || this.releaseDue.has(buffer)) return;
    this.releaseSoon(buffer);
  }

  // A method of its own: a function that makes a closure allocates the closure's context as it is
  // entered, so settled() would pay it for every message, most of which return at once (48 B each).
  private releaseSoon(buffer: PartitionBuffer): void {
    this.releaseDue.add(buffer);
    this.soon.schedule(() => {
      this.releaseDue.delete(buffer);
      this.release(buffer);
    });
  }

  /** Unsealed messages that may not take sequence numbers yet leave their batch for their buffer. */
  private park(messages: PendingMessage[]): void {
    for (const message of messages) {
      const buffer = message.buffer!;
      buffer.park(message);
      this.waiting.add(buffer);
      // They keep their place in their broker's queue bound while they hold no request slot.
      this.context.queues?.add(message.broker, 1);
    }
  }

  /** Sealed batches refused as out of order behind an older one leave their batch for their buffer. */
  private hold(batches: SealedBatch[]): void {
    for (const sealed of batches) {
      const buffer = sealed.messages[0].buffer!;
      buffer.hold(sealed);
      this.waiting.add(buffer);
      for (const message of sealed.messages) this.context.queues?.add(message.broker, 1);
    }
  }

  private release(buffer: PartitionBuffer): void {
    const live = buffer.release();
    if (!buffer.hasWaiting) this.waiting.delete(buffer);
    if (live.length === 0) return;
    for (const message of live) this.context.queues?.remove(message.broker, 1);
    this.released.next(live);
  }

  private releaseAll(): void {
    for (const buffer of [...this.waiting]) this.release(buffer);
  }

  private plannerFor(version: number): RequestPlanner {
    let planner = this.planners.get(version);
    if (planner === undefined) {
      const { options, transport, idempotence } = this.context;
      planner = new RequestPlanner({
        topicIdOf: version >= TOPIC_IDS_FROM ? (topic) => transport.topicIdOf?.(topic) : undefined,
        version,
        clientId: transport.clientId,
        acks: options.requiredAcks,
        timeoutMs: options.ackTimeoutMs,
        compression: options.compression,
        maxRequestSize: options.maxRequestSize,
        idempotence: idempotence === null ? undefined : idempotence,
        transactionalId: this.context.transactions?.transactionalId ?? null,
      });
      this.planners.set(version, planner);
    }
    return planner;
  }

  /**
   * One attempt at one broker: plan requests within maxRequestSize, send them pipelined, map each
   * response. Written with then() rather than async: one record at a time pays this per record,
   * and each async function's frame and promise cost it ~0.8 KB (bench/PROFILE.md).
   */
  transmit(broker: number, messages: PendingMessage[]): Promise<TransmitFailures> {
    const { transport } = this.context;
    // Known at once while the connection is open: nothing to wait for before the request is planned and written.
    const version = transport.knownProduceVersion?.(broker);
    if (version !== undefined) return this.transmitAt(version, broker, messages);
    return transport.produceVersion(broker).then(
      (asked) => this.transmitAt(asked, broker, messages),
      (error: unknown) => {
        const failures = new TransmitFailures();
        const failure = asKafkaRxError(error);
        if (failure.retriable) failures.retryLater(messages, failure);
        else for (const message of messages) this.context.outcomes.settle(message, failure);
        return failures;
      },
    );
  }

  private transmitAt(brokerVersion: number, broker: number, messages: PendingMessage[]): Promise<TransmitFailures> {
    const { context } = this;
    const { options, outcomes, transport } = context;
    const failures = new TransmitFailures();
    let version = brokerVersion;
    if (context.transactions != null) version = Math.min(version, context.transactions.maxProduceVersion);
    // Produce v13 names topics by id; until the metadata has one for every topic, they go by name (v12).
    if (version >= TOPIC_IDS_FROM && !everyTopicHasId(transport, messages)) version = TOPIC_IDS_FROM - 1;
    const planner = this.plannerFor(version);
    const plan = planner.plan(messages);
    if (context.idempotence !== null) {
      if (plan.waiting.length > 0) this.park(plan.waiting);
      // This plan may have sealed what waiting messages waited for.
      this.releaseAll();
    }
    for (const message of plan.oversized) {
      outcomes.settle(message, new MessageSizeTooLargeError(`the message alone makes a Produce request larger than maxRequestSize (${options.maxRequestSize} bytes)`));
    }

    const { requests } = plan;
    // One request and nothing to release after it (no idempotence): its answer is the attempt's.
    if (requests.length === 1 && context.idempotence === null) return sendPlanned(context, broker, planner, requests[0], failures);
    let sent: Promise<unknown>;
    if (requests.length === 1) {
      sent = sendPlanned(context, broker, planner, requests[0], failures);
    } else if (requests.length > 1) {
      const sends = new Array<Promise<TransmitFailures>>(requests.length);
      for (let i = 0; i < requests.length; i++) sends[i] = sendPlanned(context, broker, planner, requests[i], failures);
      sent = Promise.all(sends);
    } else {
      sent = Promise.resolve();
    }
    return sent.then(() => {
      if (context.idempotence !== null) {
        if (failures.held.length > 0) this.hold(failures.held);
        // An acknowledged batch lets the rest of its partition go.
        this.releaseAll();
      }
      return failures;
    });
  }
}

/** Whether the metadata has an id for every topic of these messages (Produce v13 names topics by id). */
function everyTopicHasId(transport: ProducerTransport, messages: readonly PendingMessage[]): boolean {
  let checked: string | undefined;
  for (let i = 0; i < messages.length; i++) {
    const { topic } = messages[i];
    if (topic === checked) continue;
    if (transport.topicIdOf?.(topic) === undefined) return false;
    checked = topic;
  }
  return true;
}

/**
 * Sends one planned request and settles, or keeps for the next attempt (in `failures`, which it
 * resolves with), each of its messages. Never rejects.
 */
function sendPlanned(context: SenderContext, broker: number, planner: RequestPlanner, planned: PlannedRequest, failures: TransmitFailures): Promise<TransmitFailures> {
  const { options, stats } = context;
  const { batches } = planned;
  // Indexed loops: for-of allocates iterator results until the function is optimized.
  for (let b = 0; b < batches.length; b++) {
    const { messages } = batches[b];
    for (let m = 0; m < messages.length; m++) {
      messages[m].attempts++;
      messages[m].inFlight = true;
    }
  }
  stats.requestSent(broker, planned.size);
  for (let b = 0; b < batches.length; b++) {
    const topic = stats.topics.of(batches[b].topic);
    topic.batches++;
    topic.batchBytes += batches[b].records.length;
  }
  const idempotence = context.idempotence;
  if (idempotence !== null) idempotence.inFlightRequests++;
  let answer: Promise<ProduceResponse | undefined>;
  try {
    answer = context.transport.produce(broker, planned.request, options.ackTimeoutMs);
  } catch (error) {
    answer = Promise.reject(error);
  }
  return answer.then(
    (response) => {
      if (idempotence !== null) idempotence.inFlightRequests--;
      // Before settling, which may plan a sealed batch of this request again: it is then re-encoded.
      planner.answered(planned);
      settleFromResponse(context, planned, response, failures);
      return failures;
    },
    (error: unknown) => {
      if (idempotence !== null) idempotence.inFlightRequests--;
      notSent(context, planned, error, failures);
      return failures;
    },
  );
}

/** A request that failed without an answer: its messages are retried or failed, by the error's class. */
function notSent(context: SenderContext, planned: PlannedRequest, error: unknown, failures: TransmitFailures): void {
  const { outcomes, stats } = context;
  const failure = asKafkaRxError(error);
  stats.errors++;
  const mayBeWritten = requestMayHaveBeenWritten(error);
  for (const batch of planned.batches) {
    for (const message of batch.messages) {
      message.inFlight = false;
      if (mayBeWritten) message.mayBeWritten = true;
    }
    if (failure.retriable) failures.retryLater(batch.messages, failure);
    else for (const message of batch.messages) outcomes.settle(message, failure);
  }
}
