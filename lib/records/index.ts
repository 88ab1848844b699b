export {
  encodeRecordBatch,
  RecordBatchEncoder,
  decodeRecordBatches,
  recordSize,
  RECORD_BATCH_OVERHEAD,
  type BatchRecord,
  type BatchRecordHeader,
  type DecodedBatch,
  type DecodedRecord,
  type RecordBatchOptions,
} from './record-batch.js';
export { crc32c } from './crc32c.js';
export { codecs, codecById, prepareCodec, zstdReady, type Codec, type Compression } from './codecs/index.js';
