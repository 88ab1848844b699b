/**
 * DeleteTopics (key 20), v1-v6.
 *
 * DeleteTopics Request (Version: 1-3) => [topic_names]:STRING timeout_ms:INT32
 * DeleteTopics Request (Version: 4-5) => [topic_names]:COMPACT_STRING timeout_ms:INT32 TAG_BUFFER
 * DeleteTopics Request (Version: 6) => [topics] timeout_ms:INT32 TAG_BUFFER
 *   topics => name:COMPACT_NULLABLE_STRING topic_id:UUID TAG_BUFFER
 *
 * DeleteTopics Response (Version: 1-3) => throttle_time_ms:INT32 [responses]
 *   responses => name:STRING error_code:INT16
 * DeleteTopics Response (Version: 4-6) => throttle_time_ms [responses] TAG_BUFFER
 *   responses => name:COMPACT_STRING (nullable v6+) topic_id:UUID (v6+) error_code:INT16
 *                error_message:COMPACT_NULLABLE_STRING (v5+) TAG_BUFFER
 *
 * Kafka 4.0 refuses v0 (KIP-896) and Kafka 1.0 speaks v0-v1, so v1 is the floor.
 */
import type { KafkaApi } from './api.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';
import { UnsupportedVersionError } from '../errors/index.js';

export interface DeleteTopicsRequest {
  /** Topics to delete, by name. */
  topicNames: readonly string[];
  /** v6+: topics to delete by id (16 bytes each). */
  topicIds?: readonly Buffer[];
  timeoutMs: number;
}

export interface DeletableTopicResult {
  /** Null only for topics deleted by id (v6+). */
  name: string | null;
  /** v6+, null before. */
  topicId: Buffer | null;
  errorCode: number;
  /** v5+, null before. */
  errorMessage: string | null;
}

export interface DeleteTopicsResponse {
  throttleTimeMs: number;
  responses: DeletableTopicResult[];
}

const ZERO_UUID = Buffer.alloc(16);

export const DeleteTopics: KafkaApi<DeleteTopicsRequest, DeleteTopicsResponse> = {
  apiKey: 20,
  name: 'DeleteTopics',
  minVersion: 1,
  maxVersion: 6,
  firstFlexibleVersion: 4,

  encodeRequest(writer: Writer, version: number, request: DeleteTopicsRequest): void {
    const flexible = version >= 4;
    const ids = request.topicIds ?? [];
    if (version >= 6) {
      writer.uvarint(request.topicNames.length + ids.length + 1);
      for (const name of request.topicNames) writer.compactString(name).raw(ZERO_UUID).uvarint(0);
      for (const id of ids) writer.compactString(null).uuid(id).uvarint(0);
    } else {
      if (ids.length > 0) {
        throw new UnsupportedVersionError('DeleteTopics by topic id', { min: 6, max: 6 }, { min: version, max: version });
      }
      if (flexible) writer.uvarint(request.topicNames.length + 1);
      else writer.int32(request.topicNames.length);
      for (const name of request.topicNames) {
        if (flexible) writer.compactString(name);
        else writer.string(name);
      }
    }
    writer.int32(request.timeoutMs);
    if (flexible) writer.uvarint(0);
  },

  decodeResponse(body: Buffer, version: number): DeleteTopicsResponse {
    const reader = new Reader(body);
    const flexible = version >= 4;
    const throttleTimeMs = reader.int32();
    const minSize = flexible ? 1 + (version >= 6 ? 16 : 0) + 2 + (version >= 5 ? 1 : 0) + 1 : 4;
    const count = reader.arrayLength(flexible, minSize);
    const responses = new Array<DeletableTopicResult>(count);
    for (let i = 0; i < count; i++) {
      const name = version >= 6 ? reader.nullableString(true) : reader.string(flexible);
      const topicId = version >= 6 ? reader.uuid() : null;
      const errorCode = reader.int16();
      const errorMessage = version >= 5 ? reader.nullableString(true) : null;
      if (flexible) reader.taggedFields();
      responses[i] = { name, topicId, errorCode, errorMessage };
    }
    if (flexible) reader.taggedFields();
    return { throttleTimeMs, responses };
  },
};
