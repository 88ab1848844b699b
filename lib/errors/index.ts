export { KafkaError, KafkaRxError, type KafkaRxErrorOptions } from './base.js';
export * from './codes.js';
export { errorCodes, type ErrorCodeInfo } from './table.js';
export * from './kafka-rx-errors.js';
// Both codes.ts (Kafka's code 35) and kafka-rx-errors.ts (no common API version) declare this
// name; the public one is kafka-rx's, raised at connection setup. Code 35 stays reachable by
// kafkaErrorFor(35) and errorClasses.
export { UnsupportedVersionError } from './kafka-rx-errors.js';
export { kafkaErrorFor } from './convert.js';
export * from './transaction-errors.js';
