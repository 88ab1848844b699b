import { concat, defer, finalize, from, ignoreElements, type OperatorFunction } from 'rxjs';
import type { KafkaClient } from '../lib/client.js';
import type { ProducerOptions } from '../lib/producer/options.js';
import { toKafka, type SourceReport, type ToKafkaOptions } from './to-kafka.js';

export interface ProduceToTarget extends ProducerOptions {
  topic: string;
}

/**
 * toKafka with a producer of its own: created when the stream is subscribed, stopped when it
 * completes (after every report), errors or is unsubscribed. For one-off pipelines that should not
 * manage a producer's life themselves.
 *
 * ```ts
 * lines$.pipe(produceTo('logs', client), throwOnFailure()).subscribe()
 * ```
 */
export function produceTo<T, P = T, V = Buffer | null, K = Buffer | null>(
  target: string | ProduceToTarget,
  client: KafkaClient,
  options: ToKafkaOptions<T, P, V, K> = {},
): OperatorFunction<T, SourceReport<P, V, K>> {
  const { topic, ...producerOptions } = typeof target === 'string' ? { topic: target } : target;
  return (source) =>
    defer(() => {
      const producer = client.producer<V, K>(topic, producerOptions);
      let stopped = false;
      const stop = () => {
        if (stopped) return Promise.resolve();
        stopped = true;
        return producer.stop();
      };
      return concat(
        source.pipe(toKafka(producer, options)),
        // Completion waits for the producer to stop, so nothing it started outlives the stream.
        defer(() => from(stop())).pipe(ignoreElements()),
      ).pipe(
        finalize(() => {
          void stop();
        }),
      );
    });
}
