import { defer, lastValueFrom, retry, throwError, timer, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';

/**
 * How a request outside the produce path (metadata, InitProducerId, the admin waits) is tried
 * again: how many pauses before giving up, and how long each is. The producer's own batches
 * follow retryBackoffMs / maxRetries instead (lib/producer/retry-policy.ts).
 */
export interface RetrySchedule {
  /** Pauses before giving up; the request is sent at most retries + 1 times. */
  readonly retries: number;
  /** The first pause. */
  readonly backoffMs: number;
  /** How the pause grows with each failure: the same, +backoffMs, or twice as long. */
  readonly growth: 'constant' | 'linear' | 'doubling';
  /** The longest pause: growth stops there (none: it grows until the retries run out). */
  readonly maxBackoffMs?: number;
}

/**
 * A metadata request that failed retriably (no broker answered, a timeout, a broker's retriable
 * code): pauses of 100, 200 and 300 ms, so a broker restarting under the client has a moment
 * before the caller sees the error.
 */
export const METADATA_RETRY: RetrySchedule = { retries: 3, backoffMs: 100, growth: 'linear' };

/**
 * A topic the cluster does not know, or knows without leaders yet: a topic created a moment ago
 * (auto-created or by another client) takes a few seconds to elect its leaders, so the pauses
 * double from 100 ms to 3.2 s (6.3 s in all) before the topic is taken for missing.
 */
export const TOPIC_METADATA_RETRY: RetrySchedule = { retries: 6, backoffMs: 100, growth: 'doubling' };

/**
 * InitProducerId answered retriably (COORDINATOR_LOAD_IN_PROGRESS and the like while a broker
 * starts): pauses of 100 ms up to 1 s, 5.5 s in all, since the producer cannot send idempotently without it.
 */
export const INIT_PRODUCER_ID_RETRY: RetrySchedule = { retries: 10, backoffMs: 100, growth: 'linear' };

/**
 * createTopics() waiting for the new topic's leaders to appear on every broker: asked again every
 * 50 ms until its timeoutMs (the deadline ends it, not a count).
 */
export const TOPIC_LEADERS_POLL: RetrySchedule = { retries: Infinity, backoffMs: 50, growth: 'constant' };

/** The pause after the n-th failure (n from 1), at most maxBackoffMs. */
export function pauseAfter(schedule: RetrySchedule, failures: number): number {
  return Math.min(uncappedPauseAfter(schedule, Math.max(failures, 1)), schedule.maxBackoffMs ?? Infinity);
}

function uncappedPauseAfter({ growth, backoffMs }: RetrySchedule, failures: number): number {
  switch (growth) {
    case 'constant':
      return backoffMs;
    case 'linear':
      return backoffMs * failures;
    case 'doubling':
      // Past 2^30 times the first pause every cap has been reached long since; stopping there
      // keeps an endless schedule's pause a finite number (0 * 2^1024 would be NaN).
      return backoffMs * 2 ** Math.min(failures - 1, 30);
  }
}

/**
 * Resubscribes to a source that failed with an error `retryIf` accepts, after the schedule's pause
 * (timed on `scheduler`), until it succeeds, the schedule runs out, or an error is not accepted:
 * then that error is the stream's. `retryIf` is told the pause that would follow, so a caller with a
 * deadline can refuse a pause that would end past it.
 *
 * ```
 * source:  -#                  each subscription fails after 1 frame
 * subs:    ^!                  (backoffMs 2, 'doubling', retries 2)
 *          ---^!               after a pause of 2
 *          --------^!          after a pause of 4; no retries left
 * result:  ---------#
 * ```
 */
export function retryOnSchedule<T>(schedule: RetrySchedule, retryIf: RetryIf, scheduler: SchedulerLike): MonoTypeOperatorFunction<T> {
  return retry({
    delay: (error: unknown, failures: number) => {
      const pause = pauseAfter(schedule, failures);
      return failures <= schedule.retries && retryIf(error, pause) ? timer(pause, scheduler) : throwError(() => error);
    },
  });
}

/** Whether a failure is worth another attempt after `pauseMs`. */
export type RetryIf = (error: unknown, pauseMs: number) => boolean;

/** `attempt` run again on the schedule (retryOnSchedule) while it fails with what `retryIf` accepts. */
export function attemptOnSchedule<T>(
  attempt: () => Promise<T>,
  schedule: RetrySchedule,
  retryIf: RetryIf,
  scheduler: SchedulerLike,
): Promise<T> {
  return lastValueFrom(defer(attempt).pipe(retryOnSchedule<T>(schedule, retryIf, scheduler)));
}
