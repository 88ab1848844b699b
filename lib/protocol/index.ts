export { Writer } from './writer.js';
export { isFlexible, type KafkaApi } from './api.js';
export { Reader, FixedLayout } from './reader.js';
export {
  writeRequestHeader,
  writeRequestFrame,
  readResponseHeader,
  responseHeaderIsFlexible,
  type ResponseHeader,
} from './header.js';
export * from './api-versions.js';
export * from './metadata.js';
export * from './produce.js';
export * from './init-producer-id.js';
export * from './create-topics.js';
export * from './delete-topics.js';
export * from './sasl-handshake.js';
export * from './sasl-authenticate.js';
export * from './find-coordinator.js';
export * from './add-partitions-to-txn.js';
export * from './add-offsets-to-txn.js';
export * from './end-txn.js';
export * from './txn-offset-commit.js';
