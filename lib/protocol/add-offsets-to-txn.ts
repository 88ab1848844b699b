/**
 * AddOffsetsToTxn (key 25), v0-v4.
 *
 * AddOffsetsToTxn Request (Version: 0-2) => transactional_id:STRING producer_id:INT64 producer_epoch:INT16 group_id:STRING
 * AddOffsetsToTxn Request (Version: 3-4) => the same, compact, TAG_BUFFER
 *
 * AddOffsetsToTxn Response (Version: 0-2) => throttle_time_ms:INT32 error_code:INT16
 * AddOffsetsToTxn Response (Version: 3-4) => the same, TAG_BUFFER
 *
 * v2 may answer PRODUCER_FENCED, v4 TRANSACTION_ABORTABLE (KIP-890). With transactions v2 a
 * producer skips this call: TxnOffsetCommit v5 adds the group's offsets partition itself.
 */
import type { KafkaApi } from './api.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface AddOffsetsToTxnRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  groupId: string;
}

export interface AddOffsetsToTxnResponse {
  throttleTimeMs: number;
  errorCode: number;
}

export const AddOffsetsToTxn: KafkaApi<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = {
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  minVersion: 0,
  maxVersion: 4,
  firstFlexibleVersion: 3,

  encodeRequest(writer: Writer, version: number, request: AddOffsetsToTxnRequest): void {
    const flexible = version >= 3;
    if (flexible) writer.compactString(request.transactionalId);
    else writer.string(request.transactionalId);
    writer.int64(request.producerId).int16(request.producerEpoch);
    if (flexible) writer.compactString(request.groupId).uvarint(0);
    else writer.string(request.groupId);
  },

  decodeResponse(body: Buffer, version: number): AddOffsetsToTxnResponse {
    const reader = new Reader(body);
    const response = { throttleTimeMs: reader.int32(), errorCode: reader.int16() };
    if (version >= 3) reader.taggedFields();
    return response;
  },
};
