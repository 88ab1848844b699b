/**
 * CreateTopics (key 19), v2-v7.
 *
 * CreateTopics Request (Version: 2-4) => [topics] timeout_ms:INT32 validate_only:BOOLEAN
 *   topics => name:STRING num_partitions:INT32 replication_factor:INT16 [assignments] [configs]
 *     assignments => partition_index:INT32 [broker_ids]:INT32
 *     configs => name:STRING value:NULLABLE_STRING
 * CreateTopics Request (Version: 5-7) => the same, compact, with a TAG_BUFFER ending every struct.
 *
 * CreateTopics Response (Version: 2-4) => throttle_time_ms:INT32 [topics]
 *   topics => name:STRING error_code:INT16 error_message:NULLABLE_STRING
 * CreateTopics Response (Version: 5-7) => throttle_time_ms [topics] TAG_BUFFER
 *   topics => name:COMPACT_STRING topic_id:UUID (v7+) error_code:INT16 error_message:COMPACT_NULLABLE_STRING
 *             num_partitions:INT32 replication_factor:INT16 [configs] (nullable) TAG_BUFFER
 *             (tag 0: topic_config_error_code:INT16)
 *     configs => name:COMPACT_STRING value:COMPACT_NULLABLE_STRING read_only:BOOLEAN
 *                config_source:INT8 is_sensitive:BOOLEAN TAG_BUFFER
 *
 * Kafka 4.0 refuses v0-v1 (KIP-896) and Kafka 1.0 speaks up to v2, so v2 is the floor.
 * numPartitions / replicationFactor of -1 take the broker defaults from v4 on (KIP-464).
 */
import type { KafkaApi } from './api.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface CreatableTopic {
  name: string;
  /** -1 for the broker default (v4+) or when assignments are given. */
  numPartitions: number;
  /** -1 for the broker default (v4+) or when assignments are given. */
  replicationFactor: number;
  assignments?: ReadonlyArray<{ partitionIndex: number; brokerIds: readonly number[] }>;
  configs?: ReadonlyArray<{ name: string; value: string | null }>;
}

export interface CreateTopicsRequest {
  topics: readonly CreatableTopic[];
  timeoutMs: number;
  validateOnly?: boolean;
}

export interface CreatedTopicConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  configSource: number;
  isSensitive: boolean;
}

export interface CreatableTopicResult {
  name: string;
  /** v7+, null before. */
  topicId: Buffer | null;
  errorCode: number;
  errorMessage: string | null;
  /** v5+: what the topic got; -1 before or when unknown. */
  numPartitions: number;
  replicationFactor: number;
  /** v5+ (null when the broker does not return them or before v5). */
  configs: CreatedTopicConfig[] | null;
  /** v5+ tag 0; 0 when absent. */
  topicConfigErrorCode: number;
}

export interface CreateTopicsResponse {
  throttleTimeMs: number;
  topics: CreatableTopicResult[];
}

function onTopicTag(tag: number, reader: Reader, topic: CreatableTopicResult): void {
  if (tag === 0) topic.topicConfigErrorCode = reader.int16();
}

function decodeTopic(reader: Reader, version: number, flexible: boolean): CreatableTopicResult {
  const topic: CreatableTopicResult = {
    name: reader.string(flexible),
    topicId: version >= 7 ? reader.uuid() : null,
    errorCode: reader.int16(),
    errorMessage: reader.nullableString(flexible),
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
    topicConfigErrorCode: 0,
  };
  if (version >= 5) {
    topic.numPartitions = reader.int32();
    topic.replicationFactor = reader.int16();
    const count = reader.nullableArrayLength(true, 6);
    if (count >= 0) {
      const configs = new Array<CreatedTopicConfig>(count);
      for (let i = 0; i < count; i++) {
        const name = reader.string(true);
        const value = reader.nullableString(true);
        const readOnly = reader.boolean();
        const configSource = reader.int8();
        const isSensitive = reader.boolean();
        reader.taggedFields();
        configs[i] = { name, value, readOnly, configSource, isSensitive };
      }
      topic.configs = configs;
    }
  }
  if (flexible) reader.taggedFields(onTopicTag, topic);
  return topic;
}

export const CreateTopics: KafkaApi<CreateTopicsRequest, CreateTopicsResponse> = {
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 2,
  maxVersion: 7,
  firstFlexibleVersion: 5,

  encodeRequest(writer: Writer, version: number, request: CreateTopicsRequest): void {
    const flexible = version >= 5;
    const count = (n: number) => (flexible ? writer.uvarint(n + 1) : writer.int32(n));
    const str = (s: string | null) => (flexible ? writer.compactString(s) : writer.string(s));
    const tags = () => flexible && writer.uvarint(0);
    count(request.topics.length);
    for (const topic of request.topics) {
      str(topic.name);
      writer.int32(topic.numPartitions).int16(topic.replicationFactor);
      const assignments = topic.assignments ?? [];
      count(assignments.length);
      for (const assignment of assignments) {
        writer.int32(assignment.partitionIndex);
        count(assignment.brokerIds.length);
        for (const id of assignment.brokerIds) writer.int32(id);
        tags();
      }
      const configs = topic.configs ?? [];
      count(configs.length);
      for (const config of configs) {
        str(config.name);
        str(config.value);
        tags();
      }
      tags();
    }
    writer.int32(request.timeoutMs).boolean(request.validateOnly ?? false);
    tags();
  },

  decodeResponse(body: Buffer, version: number): CreateTopicsResponse {
    const reader = new Reader(body);
    const flexible = version >= 5;
    const throttleTimeMs = reader.int32();
    const minTopicSize = flexible ? 1 + (version >= 7 ? 16 : 0) + 2 + 1 + 4 + 2 + 1 + 1 : 2 + 2 + 2;
    const count = reader.arrayLength(flexible, minTopicSize);
    const topics = new Array<CreatableTopicResult>(count);
    for (let i = 0; i < count; i++) topics[i] = decodeTopic(reader, version, flexible);
    if (flexible) reader.taggedFields();
    return { throttleTimeMs, topics };
  },
};
