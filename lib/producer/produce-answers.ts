import {
  DuplicateSequenceNumberError,
  InvalidProducerEpochError,
  KafkaRxError,
  MessageSizeTooLargeError,
  OutOfOrderSequenceNumberError,
  ProducerFencedError,
  ProtocolError,
  RecordListTooLargeError,
  UnknownProducerIdError,
  kafkaErrorFor,
  type KafkaError,
} from '../errors/index.js';
import type { ProducePartitionResponse, ProduceResponse, ProduceTopicData, ProduceTopicResponse } from '../protocol/produce.js';
import type { SenderContext } from './batch-sender.js';
import type { DeliveryOutcomes } from './delivery-reports.js';
import type { IdempotentState } from './idempotence.js';
import type { PendingMessage } from './message.js';
import type { PartitionBuffer, SealedBatch } from './partition-buffer.js';
import { recordRefusal } from './record-errors.js';
import type { PlannedBatch, PlannedRequest } from './request-planner.js';
import { answerAfterAppend, countsAgainstRetries } from './retry-policy.js';

// What the sender makes of a Produce answer, partition by partition: acknowledged, failed, retried,
// split, or left to wait in its partition buffer, each decided by the error's class.

/** What one attempt leaves for the next: messages to retry, and whether metadata is stale. */
export class TransmitFailures {
  readonly messages: PendingMessage[] = [];
  /** Sealed batches refused as out of order behind an older unfinished batch: they wait for it. */
  readonly held: SealedBatch[] = [];
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

/** Settles, or keeps for the next attempt, each batch of an answered request. */
export function settleFromResponse(
  context: SenderContext,
  planned: PlannedRequest,
  response: ProduceResponse | undefined,
  failures: TransmitFailures,
): void {
  const { outcomes, stats } = context;
  if (response === undefined) {
    // acks=0: the broker never answers; written to the socket is as delivered as it gets.
    for (const batch of planned.batches) settleAll(outcomes, batch.messages);
    return;
  }
  // A request of one batch (one record at a time, low rates) has its answer found without a map.
  const results = planned.batches.length === 1 ? null : answersByPartition(planned, response);
  const { batches } = planned;
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b];
    const result = results === null ? onlyAnswer(planned, response, batch.partition) : results.get(batch.topic)?.get(batch.partition);
    if (result === undefined) {
      // Answered, so no longer in flight; an answer that says nothing of the batch leaves it possibly written.
      for (const message of batch.messages) {
        message.inFlight = false;
        message.mayBeWritten = true;
      }
      stats.errors++;
      failures.retryLater(batch.messages, new ProtocolError(`the Produce response has no result for partition ${batch.partition} of ${batch.topic}`, { retriable: true }));
      continue;
    }
    if (result.errorCode !== 0) {
      const error = kafkaErrorFor(result.errorCode, result.errorMessage ?? undefined);
      // Answered, so no longer in flight; an answer given after the leader appended the batch leaves it possibly written.
      const mayBeWritten = answerAfterAppend(error);
      for (const message of batch.messages) {
        message.inFlight = false;
        if (mayBeWritten) message.mayBeWritten = true;
      }
      refused(context, batch, result, error, failures);
      continue;
    }
    const logAppendTime = result.logAppendTimeMs === undefined ? -1 : Number(result.logAppendTimeMs);
    const baseOffset = result.baseOffset;
    // Indexed, not for..of: where V8 has not optimized this function, an array iterator allocates per step.
    const messages = batch.messages;
    for (let delta = 0; delta < messages.length; delta++) {
      const message = messages[delta];
      message.acknowledgedAt(baseOffset, delta);
      if (logAppendTime !== -1) message.timestamp = logAppendTime;
      outcomes.settle(message, null);
    }
  }
}

/** Per topic as the request named it, the partitions' answers. */
function answersByPartition(planned: PlannedRequest, response: ProduceResponse): Map<string, Map<number, ProducePartitionResponse>> {
  const results = new Map<string, Map<number, ProducePartitionResponse>>();
  for (const answer of response.responses) {
    const sentAs = planned.request.topics.find((topic) => answersTopic(answer, topic));
    if (sentAs === undefined) continue;
    let byPartition = results.get(sentAs.name);
    if (byPartition === undefined) results.set(sentAs.name, (byPartition = new Map()));
    for (const partition of answer.partitionResponses) byPartition.set(partition.index, partition);
  }
  return results;
}

