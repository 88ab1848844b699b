import { defer, from, timer, type Observable, type SchedulerLike } from 'rxjs';
import {
  DeliveryTimeoutError,
  KafkaRxError,
  LeaderNotAvailableError,
  MessageSizeTooLargeError,
  ProtocolError,
  kafkaErrorFor,
} from '../errors/index.js';
import { asKafkaRxError } from '../errors/convert.js';
import {
  TOPIC_IDS_FROM,
  type ProducePartitionResponse,
  type ProduceResponse,
  type ProduceTopicData,
  type ProduceTopicResponse,
} from '../protocol/produce.js';
import type { BrokerQueues } from './broker-queues.js';
import type { DeliveryOutcomes } from './delivery-reports.js';
import type { IdempotentState, SealedBatch } from './idempotence.js';
import type { PendingMessage } from './message.js';
import type { ResolvedProducerOptions } from './options.js';
import { recordRefusal } from './record-errors.js';
import { RequestPlanner, type PlannedBatch, type PlannedRequest } from './request-planner.js';
import { retryBackoff } from './retry-backoff.js';
import { answerAfterAppend, countsAgainstRetries, requestMayHaveBeenWritten } from './retry-policy.js';
import type { ProducerStats } from './stats.js';
import type { ProducerTransport } from './transport.js';

export interface SenderContext {
  readonly topic: string;
  readonly options: ResolvedProducerOptions;
  readonly transport: ProducerTransport;
  readonly outcomes: DeliveryOutcomes;
  readonly stats: ProducerStats;
  /** Present when the producer is idempotent. */
  readonly idempotence: IdempotentState | null;
  /** Hands messages whose partition now has another leader back to the pipeline. */
  reroute(messages: PendingMessage[]): void;
  /** The per-broker queue bound; parked messages keep their place in it. */
  readonly queues?: BrokerQueues;
}

/** Thrown inside one attempt to make retry() schedule the next; carries what is still unsent. */
class AttemptFailed extends Error {
  constructor(readonly refreshMetadata: boolean) {
    super('some messages of the batch need another attempt');
  }
}

/**
 * Sends one broker's batch and gives each of its messages its outcome. Failures go through RxJS
 * retry with a delay that doubles at each failure of the batch (retryBackoffMs up to
 * retryBackoffMaxMs): before each attempt the batch is re-examined, so acknowledged messages are
 * not sent again, expired ones fail with DeliveryTimeoutError, and messages whose partition moved
 * to another leader go back to the pipeline to join that leader's group. Failed attempts are
 * counted per message against maxRetries, except a failover's (see countsAgainstRetries): those
 * wait, metadata refreshed before each retry, until the new leader shows or deliveryTimeoutMs ends.
 */
