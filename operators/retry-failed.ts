import { asyncScheduler, Observable, Subscription, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { asKafkaRxError } from '../lib/errors/convert.js';
import { ConfigError, DeliveryTimeoutError, KafkaRxError, MaybeWrittenError, QueueFullError } from '../lib/errors/index.js';
import { functionOption, integerOption, refuseUnknownOptions } from '../lib/option-checks.js';
import type { DeliveryReport } from '../lib/producer/message.js';
import type { FailedReport } from './to-dead-letter.js';
import type { ProducerLike } from './to-kafka.js';

/** A report out of retryFailed: the last send's report, and what all the sends took. */
export interface RetriedReport<V = unknown, K = unknown> extends FailedReport<V, K> {
  /** How many times retryFailed re-sent the record (0: the report passed through as it came). */
  readonly resends: number;
  /** The producer's attempts over every send. */
  readonly totalAttempts: number;
}

export interface RetryFailedOptions {
  /** Most re-sends of one record. */
  count: number;
  /** Milliseconds before a re-send: a number, or a function of the re-send's number (1, 2, ...). Default 1000. */
  delay?: number | ((resend: number, error: KafkaRxError) => number);
  /**
   * Which not-written failures to re-send (default: retriable errors, delivery timeouts and full
   * queues). A MaybeWrittenError is never re-sent, whatever this says.
   */
  retryIf?: (error: KafkaRxError) => boolean;
  /** Where the delays run (TestScheduler in marble tests). */
  scheduler?: SchedulerLike;
}

const optionNames = ['count', 'delay', 'retryIf', 'scheduler'] as const satisfies ReadonlyArray<keyof RetryFailedOptions>;

/**
 * The default re-send policy: failures the producer gave up on although another attempt may work
 * (retries exhausted on a retriable error, the delivery timeout during an outage, a full queue).
 * Bad input, a record too large or a stopped producer would fail the same way again.
 */
export function isWorthResending(error: KafkaRxError): boolean {
  return error.retriable || error instanceof DeliveryTimeoutError || error instanceof QueueFullError;
}

/**
 * Re-sends, through `producer` (or the one a function of the report picks, e.g. by
 * `report.message.topic` after routeToKafka), records whose delivery report failed with a "not written" outcome
 * that `retryIf` accepts, up to `count` times each after `delay`; emits one report per input
 * report: acknowledged and other failed reports as they come, re-sent ones once their last send
 * is reported. A MaybeWrittenError (a request carrying the record was on the wire and no answer
 * came) is never re-sent: the record may be on the broker, and a new send is a new record, which
 * even an idempotent producer cannot tell from the first (it gets a new sequence number).
 *
 * A re-send goes to the partition the record was meant for and leaves after records sent since,
 * so it gives up the source's order: for ordered delivery rely on the producer's own retries.
 *
 * ```
 * reports: -a-B-c-|        (B failed, not written; its re-send is acknowledged 1 after it leaves)
 * delay:      --           (2)
 * result:  -a---cb|        b = { ..., resends: 1 }
 * ```
 *
 * Unsubscribing cancels the re-sends still waiting for their delay; records already re-sent keep
 * their outcome on the producer's deliveryReports$.
 */
export function retryFailed<V, K>(
  producer: ProducerLike<V, K> | ((report: DeliveryReport<V, K>) => ProducerLike<V, K>),
  options: RetryFailedOptions,
): OperatorFunction<DeliveryReport<V, K>, RetriedReport<V, K>> {
  const producerFor = typeof producer === 'function' ? producer : () => producer;
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object of retryFailed options ({ count, delay })', options);
  refuseUnknownOptions(options, optionNames);
  if (options.count === undefined) throw new ConfigError('count', 'the most re-sends of one record, an integer >= 0');
  const count = integerOption('count', options.count, 0, 0);
  const delay = options.delay ?? 1000;
  if (typeof delay !== 'function' && (typeof delay !== 'number' || !(delay >= 0))) throw new ConfigError('delay', 'milliseconds >= 0, or a function (resend, error) => milliseconds', delay);
  const retryIf = functionOption<(error: KafkaRxError) => boolean>('retryIf', options.retryIf, 'a function (error) => boolean') ?? isWorthResending;
  const scheduler = options.scheduler ?? asyncScheduler;
  const delayFor = (resend: number, error: KafkaRxError) => (typeof delay === 'function' ? delay(resend, error) : delay);

  return (source) =>
    new Observable<RetriedReport<V, K>>((subscriber) => {
      const timers = new Subscription();
      let resending = 0;
      let sourceDone = false;

      const finishIfDone = () => {
        if (sourceDone && resending === 0) subscriber.complete();
      };

      const handle = (report: DeliveryReport<V, K>, resends: number, totalAttempts: number) => {
        const error = report.error;
        if (error === undefined || resends >= count || error instanceof MaybeWrittenError || !retryIf(error)) {
          subscriber.next(error === undefined
            ? { message: report.message, resends, totalAttempts }
            : { message: report.message, error, resends, totalAttempts });
          return;
        }
        resending++;
        const timer = scheduler.schedule(() => {
          timers.remove(timer);
          resend(report, resends + 1, totalAttempts);
        }, delayFor(resends + 1, error));
        timers.add(timer);
      };

      const resend = (failedReport: DeliveryReport<V, K>, resends: number, attemptsBefore: number) => {
        const { message } = failedReport;
        let settled = false;
        const settle = (report: DeliveryReport<V, K>, attempts = report.message.attempts) => {
          if (settled || subscriber.closed) return;
          settled = true;
          resending--;
          handle(report, resends, attemptsBefore + attempts);
          finishIfDone();
        };
        let target: ProducerLike<V, K>;
        try {
          target = producerFor(failedReport);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        target
          .send(message.input, {
            key: message.inputKey ?? null,
            headers: message.headers === undefined ? undefined : [...message.headers],
            timestamp: message.timestamp,
            partition: message.partition >= 0 ? message.partition : undefined,
          }, (report) => settle(report))
          // Refused before it was queued (stopped, queue full): not written, no attempt; that is its report.
          .catch((error: unknown) => settle({ message, error: asKafkaRxError(error) }, 0));
      };

      const sourceSubscription = source.subscribe({
        next: (report) => handle(report, 0, report.message.attempts),
        error: (error) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          finishIfDone();
        },
      });

      return () => {
        sourceSubscription.unsubscribe();
        timers.unsubscribe();
      };
    });
}
