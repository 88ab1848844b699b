/**
 * InitProducerId (key 22), v0-v6.
 *
 * InitProducerId Request (Version: 0-1) => transactional_id:NULLABLE_STRING transaction_timeout_ms:INT32
 * InitProducerId Request (Version: 2) => transactional_id:COMPACT_NULLABLE_STRING transaction_timeout_ms:INT32 TAG_BUFFER
 * InitProducerId Request (Version: 3-5) => transactional_id:COMPACT_NULLABLE_STRING transaction_timeout_ms:INT32
 *                                          producer_id:INT64 producer_epoch:INT16 TAG_BUFFER
 * InitProducerId Request (Version: 6) => (v3-5 fields) enable_2pc:BOOLEAN keep_prepared_txn:BOOLEAN TAG_BUFFER
 *
 * InitProducerId Response (Version: 0-1) => throttle_time_ms:INT32 error_code:INT16 producer_id:INT64 producer_epoch:INT16
 * InitProducerId Response (Version: 2-5) => (same) TAG_BUFFER
 * InitProducerId Response (Version: 6) => (v2-5 fields) ongoing_txn_producer_id:INT64
 *                                         ongoing_txn_producer_epoch:INT16 TAG_BUFFER
 *
 * v0 is what Kafka 0.11-1.x speak and Kafka 4.0 still accepts; v4 adds PRODUCER_FENCED and v5
 * TRANSACTION_ABORTABLE as possible errors, which kafka-rx maps like any other code. v6 (KIP-939,
 * two-phase commit) adds two flags an idempotent producer leaves false; Kafka 4.4 still marks it
 * unstable, so a broker lists it only with unstable.api.versions.enable=true.
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
  /** v6+: take part in two-phase commit (KIP-939); false for an idempotent producer. */
  enable2Pc?: boolean;
  /** v6+: keep the transaction left prepared by the previous instance instead of aborting it. */
  keepPreparedTxn?: boolean;
}

export interface InitProducerIdResponse {
  throttleTimeMs: number;
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
  /** v6+: the producer of a transaction kept by keepPreparedTxn; -1 otherwise and before v6. */
  ongoingTxnProducerId: bigint;
  ongoingTxnProducerEpoch: number;
}

// The whole body before the tagged fields is one fixed layout.
const body = new FixedLayout<Omit<InitProducerIdResponse, 'ongoingTxnProducerId' | 'ongoingTxnProducerEpoch'>>(
  new Parser().int32be('throttleTimeMs').int16be('errorCode').int64be('producerId').int16be('producerEpoch'),
);

export const InitProducerId: KafkaApi<InitProducerIdRequest, InitProducerIdResponse> = {
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 6,
  firstFlexibleVersion: 2,

  encodeRequest(writer: Writer, version: number, request: InitProducerIdRequest): void {
    const flexible = version >= 2;
    if (flexible) writer.compactString(request.transactionalId);
    else writer.string(request.transactionalId);
    writer.int32(request.transactionTimeoutMs);
    if (version >= 3) writer.int64(request.producerId ?? -1n).int16(request.producerEpoch ?? -1);
    if (version >= 6) writer.boolean(request.enable2Pc ?? false).boolean(request.keepPreparedTxn ?? false);
    if (flexible) writer.uvarint(0);
  },

  decodeResponse(buffer: Buffer, version: number): InitProducerIdResponse {
    const reader = new Reader(buffer);
    const fields = reader.fixed(body);
    const ongoingTxnProducerId = version >= 6 ? reader.int64() : -1n;
    const ongoingTxnProducerEpoch = version >= 6 ? reader.int16() : -1;
    if (version >= 2) reader.taggedFields();
    return {
      throttleTimeMs: fields.throttleTimeMs,
      errorCode: fields.errorCode,
      producerId: fields.producerId,
      producerEpoch: fields.producerEpoch,
      ongoingTxnProducerId,
      ongoingTxnProducerEpoch,
    };
  },
};