export function sendBatch(context: SenderContext, broker: number, batch: PendingMessage[]): Observable<never> {
  const { options, outcomes, stats } = context;
  let pending = batch;

  /** The metadata refresh the last failure asked for: the next attempt goes out once it is in. */
  let refreshing: Promise<void> | null = null;

  const attempt = async (): Promise<void> => {
    if (refreshing !== null) {
      const refresh = refreshing;
      refreshing = null;
      await refreshedOrCap(refresh, options.retryBackoffMaxMs, options.scheduler);
    }
    pending = routeAndExpire(context, broker, pending);
    if (context.idempotence !== null) pending = releaseHeldBack(context, pending);
    if (pending.length === 0) return;
    // An epoch bump waits for the requests in flight; this attempt waits with it, uncounted.
    if (context.idempotence !== null && !(await context.idempotence.prepare())) throw new AttemptFailed(false);
    const { sendable, leaderless } = splitByLeader(context, broker, pending);
    // Not sent, and not counted: the partition waits for its new leader.
    for (const message of leaderless) message.lastError = new LeaderNotAvailableError(`partition ${message.partition} of ${context.topic} has no leader`);
    let retryable: PendingMessage[] = leaderless;
    let refresh = leaderless.length > 0;
    if (sendable.length > 0) {
      const failed = await transmit(context, broker, sendable);
      retryable = retryable.concat(failed.messages);
      refresh ||= failed.refreshMetadata;
    }
    pending = retryable;
    if (pending.length > 0) throw new AttemptFailed(refresh);
  };

  return defer(() => from(attempt())).pipe(
    retryBackoff({
      retryBackoffMs: options.retryBackoffMs,
      retryBackoffMaxMs: options.retryBackoffMaxMs,
      scheduler: options.scheduler,
      retryAfter: (error: unknown) => {
        if (!(error instanceof AttemptFailed)) {
          // A defect, not a Kafka failure: still give every message its one outcome.
          const failure = error instanceof KafkaRxError ? error : new KafkaRxError(`unexpected failure while sending: ${String(error)}`, { cause: error });
          for (const message of pending) outcomes.settle(message, failure);
          return false;
        }
        pending = pending.filter((message) => {
          if (message.settled) return false;
          if (message.countedFailures > options.maxRetries) {
            outcomes.settle(message, message.lastError);
            return false;
          }
          return true;
        });
        if (pending.length === 0) return false;
        stats.retries += pending.length;
        if (error.refreshMetadata) {
          refreshing = context.transport.refreshMetadata(context.topic).catch(() => {
            // A failed refresh shows up again as a retriable error on the next attempt.
          });
        }
        return true;
      },
    }),
  ) as Observable<never>;
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

/** Messages whose partition's leader is this broker, and those whose partition has none known. */
function splitByLeader(context: SenderContext, broker: number, messages: PendingMessage[]): { sendable: PendingMessage[]; leaderless: PendingMessage[] } {
  // Until a message has no leader here, `sendable` is the given list itself (no copy per attempt).
  let sendable: PendingMessage[] | null = null;
  const leaderless: PendingMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (broker !== -1 && context.transport.leaderOf(context.topic, message.partition) === broker) {
      sendable?.push(message);
    } else {
      sendable ??= messages.slice(0, i);
      leaderless.push(message);
    }
  }
  return { sendable: sendable ?? messages, leaderless };
}

/** Drops settled messages, fails expired ones, re-routes moved ones; returns what stays here. */
function routeAndExpire(context: SenderContext, broker: number, messages: PendingMessage[]): PendingMessage[] {
  const now = context.options.scheduler.now();
  // Until a message leaves, `stay` is the given list itself (no copy in the common case).
  let stay: PendingMessage[] | null = null;
  let moved: PendingMessage[] | null = null;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    const leader = message.settled || message.sealed?.provenWritten === true || now >= message.deadline ? -2 : context.transport.leaderOf(context.topic, message.partition);
    if (leader === -2 || (leader !== -1 && leader !== broker)) {
      stay ??= messages.slice(0, i);
      if (leader === -2) leave(context, message);
      else (moved ??= []).push(message);
    } else if (stay !== null) {
      stay.push(message);
    }
  }
  if (moved !== null) context.reroute(moved);
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

/**
 * Sealed batches the broker refused as out of order, behind an older batch of their partition.
 * Retrying them in place would hold this broker's request slots while the older batch (say,
 * re-routed from a leader that died) waits behind them for a slot: a deadlock that only
 * deliveryTimeoutMs ends. So after their backoff they go back to the pipeline and free the slot,
 * unless the older batch is part of this very attempt.
 */
const heldBehindOlder = new WeakSet<SealedBatch>();

function releaseHeldBack(context: SenderContext, messages: PendingMessage[]): PendingMessage[] {
  const sequences = context.idempotence!.sequences;
  let here: Set<SealedBatch> | null = null;
  let released: Set<SealedBatch> | null = null;
  for (const message of messages) {
    const sealed = message.sealed;
    if (sealed === null || !heldBehindOlder.has(sealed) || released?.has(sealed)) continue;
    if (here === null) {
      here = new Set();
      for (const m of messages) if (m.sealed !== null) here.add(m.sealed);
    }
    const oldest = sequences.oldestOf(sealed.partition);
    if (oldest !== undefined && oldest !== sealed && !here.has(oldest)) (released ??= new Set()).add(sealed);
  }
  if (released === null) return messages;
  const stay: PendingMessage[] = [];
  const back: PendingMessage[] = [];
  for (const message of messages) (message.sealed !== null && released.has(message.sealed) ? back : stay).push(message);
  for (const sealed of released) heldBehindOlder.delete(sealed);
  context.reroute(back);
  return stay;
}

