import { asyncScheduler, EMPTY, race, retry, timer, type MonoTypeOperatorFunction, type Observable, type SchedulerLike } from 'rxjs';
import type { ResolvedProducerOptions } from './options.js';
import { retryDelayMs } from './retry-policy.js';

export interface RetryBackoffConfig extends Pick<ResolvedProducerOptions, 'retryBackoffMs' | 'retryBackoffMaxMs'> {
  /** Told of each failure (and how many so far); false ends the stream, completed, without another attempt. */
  retryAfter(error: unknown, failures: number): boolean;
  /** Ends a pause early when it emits (e.g. the metadata now names the leader the attempt waited for). */
  wake?: Observable<unknown>;
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
 *
 * With `wake`, a pause also ends at wake's first emission during it.
 */
export function retryBackoff<T>(config: RetryBackoffConfig): MonoTypeOperatorFunction<T> {
  const scheduler = config.scheduler ?? asyncScheduler;
  return retry({
    delay: (error: unknown, failures: number) => {
      if (!config.retryAfter(error, failures)) return EMPTY;
      const pause = timer(retryDelayMs(config, failures), scheduler);
      return config.wake === undefined ? pause : race(pause, config.wake);
    },
  });
}
