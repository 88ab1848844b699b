import { asyncScheduler, EMPTY, retry, timer, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import type { ResolvedProducerOptions } from './options.js';
import { retryDelayMs } from './retry-policy.js';

export interface RetryBackoffConfig extends Pick<ResolvedProducerOptions, 'retryBackoffMs' | 'retryBackoffMaxMs'> {
  /** Told of each failure (and how many so far); false ends the stream, completed, without another attempt. */
  retryAfter(error: unknown, failures: number): boolean;
  scheduler?: SchedulerLike;
}

/**
 * Resubscribes to a failed source after a pause that doubles with each failure, from
 * retryBackoffMs up to retryBackoffMaxMs, for as long as `retryAfter` says so (it settles what
 * will not be tried again itself, so the stream then completes rather than errors).
 *
 * ```
 * source:  -#                     each subscription fails after 1 frame
 * subs:    ^!                     (retryBackoffMs 2, retryBackoffMaxMs 4)
 *          ---^!                  after a pause of 2
 *          --------^!             of 4
 *          -------------^!        of 4 (the cap); retryAfter says no at this failure
 * result:  --------------|
 * ```
 */
export function retryBackoff<T>(config: RetryBackoffConfig): MonoTypeOperatorFunction<T> {
  const scheduler = config.scheduler ?? asyncScheduler;
  return retry({
    delay: (error: unknown, failures: number) => (config.retryAfter(error, failures) ? timer(retryDelayMs(config, failures), scheduler) : EMPTY),
  });
}