/** The answer for the partition of a request's only topic (its only batch). */
function onlyAnswer(planned: PlannedRequest, response: ProduceResponse, partition: number): ProducePartitionResponse | undefined {
  const sentAs = planned.request.topics[0];
  let found: ProducePartitionResponse | undefined;
  const { responses } = response;
  for (let t = 0; t < responses.length; t++) {
    if (!answersTopic(responses[t], sentAs)) continue;
    // A partition answered twice counts by its last answer, as the map does.
    const results = responses[t].partitionResponses;
    for (let p = 0; p < results.length; p++) if (results[p].index === partition) found = results[p];
  }
  return found;
}

/** Reports every message of the list delivered. */
function settleAll(outcomes: DeliveryOutcomes, messages: readonly PendingMessage[]): void {
  for (let i = 0; i < messages.length; i++) outcomes.settle(messages[i], null);
}

/** Whether a topic's answer is for the topic as the request named it: by id from Produce v13, else by name. */
function answersTopic(answer: ProduceTopicResponse, sentAs: ProduceTopicData): boolean {
  if (answer.topicId === null) return answer.name === sentAs.name;
  return sentAs.topicId !== undefined && sentAs.topicId !== null && answer.topicId.equals(sentAs.topicId);
}

/** A partition's answer with an error: settled, retried, split or renumbered by the error's class. */
function refused(context: SenderContext, batch: PlannedBatch, result: ProducePartitionResponse, error: KafkaError, failures: TransmitFailures): void {
  const { outcomes, stats } = context;
  const { sealed, buffer } = batch;
  if (error instanceof OutOfOrderSequenceNumberError && sealed !== undefined && buffer!.writtenBeforeAcknowledged(sealed)) {
    // A later batch of the partition was acknowledged under the same epoch, so this one was
    // written: its answer was lost (a leader change), and the broker, which remembers only the
    // last 5 batches, no longer knows it as a duplicate. Resending it renumbered would write it twice.
    settleAll(outcomes, batch.messages);
    return;
  }
  if (error instanceof DuplicateSequenceNumberError && sealed !== undefined) {
    // Already written by an earlier attempt whose answer was lost: delivered, offsets unknown.
    settleAll(outcomes, batch.messages);
    return;
  }
  stats.errors++;
  if ((error instanceof MessageSizeTooLargeError || error instanceof RecordListTooLargeError) && batch.messages.length > 1) {
    splitTooLarge(context, batch, error, failures);
    return;
  }
  if (!error.retriable && result.recordErrors.some((e) => e.batchIndex >= 0 && e.batchIndex < batch.messages.length)) {
    failNamedRecords(context, batch, result, failures);
    return;
  }
  const idempotent = sealed !== undefined && context.idempotence !== null ? idempotentRetry(context.idempotence, buffer!, sealed, error) : 'no';
  if (idempotent === 'held') {
    failures.held.push(sealed!);
    return;
  }
  if (idempotent !== 'no') {
    failures.retryLater(batch.messages, error, idempotent === 'counted' && countsAgainstRetries(error));
    return;
  }
  if (error.retriable) failures.retryLater(batch.messages, error);
  else for (const message of batch.messages) outcomes.settle(message, error);
}

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
  batch.buffer!.finished(batch.sealed, true);
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
    failures.retryLater(innocent, new KafkaRxError(`sent again: its batch to partition ${batch.partition} of ${batch.topic} was refused for other records (${result.errorMessage ?? `error ${result.errorCode}`})`, { retriable: true }), false);
  }
}

/**
 * Sequence errors of an idempotent producer that call for another attempt rather than a failure.
 * An unknown producer means the broker lost the producer's state: the epoch is bumped and the
 * batches renumbered. A stale epoch after our own bump is retried under the new one.
 */
function idempotentRetry(state: IdempotentState, buffer: PartitionBuffer, batch: SealedBatch, error: KafkaError): 'counted' | 'uncounted' | 'held' | 'no' {
  if (error instanceof OutOfOrderSequenceNumberError) {
    // Behind an unfinished older batch: it only arrived first. It waits in its partition buffer,
    // holding no request slot, until the older one is done (the attempt is not counted).
    if (!buffer.isOldest(batch)) return 'held';
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
  }
  if (error instanceof UnknownProducerIdError) {
    // A leader without the producer's state (a failover, or the state expired): not the batch's fault.
    state.resetNeeded = true;
    return 'uncounted';
  }
  if (error instanceof InvalidProducerEpochError || error instanceof ProducerFencedError) {
    return batch.producerEpoch < state.identity.producerEpoch || batch.producerId !== state.identity.producerId ? 'counted' : 'no';
  }
  return 'no';
}
