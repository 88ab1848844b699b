/**
 * TxnOffsetCommit (key 28), v0-v6.
 *
 * TxnOffsetCommit Request (Version: 0-2) => transactional_id:STRING group_id:STRING producer_id:INT64
 *                                           producer_epoch:INT16 [topics]
 *   topics => name:STRING [partitions]
 *     partitions => partition_index:INT32 committed_offset:INT64
 *                   committed_leader_epoch:INT32 (v2+) committed_metadata:NULLABLE_STRING
 * TxnOffsetCommit Request (Version: 3-5) => transactional_id group_id producer_id producer_epoch
 *                                           generation_id:INT32 member_id:COMPACT_STRING
 *                                           group_instance_id:COMPACT_NULLABLE_STRING [topics] TAG_BUFFER
 *   (compact, a TAG_BUFFER ending every struct)
 * TxnOffsetCommit Request (Version: 6) => the same with topic_id:UUID in place of the topic name
 *
 * TxnOffsetCommit Response (Version: 0-5) => throttle_time_ms:INT32 [topics] (v3+: TAG_BUFFER)
 *   topics => name:STRING [partitions] (v3+: TAG_BUFFER)
 *     partitions => partition_index:INT32 error_code:INT16 (v3+: TAG_BUFFER)
 * TxnOffsetCommit Response (Version: 6) => the same with topic_id:UUID in place of the name
 *
 * v3 (KIP-447) lets the group coordinator fence a zombie by the consumer's generation and member;
 * v4 may answer TRANSACTION_ABORTABLE. v5 is v4 on the wire but tells the coordinator that the
 * producer speaks transactions v2 (KIP-890), whose TxnOffsetCommit also adds the offsets to the
 * transaction (no AddOffsetsToTxn): a transactions-v1 producer must not send v5 or later. v6
 * (KIP-1319) names topics by id.
 */
import type { KafkaApi } from './api.js';
import { UnsupportedVersionError } from '../errors/index.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface TxnOffsetCommitPartition {
  partitionIndex: number;
  /** The offset of the next record the group should read. */
  committedOffset: bigint;
  /** v2+: the leader epoch of the last record read; -1 when not known. */
  committedLeaderEpoch?: number;
  committedMetadata?: string | null;
}

export interface TxnOffsetCommitTopic {
  name: string;
  /** Required from v6, which sends it instead of the name. */
  topicId?: Buffer | null;
  partitions: readonly TxnOffsetCommitPartition[];
}

export interface TxnOffsetCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  /** v3+: the consumer's generation (classic groups) or member epoch; -1 when not known. */
  generationIdOrMemberEpoch?: number;
  /** v3+: the consumer's member id; '' when not known. */
  memberId?: string;
  /** v3+: the consumer's static membership id. */
  groupInstanceId?: string | null;
  topics: readonly TxnOffsetCommitTopic[];
}

export interface TxnOffsetCommitPartitionResult {
  partitionIndex: number;
  errorCode: number;
}

export interface TxnOffsetCommitTopicResult {
  /** Null from v6, whose answer names topics by id. */
  name: string | null;
  /** v6+: the topic's id; null before. */
  topicId: Buffer | null;
  partitions: TxnOffsetCommitPartitionResult[];
}

export interface TxnOffsetCommitResponse {
  throttleTimeMs: number;
  topics: TxnOffsetCommitTopicResult[];
}

/** The first version that tells the coordinator the producer speaks transactions v2. */
export const TXN_OFFSET_COMMIT_V2_FROM = 5;
/** The first version that names topics by id. */
export const TXN_OFFSET_COMMIT_TOPIC_IDS_FROM = 6;

function topicIdOf(topic: TxnOffsetCommitTopic, version: number): Buffer {
  if (topic.topicId === undefined || topic.topicId === null) {
    throw new UnsupportedVersionError(`TxnOffsetCommit for topic ${topic.name} without its topic id`, { min: 0, max: TXN_OFFSET_COMMIT_TOPIC_IDS_FROM - 1 }, { min: version, max: version });
  }
  return topic.topicId;
}

export const TxnOffsetCommit: KafkaApi<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = {
  apiKey: 28,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 6,
  firstFlexibleVersion: 3,

  encodeRequest(writer: Writer, version: number, request: TxnOffsetCommitRequest): void {
    const flexible = version >= 3;
    const byId = version >= TXN_OFFSET_COMMIT_TOPIC_IDS_FROM;
    const str = (value: string | null) => (flexible ? writer.compactString(value) : writer.string(value));
    const count = (n: number) => (flexible ? writer.uvarint(n + 1) : writer.int32(n));
    str(request.transactionalId);
    str(request.groupId);
    writer.int64(request.producerId).int16(request.producerEpoch);
    if (version >= 3) {
      writer.int32(request.generationIdOrMemberEpoch ?? -1);
      writer.compactString(request.memberId ?? '');
      writer.compactString(request.groupInstanceId ?? null);
    }
    count(request.topics.length);
    for (const topic of request.topics) {
      if (byId) writer.uuid(topicIdOf(topic, version));
      else str(topic.name);
      count(topic.partitions.length);
      for (const partition of topic.partitions) {
        writer.int32(partition.partitionIndex).int64(partition.committedOffset);
        if (version >= 2) writer.int32(partition.committedLeaderEpoch ?? -1);
        str(partition.committedMetadata ?? null);
        if (flexible) writer.uvarint(0);
      }
      if (flexible) writer.uvarint(0);
    }
    if (flexible) writer.uvarint(0);
  },

  decodeResponse(body: Buffer, version: number): TxnOffsetCommitResponse {
    const reader = new Reader(body);
    const flexible = version >= 3;
    const byId = version >= TXN_OFFSET_COMMIT_TOPIC_IDS_FROM;
    const throttleTimeMs = reader.int32();
    const topicCount = reader.arrayLength(flexible, byId ? 18 : flexible ? 3 : 6);
    const topics = new Array<TxnOffsetCommitTopicResult>(topicCount);
    for (let t = 0; t < topicCount; t++) {
      const name = byId ? null : reader.string(flexible);
      const topicId = byId ? reader.uuid() : null;
      const partitionCount = reader.arrayLength(flexible, flexible ? 7 : 6);
      const partitions = new Array<TxnOffsetCommitPartitionResult>(partitionCount);
      for (let p = 0; p < partitionCount; p++) {
        partitions[p] = { partitionIndex: reader.int32(), errorCode: reader.int16() };
        if (flexible) reader.taggedFields();
      }
      if (flexible) reader.taggedFields();
      topics[t] = { name, topicId, partitions };
    }
    if (flexible) reader.taggedFields();
    return { throttleTimeMs, topics };
  },
};