/**
 * Unsealed messages that must wait for an older message of their partition (re-routed from a
 * failed leader, still on its way) are parked here, per partition, holding no request slot but
 * keeping their place in their broker's queue bound. Once the partition's oldest unsealed message
 * is itself parked (the older ones took their sequence numbers, or their outcome), the whole lot
 * goes back to the pipeline in accept order, so the next plan seals it in one go. Cycling them
 * through the pipeline instead shuffled them into small pieces: each plan could seal only the
 * piece that came next, and a failover's backlog took minutes (deliveryTimeoutMs) to drain.
 */
const parkedBy = new WeakMap<IdempotentState, Map<number, PendingMessage[]>>();
const parked = new WeakSet<PendingMessage>();

function park(context: SenderContext, messages: PendingMessage[]): void {
  const state = context.idempotence!;
  let lots = parkedBy.get(state);
  if (lots === undefined) parkedBy.set(state, (lots = new Map()));
  for (const message of messages) {
    let lot = lots.get(message.partition);
    if (lot === undefined) {
      lots.set(message.partition, (lot = []));
      patrol(context, lots, message.partition);
    }
    lot.push(message);
    parked.add(message);
    context.queues?.add(message.broker, 1);
  }
}

/** Releases a partition's lot once its oldest unsealed message is parked (or none is left). */
function releaseParked(context: SenderContext, lots: Map<number, PendingMessage[]>, partition: number): void {
  const lot = lots.get(partition);
  if (lot === undefined || context.idempotence!.sequences.isProbing(partition)) return;
  const head = context.idempotence!.sequences.headOf(partition);
  if (head !== undefined && !parked.has(head)) return;
  lots.delete(partition);
  const live: PendingMessage[] = [];
  for (const message of lot) {
    parked.delete(message);
    context.queues?.remove(message.broker, 1);
    if (!message.settled) live.push(message);
  }
  live.sort((a, b) => a.ordinal - b.ordinal);
  if (live.length > 0) context.reroute(live);
}

/** The older message may leave without a plan (it expired): a lot is looked at again regularly. */
function patrol(context: SenderContext, lots: Map<number, PendingMessage[]>, partition: number): void {
  context.options.scheduler.schedule(() => {
    releaseParked(context, lots, partition);
    if (lots.has(partition)) patrol(context, lots, partition);
  }, Math.max(context.options.retryBackoffMs, 10));
}

/** What one attempt leaves for the next: messages to retry, and whether metadata is stale. */
class TransmitFailures {
  readonly messages: PendingMessage[] = [];
  refreshMetadata = false;

  retryLater(messages: PendingMessage[], error: KafkaRxError, counted = countsAgainstRetries(error)): void {
    for (const message of messages) {
      message.lastError = error;
      if (counted) message.countedFailures++;
      this.messages.push(message);
    }
    this.refreshMetadata ||= error.refreshMetadata;
  }
}

/**
 * A producer's planners, one per Produce version its brokers speak: settings fixed for its life,
 * apart from the topic id (v13+), which changes when the topic is deleted and created again.
 */
const plannersBy = new WeakMap<SenderContext, Map<number, RequestPlanner>>();

