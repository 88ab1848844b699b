/**
 * FindCoordinator (key 10), v0-v6.
 *
 * FindCoordinator Request (Version: 0) => key:STRING
 * FindCoordinator Request (Version: 1-2) => key:STRING key_type:INT8
 * FindCoordinator Request (Version: 3) => key:COMPACT_STRING key_type:INT8 TAG_BUFFER
 * FindCoordinator Request (Version: 4-6) => key_type:INT8 [coordinator_keys:COMPACT_STRING] TAG_BUFFER
 *
 * FindCoordinator Response (Version: 0) => error_code:INT16 node_id:INT32 host:STRING port:INT32
 * FindCoordinator Response (Version: 1-2) => throttle_time_ms:INT32 error_code:INT16
 *                                            error_message:NULLABLE_STRING node_id:INT32 host:STRING port:INT32
 * FindCoordinator Response (Version: 3) => the same, compact, TAG_BUFFER
 * FindCoordinator Response (Version: 4-6) => throttle_time_ms:INT32 [coordinators] TAG_BUFFER
 *   coordinators => key:COMPACT_STRING node_id:INT32 host:COMPACT_STRING port:INT32 error_code:INT16
 *                   error_message:COMPACT_NULLABLE_STRING TAG_BUFFER
 *
 * v1 adds the key type (0 group, 1 transaction; v6, KIP-932: 2 share), v4 (KIP-699) asks for
 * several keys of one type at once, v5 may answer TRANSACTION_ABORTABLE (KIP-890). Whatever the
 * version, the decoded answer is a list of coordinators; before v4 its one entry has a null key
 * (the request named it).
 */
import type { KafkaApi } from './api.js';
import { ProtocolError } from '../errors/index.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export const CoordinatorKeyType = { group: 0, transaction: 1, share: 2 } as const;
export type CoordinatorKeyType = (typeof CoordinatorKeyType)[keyof typeof CoordinatorKeyType];

export interface FindCoordinatorRequest {
  keyType: CoordinatorKeyType;
  /** The group ids or transactional ids; exactly one before v4. */
  keys: readonly string[];
}

export interface Coordinator {
  /** The key this entry answers; null before v4, whose answer is for the one key asked. */
  key: string | null;
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
}

export interface FindCoordinatorResponse {
  throttleTimeMs: number;
  coordinators: Coordinator[];
}

/** The first version that asks for several keys in one request. */
export const BATCHED_KEYS_FROM = 4;

export const FindCoordinator: KafkaApi<FindCoordinatorRequest, FindCoordinatorResponse> = {
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  firstFlexibleVersion: 3,

  encodeRequest(writer: Writer, version: number, request: FindCoordinatorRequest): void {
    if (version >= BATCHED_KEYS_FROM) {
      writer.int8(request.keyType).uvarint(request.keys.length + 1);
      for (const key of request.keys) writer.compactString(key);
      writer.uvarint(0);
      return;
    }
    if (request.keys.length !== 1) throw new ProtocolError(`FindCoordinator v${version} asks for exactly one key, not ${request.keys.length}`);
    if (version === 0 && request.keyType !== CoordinatorKeyType.group) {
      throw new ProtocolError('FindCoordinator v0 finds group coordinators only');
    }
    if (version >= 3) writer.compactString(request.keys[0]);
    else writer.string(request.keys[0]);
    if (version >= 1) writer.int8(request.keyType);
    if (version >= 3) writer.uvarint(0);
  },

  decodeResponse(body: Buffer, version: number): FindCoordinatorResponse {
    const reader = new Reader(body);
    const flexible = version >= 3;
    if (version >= BATCHED_KEYS_FROM) {
      const throttleTimeMs = reader.int32();
      // key, host and message at one byte each when empty/null, plus node, port, error, tags.
      const count = reader.arrayLength(true, 1 + 4 + 1 + 4 + 2 + 1 + 1);
      const coordinators = new Array<Coordinator>(count);
      for (let i = 0; i < count; i++) {
        const key = reader.string(true);
        const nodeId = reader.int32();
        const host = reader.string(true);
        const port = reader.int32();
        const errorCode = reader.int16();
        const errorMessage = reader.nullableString(true);
        reader.taggedFields();
        coordinators[i] = { key, nodeId, host, port, errorCode, errorMessage };
      }
      reader.taggedFields();
      return { throttleTimeMs, coordinators };
    }
    const throttleTimeMs = version >= 1 ? reader.int32() : 0;
    const errorCode = reader.int16();
    const errorMessage = version >= 1 ? reader.nullableString(flexible) : null;
    const nodeId = reader.int32();
    const host = reader.string(flexible);
    const port = reader.int32();
    if (flexible) reader.taggedFields();
    return { throttleTimeMs, coordinators: [{ key: null, nodeId, host, port, errorCode, errorMessage }] };
  },
};
