/**
 * EndTxn (key 26), v0-v5.
 *
 * EndTxn Request (Version: 0-2) => transactional_id:STRING producer_id:INT64 producer_epoch:INT16 committed:BOOLEAN
 * EndTxn Request (Version: 3-5) => the same, compact, TAG_BUFFER
 *
 * EndTxn Response (Version: 0-2) => throttle_time_ms:INT32 error_code:INT16
 * EndTxn Response (Version: 3-4) => the same, TAG_BUFFER
 * EndTxn Response (Version: 5) => throttle_time_ms:INT32 error_code:INT16 producer_id:INT64 producer_epoch:INT16 TAG_BUFFER
 *
 * v2 may answer PRODUCER_FENCED, v4 TRANSACTION_ABORTABLE. v5 is transactions v2 (KIP-890 part 2):
 * the coordinator bumps the epoch at the end of every transaction and answers with the producer id
 * and epoch the next transaction must use (a new id once the epoch is exhausted).
 */
import type { KafkaApi } from './api.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface EndTxnRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  /** True to commit, false to abort. */
  committed: boolean;
}

export interface EndTxnResponse {
  throttleTimeMs: number;
  errorCode: number;
  /** v5+: the producer id for the next transaction; -1 before v5. */
  producerId: bigint;
  /** v5+: the epoch for the next transaction; -1 before v5. */
  producerEpoch: number;
}

/** The first EndTxn version of transactions v2 (KIP-890 part 2). */
export const END_TXN_V2_FROM = 5;

export const EndTxn: KafkaApi<EndTxnRequest, EndTxnResponse> = {
  apiKey: 26,
  name: 'EndTxn',
  minVersion: 0,
  maxVersion: 5,
  firstFlexibleVersion: 3,

  encodeRequest(writer: Writer, version: number, request: EndTxnRequest): void {
    const flexible = version >= 3;
    if (flexible) writer.compactString(request.transactionalId);
    else writer.string(request.transactionalId);
    writer.int64(request.producerId).int16(request.producerEpoch).boolean(request.committed);
    if (flexible) writer.uvarint(0);
  },

  decodeResponse(body: Buffer, version: number): EndTxnResponse {
    const reader = new Reader(body);
    const throttleTimeMs = reader.int32();
    const errorCode = reader.int16();
    const producerId = version >= END_TXN_V2_FROM ? reader.int64() : -1n;
    const producerEpoch = version >= END_TXN_V2_FROM ? reader.int16() : -1;
    if (version >= 3) reader.taggedFields();
    return { throttleTimeMs, errorCode, producerId, producerEpoch };
  },
};