function plannerFor(context: SenderContext, version: number, topicId: Buffer | undefined): RequestPlanner {
  let planners = plannersBy.get(context);
  if (planners === undefined) plannersBy.set(context, (planners = new Map()));
  let planner = planners.get(version);
  if (planner !== undefined && topicId !== undefined && !planner.settings.topicId!.equals(topicId)) planner = undefined;
  if (planner === undefined) {
    const { options } = context;
    planner = new RequestPlanner({
      topic: context.topic,
      topicId,
      version,
      clientId: context.transport.clientId,
      acks: options.requiredAcks,
      timeoutMs: options.ackTimeoutMs,
      compression: options.compression,
      maxRequestSize: options.maxRequestSize,
      idempotence: context.idempotence === null ? undefined : context.idempotence,
    });
    planners.set(version, planner);
  }
  return planner;
}

/** One attempt: plan requests within maxRequestSize, send them pipelined, map each response. */
async function transmit(context: SenderContext, broker: number, messages: PendingMessage[]): Promise<TransmitFailures> {
  const { options, outcomes, transport } = context;
  const failures = new TransmitFailures();

  let version: number;
  try {
    // Known at once while the connection is open: no await before the request is planned and written.
    version = transport.knownProduceVersion?.(broker) ?? (await transport.produceVersion(broker));
  } catch (error) {
    const failure = asKafkaRxError(error);
    if (failure.retriable) failures.retryLater(messages, failure);
    else for (const message of messages) outcomes.settle(message, failure);
    return failures;
  }

  // Produce v13 names the topic by id; until the metadata has one, the topic goes by name (v12).
  let topicId: Buffer | undefined;
  if (version >= TOPIC_IDS_FROM) {
    topicId = transport.topicIdOf?.(context.topic);
    if (topicId === undefined) version = TOPIC_IDS_FROM - 1;
  }
  const plan = plannerFor(context, version, topicId).plan(messages);
  if (context.idempotence !== null) {
    if (plan.waiting.length > 0) park(context, plan.waiting);
    // This plan may have sealed what a lot waited for.
    releaseAllParked(context);
  }
  for (const message of plan.oversized) {
    outcomes.settle(message, new MessageSizeTooLargeError(`the message alone makes a Produce request larger than maxRequestSize (${options.maxRequestSize} bytes)`));
  }

  const { requests } = plan;
  if (requests.length === 1) {
    await sendPlanned(context, broker, requests[0], failures);
  } else if (requests.length > 1) {
    const sends = new Array<Promise<void>>(requests.length);
    for (let i = 0; i < requests.length; i++) sends[i] = sendPlanned(context, broker, requests[i], failures);
    await Promise.all(sends);
  }
  // An acknowledged first batch lets the rest of its partition go.
  if (context.idempotence !== null) releaseAllParked(context);
  return failures;
}

function releaseAllParked(context: SenderContext): void {
  const lots = parkedBy.get(context.idempotence!);
  if (lots !== undefined) for (const partition of [...lots.keys()]) releaseParked(context, lots, partition);
}

/** Sends one planned request and settles, or keeps for the next attempt, each of its messages. */
async function sendPlanned(context: SenderContext, broker: number, planned: PlannedRequest, failures: TransmitFailures): Promise<void> {
  const { options, outcomes, stats } = context;
  for (const batch of planned.batches) {
    for (const message of batch.messages) {
      message.attempts++;
      message.inFlight = true;
    }
  }
  stats.requests++;
  stats.bytes += planned.size;
  let response: ProduceResponse | undefined;
  const idempotence = context.idempotence;
  if (idempotence !== null) idempotence.inFlightRequests++;
  try {
    response = await context.transport.produce(broker, planned.request, options.ackTimeoutMs);
  } catch (error) {
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
    return;
  } finally {
    if (idempotence !== null) idempotence.inFlightRequests--;
  }
  settleFromResponse(context, planned, response, failures);
}

