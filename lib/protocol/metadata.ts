/**
 * Metadata (key 3), v1-v13.
 *
 * Metadata Request (Version: 1-3) => [topics]
 * Metadata Request (Version: 4-7) => [topics] allow_auto_topic_creation
 * Metadata Request (Version: 8) => [topics] allow_auto_topic_creation include_cluster_authorized_operations
 *                                  include_topic_authorized_operations
 * Metadata Request (Version: 9-10) => (v8, compact) TAG_BUFFER
 * Metadata Request (Version: 11-13) => [topics] allow_auto_topic_creation include_topic_authorized_operations TAG_BUFFER
 *   topics (nullable: null = all topics) => name:STRING (v10+: topic_id:UUID name:COMPACT_NULLABLE_STRING TAG_BUFFER)
 *
 * Metadata Response (Version: 1-13) =>
 *   throttle_time_ms:INT32 (v3+)
 *   [brokers] => node_id:INT32 host:STRING port:INT32 rack:NULLABLE_STRING (v9+: TAG_BUFFER)
 *   cluster_id:NULLABLE_STRING (v2+)
 *   controller_id:INT32
 *   [topics] => error_code:INT16 name:STRING (nullable v12+) topic_id:UUID (v10+) is_internal:BOOLEAN
 *               [partitions] => error_code:INT16 partition_index:INT32 leader_id:INT32
 *                               leader_epoch:INT32 (v7+) [replica_nodes]:INT32 [isr_nodes]:INT32
 *                               [offline_replicas]:INT32 (v5+) (v9+: TAG_BUFFER)
 *               topic_authorized_operations:INT32 (v8+) (v9+: TAG_BUFFER)
 *   cluster_authorized_operations:INT32 (v8-10)
 *   error_code:INT16 (v13+: an error for the whole request)
 *   (v9+: TAG_BUFFER)
 * Versions 9+ are flexible (compact strings and arrays).
 *
 * v1 is the first with rack, controller id and a null topic list meaning all topics (Kafka 0.10);
 * Kafka 4.0 refuses v0-v3 (KIP-896), which negotiation avoids since every broker from 1.0 on
 * speaks v4+. Looking topics up by id (v12) is not offered: the request names topics.
 */
import type { KafkaApi } from './api.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface MetadataRequest {
  /** Topics to describe; null asks for all topics. */
  topics: readonly string[] | null;
  /** v4+; brokers default to true. */
  allowAutoTopicCreation?: boolean;
  /** v8+. */
  includeTopicAuthorizedOperations?: boolean;
}

export interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface MetadataPartition {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  /** -1 before v7. */
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  /** Empty before v5. */
  offlineReplicas: number[];
}

export interface MetadataTopic {
  errorCode: number;
  /** Null only for unknown topics looked up by id (v12+). */
  name: string | null;
  /** 16 bytes from v10 (all zero for unknown topics), null before. */
  topicId: Buffer | null;
  isInternal: boolean;
  partitions: MetadataPartition[];
  /** -2147483648 when not requested or before v8. */
  topicAuthorizedOperations: number;
}

export interface MetadataResponse {
  throttleTimeMs: number;
  brokers: MetadataBroker[];
  clusterId: string | null;
  controllerId: number;
  topics: MetadataTopic[];
  /** -2147483648 when absent (before v8, after v10). */
  clusterAuthorizedOperations: number;
  /** v13+: an error for the whole request (e.g. REBOOTSTRAP_REQUIRED); 0 before v13. */
  errorCode: number;
}

const UNSET_OPERATIONS = -2147483648;
const ZERO_UUID = Buffer.alloc(16);

// Fewest bytes one item can take, to refuse counts the remaining bytes cannot hold.
function minBrokerSize(flexible: boolean): number {
  return flexible ? 4 + 1 + 4 + 1 + 1 : 4 + 2 + 4 + 2;
}

