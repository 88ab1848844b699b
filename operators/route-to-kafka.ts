import type { OperatorFunction } from 'rxjs';
import { ConfigError } from '../lib/errors/index.js';
import { toKafkaThrough, type ProducerLike, type SourceReport, type ToKafkaOptions } from './to-kafka.js';

/**
 * Where routeToKafka sends a value: a function of the value, or a table of producers (one per
 * topic, as `client.producer(topic)` makes them) with a function naming the entry.
 */
export type Route<T, V, K> =
  | ((value: T) => ProducerLike<V, K>)
  | { producers: Readonly<Record<string, ProducerLike<V, K>>>; by: (value: T) => string };

/**
 * toKafka over several producers (typically one per topic): each source value goes to the producer
 * `route` picks for it, and every value shares one budget (`maxInFlight`, `maxInFlightBytes`,
 * `maxBuffered`) and one report stream in source order.
 *
 * Order: values are handed to their producers in source order, so within one producer (one topic)
 * records keep the source's order, and each producer keeps the order of a key's records (one
 * partition per key). A value waiting for room holds back the values after it, whatever their
 * topic: the budget is shared, never one topic's at another's expense.
 *
 * ```
 * source:   -o--p--o--|             (o to orders, p to payments)
 * orders:   ----A------B            (acknowledgements)
 * payments: ------C
 * result:   ----A-C----(B|)         order: 'input'
 * ```
 */
export function routeToKafka<T, P = T, V = Buffer | null, K = Buffer | null>(
  route: Route<T, V, K>,
  options: ToKafkaOptions<T, P, V, K> = {},
): OperatorFunction<T, SourceReport<P, V, K>> {
  if (typeof route === 'function') return toKafkaThrough(route, options);
  if (route === null || typeof route !== 'object' || typeof route.by !== 'function' || route.producers === null || typeof route.producers !== 'object') {
    throw new ConfigError('route', 'a function (value) => producer, or { producers, by: (value) => name }', route);
  }
  const { producers, by } = route;
  return toKafkaThrough((value: T) => {
    const name = by(value);
    const producer = Object.hasOwn(producers, name) ? producers[name] : undefined;
    if (producer === undefined) throw new ConfigError('route', `one of the producers' names (${Object.keys(producers).join(', ')})`, name);
    return producer;
  }, options);
}
