/**
 * InitProducerId (key 22), v0-v5.
 *
 * InitProducerId Request (Version: 0-1) => transactional_id:NULLABLE_STRING transaction_timeout_ms:INT32
 * InitProducerId Request (Version: 2) => transactional_id:COMPACT_NULLABLE_STRING transaction_timeout_ms:INT32 TAG_BUFFER
 * InitProducerId Request (Version: 3-5) => transactional_id:COMPACT_NULLABLE_STRING transaction_timeout_ms:INT32
 *                                          producer_id:INT64 producer_epoch:INT16 TAG_BUFFER
 *
 * InitProducerId Response (Version: 0-1) => throttle_time_ms:INT32 error_code:INT16 producer_id:INT64 producer_epoch:INT16
 * InitProducerId Response (Version: 2-5) => (same) TAG_BUFFER
 *
 * v0 is what Kafka 0.11-1.x speak and Kafka 4.0 still accepts; v4 adds PRODUCER_FENCED and v5
 * TRANSACTION_ABORTABLE as possible errors, which kafka-rx maps like any other code.
 */
import type { KafkaApi } from './api.js';
import { FixedLayout, Parser, Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface InitProducerIdRequest {
  /** Null for an idempotent (non-transactional) producer. */
  transactionalId: string | null;
  transactionTimeoutMs: number;
  /** v3+: the current id and epoch, to resume after INVALID_PRODUCER_EPOCH; -1 when none. */
  producerId?: bigint;
  producerEpoch?: number;
}

export interface InitProducerIdResponse {
  throttleTimeMs: number;
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

// The whole body before the tagged fields is one fixed layout.
const body = new FixedLayout<InitProducerIdResponse>(
  new Parser().int32be('throttleTimeMs').int16be('errorCode').int64be('producerId').int16be('producerEpoch'),
);

export const InitProducerId: KafkaApi<InitProducerIdRequest, InitProducerIdResponse> = {
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 5,
  firstFlexibleVersion: 2,

  encodeRequest(writer: Writer, version: number, request: InitProducerIdRequest): void {
    const flexible = version >= 2;
    if (flexible) writer.compactString(request.transactionalId);
    else writer.string(request.transactionalId);
    writer.int32(request.transactionTimeoutMs);
    if (version >= 3) writer.int64(request.producerId ?? -1n).int16(request.producerEpoch ?? -1);
    if (flexible) writer.uvarint(0);
  },

  decodeResponse(buffer: Buffer, version: number): InitProducerIdResponse {
    const reader = new Reader(buffer);
    const fields = reader.fixed(body);
    if (version >= 2) reader.taggedFields();
    return {
      throttleTimeMs: fields.throttleTimeMs,
      errorCode: fields.errorCode,
      producerId: fields.producerId,
      producerEpoch: fields.producerEpoch,
    };
  },
};