function decodePartition(reader: Reader, version: number, flexible: boolean): MetadataPartition {
  const errorCode = reader.int16();
  const partitionIndex = reader.int32();
  const leaderId = reader.int32();
  const leaderEpoch = version >= 7 ? reader.int32() : -1;
  const replicaNodes = reader.int32Array(flexible);
  const isrNodes = reader.int32Array(flexible);
  const offlineReplicas = version >= 5 ? reader.int32Array(flexible) : [];
  if (flexible) reader.taggedFields();
  return { errorCode, partitionIndex, leaderId, leaderEpoch, replicaNodes, isrNodes, offlineReplicas };
}

function decodeTopic(reader: Reader, version: number, flexible: boolean): MetadataTopic {
  const errorCode = reader.int16();
  const name = version >= 12 ? reader.nullableString(flexible) : reader.string(flexible);
  const topicId = version >= 10 ? reader.uuid() : null;
  const isInternal = reader.boolean();
  const minPartitionSize = 10 + (version >= 7 ? 4 : 0) + (flexible ? 3 : 8) + (version >= 5 ? (flexible ? 1 : 4) : 0);
  const count = reader.arrayLength(flexible, minPartitionSize);
  const partitions = new Array<MetadataPartition>(count);
  for (let i = 0; i < count; i++) partitions[i] = decodePartition(reader, version, flexible);
  const topicAuthorizedOperations = version >= 8 ? reader.int32() : UNSET_OPERATIONS;
  if (flexible) reader.taggedFields();
  return { errorCode, name, topicId, isInternal, partitions, topicAuthorizedOperations };
}

export const Metadata: KafkaApi<MetadataRequest, MetadataResponse> = {
  apiKey: 3,
  name: 'Metadata',
  minVersion: 1,
  maxVersion: 13,
  firstFlexibleVersion: 9,

  encodeRequest(writer: Writer, version: number, request: MetadataRequest): void {
    const flexible = version >= 9;
    const topics = request.topics;
    if (topics === null) {
      if (flexible) writer.uvarint(0);
      else writer.int32(-1);
    } else {
      if (flexible) writer.uvarint(topics.length + 1);
      else writer.int32(topics.length);
      for (const name of topics) {
        if (version >= 10) writer.raw(ZERO_UUID);
        if (flexible) writer.compactString(name).uvarint(0);
        else writer.string(name);
      }
    }
    if (version >= 4) writer.boolean(request.allowAutoTopicCreation ?? true);
    if (version >= 8) {
      if (version <= 10) writer.boolean(false);
      writer.boolean(request.includeTopicAuthorizedOperations ?? false);
    }
    if (flexible) writer.uvarint(0);
  },

  decodeResponse(body: Buffer, version: number): MetadataResponse {
    const reader = new Reader(body);
    const flexible = version >= 9;
    const throttleTimeMs = version >= 3 ? reader.int32() : 0;

    const brokerCount = reader.arrayLength(flexible, minBrokerSize(flexible));
    const brokers = new Array<MetadataBroker>(brokerCount);
    for (let i = 0; i < brokerCount; i++) {
      const nodeId = reader.int32();
      const host = reader.string(flexible);
      const port = reader.int32();
      const rack = reader.nullableString(flexible);
      if (flexible) reader.taggedFields();
      brokers[i] = { nodeId, host, port, rack };
    }

    const clusterId = version >= 2 ? reader.nullableString(flexible) : null;
    const controllerId = reader.int32();
    const minTopicSize = 2 + (flexible ? 1 : 2) + (version >= 10 ? 16 : 0) + 1 + (flexible ? 1 : 4) + (version >= 8 ? 4 : 0) + (flexible ? 1 : 0);
    const topicCount = reader.arrayLength(flexible, minTopicSize);
    const topics = new Array<MetadataTopic>(topicCount);
    for (let i = 0; i < topicCount; i++) topics[i] = decodeTopic(reader, version, flexible);
    const clusterAuthorizedOperations = version >= 8 && version <= 10 ? reader.int32() : UNSET_OPERATIONS;
    const errorCode = version >= 13 ? reader.int16() : 0;
    if (flexible) reader.taggedFields();
    return { throttleTimeMs, brokers, clusterId, controllerId, topics, clusterAuthorizedOperations, errorCode };
  },
};
