import '../lib/runtime-check.js';
export { toKafka, type KafkaRecord, type ProducerLike, type SourceReport, type ToKafkaOptions } from './to-kafka.js';
export { produceTo, type ProduceToTarget } from './produce-to.js';
export { lazyFrom, type PullableObservable } from './lazy-from.js';
export { acknowledged } from './acknowledged.js';
export { failed } from './failed.js';
export { throwOnFailure } from './throw-on-failure.js';