function settleFromResponse(
  context: SenderContext,
  planned: PlannedRequest,
  response: ProduceResponse | undefined,
  failures: TransmitFailures,
): void {
  const { outcomes, stats } = context;
  if (response === undefined) {
    // acks=0: the broker never answers; written to the socket is as delivered as it gets.
    for (const batch of planned.batches) for (const message of batch.messages) outcomes.settle(message, null);
    return;
  }
  const results = new Map<number, ProduceResponse['responses'][number]['partitionResponses'][number]>();
  const sentAs = planned.request.topics[0];
  for (const topic of response.responses) {
    if (!answersTopic(topic, sentAs)) continue;
    for (const partition of topic.partitionResponses) results.set(partition.index, partition);
  }
  for (const batch of planned.batches) {
    const result = results.get(batch.partition);
    if (result === undefined || result.errorCode !== 0) {
      // Answered, so no longer in flight; an answer that says nothing of the batch, or one given
      // after the leader appended it, leaves it possibly written.
      const mayBeWritten = result === undefined || answerAfterAppend(result.errorCode);
      for (const message of batch.messages) {
        message.inFlight = false;
        if (mayBeWritten) message.mayBeWritten = true;
      }
    }
    if (result === undefined) {
      stats.errors++;
      failures.retryLater(batch.messages, new ProtocolError(`the Produce response has no result for partition ${batch.partition} of ${context.topic}`, { retriable: true }));
      continue;
    }
    if (result.errorCode === OUT_OF_ORDER_SEQUENCE_NUMBER && batch.sealed && context.idempotence?.sequences.writtenBeforeAcknowledged(batch.sealed)) {
      // A later batch of the partition was acknowledged under the same epoch, so this one was
      // written: its answer was lost (a leader change), and the broker, which remembers only the
      // last 5 batches, no longer knows it as a duplicate. Resending it renumbered would write it twice.
      for (const message of batch.messages) outcomes.settle(message, null);
      continue;
    }
    if (result.errorCode === DUPLICATE_SEQUENCE_NUMBER && batch.sealed) {
      // Already written by an earlier attempt whose answer was lost: delivered, offsets unknown.
      for (const message of batch.messages) outcomes.settle(message, null);
      continue;
    }
    if (result.errorCode !== 0) {
      stats.errors++;
      const error = kafkaErrorFor(result.errorCode, result.errorMessage ?? undefined);
      if ((result.errorCode === MESSAGE_TOO_LARGE || result.errorCode === RECORD_LIST_TOO_LARGE) && batch.messages.length > 1) {
        splitTooLarge(context, batch, error, failures);
        continue;
      }
      if (!error.retriable && result.recordErrors.some((e) => e.batchIndex >= 0 && e.batchIndex < batch.messages.length)) {
        failNamedRecords(context, batch, result, failures);
        continue;
      }
      const idempotent = batch.sealed && context.idempotence !== null ? idempotentRetry(context.idempotence, batch.sealed, result.errorCode) : 'no';
      if (idempotent !== 'no') {
        failures.retryLater(batch.messages, error, idempotent === 'counted' && countsAgainstRetries(error));
        continue;
      }
      if (error.retriable) failures.retryLater(batch.messages, error);
      else for (const message of batch.messages) outcomes.settle(message, error);
      continue;
    }
    const logAppendTime = result.logAppendTimeMs === undefined ? -1 : Number(result.logAppendTimeMs);
    const baseOffset = result.baseOffset;
    let delta = 0;
    for (const message of batch.messages) {
      message.acknowledgedAt(baseOffset, delta++);
      if (logAppendTime !== -1) message.timestamp = logAppendTime;
      outcomes.settle(message, null);
    }
  }
}

/** Whether a topic's answer is for the topic as the request named it: by id from Produce v13, else by name. */
function answersTopic(answer: ProduceTopicResponse, sentAs: ProduceTopicData): boolean {
  if (answer.topicId === null) return answer.name === sentAs.name;
  return sentAs.topicId !== undefined && sentAs.topicId !== null && answer.topicId.equals(sentAs.topicId);
}

const MESSAGE_TOO_LARGE = 10;
const RECORD_LIST_TOO_LARGE = 18;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const DUPLICATE_SEQUENCE_NUMBER = 46;
const INVALID_PRODUCER_EPOCH = 47;
const UNKNOWN_PRODUCER_ID = 59;
const PRODUCER_FENCED = 90;

