import { ConnectionError, NotEnoughReplicasAfterAppendError, RequestNotSentError, RequestTimedOutError, RequestTimeoutError, type KafkaRxError } from '../errors/index.js';
import { pauseAfter, type RetrySchedule } from '../cluster/retry-schedule.js';
import type { ResolvedProducerOptions } from './options.js';

/**
 * Whether a failed attempt counts against maxRetries. A failover shows up as a lost or refused
 * connection, a partition without a leader, NOT_LEADER_OR_FOLLOWER or a topic the broker does not
 * know yet: errors that ask for fresh metadata. They last as long as the cluster takes to elect a
 * new leader (seconds), however often the producer looks, so counting them would fail messages
 * faster than any failover completes: they are waited out, deliveryTimeoutMs the bound. A request
 * unanswered for the whole request timeout counts: it cannot recur faster than that timeout.
 */
export function countsAgainstRetries(error: KafkaRxError): boolean {
  if (error instanceof RequestTimeoutError) return true;
  return !error.refreshMetadata;
}

/**
 * The producer's backoff: retryBackoffMs doubled at each failure, capped at retryBackoffMaxMs
 * (KIP-580, without its jitter, so that a schedule can be checked exactly). It sets no count: what
 * ends a batch's retries is maxRetries and deliveryTimeoutMs, a coordinator request's maxBlockMs.
 */
export function producerBackoff(options: Pick<ResolvedProducerOptions, 'retryBackoffMs' | 'retryBackoffMaxMs'>): RetrySchedule {
  return { retries: Infinity, backoffMs: options.retryBackoffMs, growth: 'doubling', maxBackoffMs: options.retryBackoffMaxMs };
}

/** The pause before a batch's next attempt, after `failures` failed ones (1 for the first retry). */
export function retryDelayMs(options: Pick<ResolvedProducerOptions, 'retryBackoffMs' | 'retryBackoffMaxMs'>, failures: number): number {
  return pauseAfter(producerBackoff(options), failures);
}

/**
 * Whether a Produce request that failed with this error may have been written: a request refused
 * before it was written (RequestNotSentError) or one that could not be encoded was not; one lost
 * with its connection, or unanswered within the timeout, may have been.
 */
export function requestMayHaveBeenWritten(error: unknown): boolean {
  if (error instanceof RequestNotSentError) return false;
  return error instanceof ConnectionError || error instanceof RequestTimeoutError;
}

/** Broker answers that come after the leader appended the batch to its log: it may yet be kept. */
export function answerAfterAppend(error: KafkaRxError): boolean {
  return error instanceof RequestTimedOutError || error instanceof NotEnoughReplicasAfterAppendError;
}