/**
 * The broker refused a batch as too large (the topic's max.message.bytes is below maxRequestSize):
 * only some of its records may be at fault, so each is tried again in a batch of its own, the
 * attempt uncounted, and only a record too large alone fails. The broker wrote nothing of the
 * batch, so an idempotent batch gives up its sequence numbers (the gap makes the producer bump its
 * epoch) and its records take new ones, after the partition's batches still open.
 */
function splitTooLarge(context: SenderContext, batch: PlannedBatch, error: KafkaRxError, failures: TransmitFailures): void {
  releaseSequences(context, batch);
  for (const message of batch.messages) message.alone = true;
  failures.retryLater(batch.messages, error, false);
}

/** A batch the broker wrote nothing of gives up its sequence numbers: the gap makes the producer bump its epoch. */
function releaseSequences(context: SenderContext, batch: PlannedBatch): void {
  if (batch.sealed === undefined || context.idempotence === null) return;
  context.idempotence.finished(batch.sealed, true);
  context.idempotence.resetNeeded = true;
  for (const message of batch.messages) message.sealed = null;
}

/**
 * The broker refused a batch for some of its records and named them (Produce v8+ record errors,
 * e.g. timestamps beyond its limit): it wrote none of the batch. The named records fail with their
 * own error; the others were refused only for their company and are sent again, the attempt
 * uncounted, so bad input costs nothing but itself.
 */
function failNamedRecords(context: SenderContext, batch: PlannedBatch, result: ProducePartitionResponse, failures: TransmitFailures): void {
  const named = new Map<number, string | null>();
  for (const { batchIndex, message } of result.recordErrors) named.set(batchIndex, message);
  releaseSequences(context, batch);
  const innocent: PendingMessage[] = [];
  const { messages } = batch;
  for (let i = 0; i < messages.length; i++) {
    if (named.has(i)) {
      context.outcomes.settle(messages[i], recordRefusal(result, named.get(i) ?? null, messages[i].timestamp));
    } else {
      innocent.push(messages[i]);
    }
  }
  if (innocent.length > 0) {
    failures.retryLater(innocent, new KafkaRxError(`sent again: its batch to partition ${batch.partition} of ${context.topic} was refused for other records (${result.errorMessage ?? `error ${result.errorCode}`})`, { retriable: true }), false);
  }
}

/**
 * Sequence errors of an idempotent producer that call for another attempt rather than a failure.
 * An unknown producer means the broker lost the producer's state: the epoch is bumped and the
 * batches renumbered. A stale epoch after our own bump is retried under the new one.
 */
function idempotentRetry(state: IdempotentState, batch: SealedBatch, code: number): 'counted' | 'uncounted' | 'no' {
  switch (code) {
    case OUT_OF_ORDER_SEQUENCE_NUMBER:
      // Behind an unfinished older batch: it only arrived first, so the attempt is not counted.
      if (!state.sequences.isOldest(batch)) {
        heldBehindOlder.add(batch);
        return 'uncounted';
      }
      // The oldest unfinished batch out of order: the broker's sequence is not where this batch
      // starts. An older batch failed for good without being written (a gap), or the broker took
      // a later batch first (it accepts any first sequence from a producer it has no state for,
      // e.g. after this batch met a leader not ready yet). Either way this sequence can never be
      // accepted; the batch itself was not written (one that was is answered as a duplicate, or,
      // once the broker's memory of 5 batches has moved past it, is known written because a later
      // batch was acknowledged: see settleFromResponse). A new epoch restarts every partition at
      // 0; the attempt was not its fault.
      state.resetNeeded = true;
      return 'uncounted';
    case UNKNOWN_PRODUCER_ID:
      // A leader without the producer's state (a failover, or the state expired): not the batch's fault.
      state.resetNeeded = true;
      return 'uncounted';
    case INVALID_PRODUCER_EPOCH:
    case PRODUCER_FENCED:
      return batch.producerEpoch < state.identity.producerEpoch || batch.producerId !== state.identity.producerId ? 'counted' : 'no';
    default:
      return 'no';
  }
}
