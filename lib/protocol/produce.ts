/**
 * Produce (key 0), v3-v13.
 *
 * Produce Request (Version: 3-8) => transactional_id acks timeout_ms [topic_data]
 *   transactional_id => NULLABLE_STRING
 *   acks => INT16
 *   timeout_ms => INT32
 *   topic_data => name:STRING [partition_data]
 *     partition_data => index:INT32 records:RECORDS (NULLABLE_BYTES)
 * Produce Request (Version: 9-12) => the same, compact, with a TAG_BUFFER ending every struct.
 * Produce Request (Version: 13) => the same with topic_id:UUID in place of name.
 *
 * Produce Response (Version: 3-13) => [responses] throttle_time_ms (v9+: TAG_BUFFER)
 *   responses => name:STRING (v13+: topic_id:UUID instead) [partition_responses] (v9+: TAG_BUFFER)
 *     partition_responses => index:INT32 error_code:INT16 base_offset:INT64
 *       log_append_time_ms:INT64
 *       log_start_offset:INT64 (v5+)
 *       [record_errors] (v8+) => batch_index:INT32 batch_index_error_message:NULLABLE_STRING (v9+: TAG_BUFFER)
 *       error_message:NULLABLE_STRING (v8+)
 *       (v9+: TAG_BUFFER; v10+ tag 0: current_leader => leader_id:INT32 leader_epoch:INT32 TAG_BUFFER)
 *   throttle_time_ms => INT32
 *   (v10+ top-level tag 0: node_endpoints [node_id:INT32 host:COMPACT_STRING port:INT32
 *                                          rack:COMPACT_NULLABLE_STRING TAG_BUFFER])
 *
 * v3 is the first version carrying record batches (magic 2) and the lowest Kafka 4.0 accepts
 * (KAFKA-18659); Kafka 1.0 speaks v3-v5, so v3-v13 covers brokers 1.0 through 4.x.
 * v12 (KIP-890) is v11 on the wire: it only tells the broker that a transactional producer adds
 * partitions to its transaction implicitly, which an idempotent producer never needs.
 * v13 (KIP-516, Kafka 4.x) names topics by id; a topic deleted and created again under the same
 * name has a new id, and the old one is answered with UNKNOWN_TOPIC_ID.
 * With acks=0 the broker sends no response at all.
 */
import type { KafkaApi } from './api.js';
import { UnsupportedVersionError } from '../errors/index.js';
import { unsignedVarintSize } from '../records/varint.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface ProducePartitionData {
  index: number;
  /** An encoded record batch (or several, back to back); null sends no records. */
  records: Buffer | null;
}

export interface ProduceTopicData {
  name: string;
  /** The topic's id from Metadata v10+; required from Produce v13, which sends it instead of the name. */
  topicId?: Buffer | null;
  partitions: readonly ProducePartitionData[];
}

export interface ProduceRequest {
  transactionalId: string | null;
  acks: 0 | 1 | -1;
  timeoutMs: number;
  topics: readonly ProduceTopicData[];
}

export interface ProduceRecordError {
  batchIndex: number;
  message: string | null;
}

export interface LeaderIdAndEpoch {
  leaderId: number;
  leaderEpoch: number;
}

export interface ProducePartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: bigint;
  /** -1 unless the topic uses LogAppendTime. */
  logAppendTimeMs: bigint;
  /** -1 before v5. */
  logStartOffset: bigint;
  /** Empty before v8. */
  recordErrors: ProduceRecordError[];
  /** Null before v8. */
  errorMessage: string | null;
  /** v10+ on NOT_LEADER_OR_FOLLOWER: where the partition's leader now is. */
  currentLeader: LeaderIdAndEpoch | null;
}

export interface ProduceTopicResponse {
  /** Null from v13, whose answer names topics by id. */
  name: string | null;
  /** v13+: the topic's id; null before. */
  topicId: Buffer | null;
  partitionResponses: ProducePartitionResponse[];
}

export interface NodeEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface ProduceResponse {
  responses: ProduceTopicResponse[];
  throttleTimeMs: number;
  /** v10+: endpoints of the leaders named in currentLeader. */
  nodeEndpoints: NodeEndpoint[];
}

function onPartitionTag(tag: number, reader: Reader, partition: ProducePartitionResponse): void {
  if (tag !== 0) return;
  const leaderId = reader.int32();
  const leaderEpoch = reader.int32();
  reader.taggedFields();
  partition.currentLeader = { leaderId, leaderEpoch };
}

function onResponseTag(tag: number, reader: Reader, response: ProduceResponse): void {
  if (tag !== 0) return;
  const count = reader.arrayLength(true, 11);
  const endpoints = new Array<NodeEndpoint>(count);
  for (let i = 0; i < count; i++) {
    const nodeId = reader.int32();
    const host = reader.string(true);
    const port = reader.int32();
    const rack = reader.nullableString(true);
    reader.taggedFields();
    endpoints[i] = { nodeId, host, port, rack };
  }
  response.nodeEndpoints = endpoints;
}

function decodePartition(reader: Reader, version: number, flexible: boolean): ProducePartitionResponse {
  const partition: ProducePartitionResponse = {
    index: reader.int32(),
    errorCode: reader.int16(),
    baseOffset: reader.int64(),
    logAppendTimeMs: reader.int64(),
    logStartOffset: version >= 5 ? reader.int64() : -1n,
    recordErrors: [],
    errorMessage: null,
    currentLeader: null,
  };
  if (version >= 8) {
    const count = reader.arrayLength(flexible, 6);
    for (let i = 0; i < count; i++) {
      const batchIndex = reader.int32();
      const message = reader.nullableString(flexible);
      if (flexible) reader.taggedFields();
      partition.recordErrors.push({ batchIndex, message });
    }
    partition.errorMessage = reader.nullableString(flexible);
  }
  if (flexible) reader.taggedFields(onPartitionTag, partition);
  return partition;
}

function stringSize(flexible: boolean, value: string | null): number {
  if (value === null) return flexible ? 1 : 2;
  const len = Buffer.byteLength(value, 'utf8');
  return (flexible ? unsignedVarintSize(len + 1) : 2) + len;
}

function countSize(flexible: boolean, n: number): number {
  return flexible ? unsignedVarintSize(n + 1) : 4;
}

/**
 * The exact encoded size of a Produce request body. encodeRequest reserves what its writer will
 * copy up front, so the writer grows at most once and each copied record batch lands in its final
 * place. `referencedFrom`: record batches of at least this many bytes are left out of the count, as
 * a writer that references them (FrameWriter) never copies them; reserving their bytes too cost a
 * 1-2 MiB buffer per full request for ~100 bytes of header.
 */
export function produceRequestSize(version: number, request: ProduceRequest, referencedFrom = Infinity): number {
  const flexible = version >= 9;
  const byId = version >= TOPIC_IDS_FROM;
  const topics = request.topics;
  let size = stringSize(flexible, request.transactionalId) + 2 + 4 + countSize(flexible, topics.length) + (flexible ? 1 : 0);
  for (let t = 0; t < topics.length; t++) {
    const partitions = topics[t].partitions;
    size += (byId ? 16 : stringSize(flexible, topics[t].name)) + countSize(flexible, partitions.length) + (flexible ? 1 : 0);
    for (let p = 0; p < partitions.length; p++) {
      const records = partitions[p].records;
      const len = records === null ? -1 : records.length;
      size += 4 + (flexible ? unsignedVarintSize(len + 1) + 1 : 4) + (len >= referencedFrom ? 0 : Math.max(len, 0));
    }
  }
  return size;
}

/** The first Produce version that names topics by id. */
export const TOPIC_IDS_FROM = 13;

function topicIdOf(topic: ProduceTopicData, version: number): Buffer {
  const id = topic.topicId;
  if (id === undefined || id === null) {
    throw new UnsupportedVersionError(`Produce to topic ${topic.name} without its topic id`, { min: 3, max: TOPIC_IDS_FROM - 1 }, { min: version, max: version });
  }
  return id;
}

export const Produce: KafkaApi<ProduceRequest, ProduceResponse> = {
  apiKey: 0,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 13,
  firstFlexibleVersion: 9,

  encodeRequest(writer: Writer, version: number, request: ProduceRequest): void {
    const flexible = version >= 9;
    const byId = version >= TOPIC_IDS_FROM;
    const topics = request.topics;
    writer.ensure(produceRequestSize(version, request, writer.referencesFrom));
    if (flexible) {
      writer.compactString(request.transactionalId).int16(request.acks).int32(request.timeoutMs);
      writer.uvarint(topics.length + 1);
      for (let t = 0; t < topics.length; t++) {
        const partitions = topics[t].partitions;
        if (byId) writer.uuid(topicIdOf(topics[t], version));
        else writer.compactString(topics[t].name);
        writer.uvarint(partitions.length + 1);
        for (let p = 0; p < partitions.length; p++) {
          writer.int32(partitions[p].index).compactBytes(partitions[p].records).uvarint(0);
        }
        writer.uvarint(0);
      }
      writer.uvarint(0);
    } else {
      writer.string(request.transactionalId).int16(request.acks).int32(request.timeoutMs);
      writer.int32(topics.length);
      for (let t = 0; t < topics.length; t++) {
        const partitions = topics[t].partitions;
        writer.string(topics[t].name).int32(partitions.length);
        for (let p = 0; p < partitions.length; p++) {
          writer.int32(partitions[p].index).bytes(partitions[p].records);
        }
      }
    }
  },

  decodeResponse(body: Buffer, version: number): ProduceResponse {
    const reader = new Reader(body);
    const flexible = version >= 9;
    const byId = version >= TOPIC_IDS_FROM;
    // Smallest partition entry: the fixed fields, plus empty arrays/strings/tags where present.
    const minPartitionSize =
      4 + 2 + 8 + 8 + (version >= 5 ? 8 : 0) + (version >= 8 ? (flexible ? 2 : 6) : 0) + (flexible ? 1 : 0);
    const topicCount = reader.arrayLength(flexible, byId ? 18 : flexible ? 3 : 6);
    const responses = new Array<ProduceTopicResponse>(topicCount);
    for (let t = 0; t < topicCount; t++) {
      const name = byId ? null : reader.string(flexible);
      const topicId = byId ? reader.uuidView() : null;
      const partitionCount = reader.arrayLength(flexible, minPartitionSize);
      const partitionResponses = new Array<ProducePartitionResponse>(partitionCount);
      for (let p = 0; p < partitionCount; p++) partitionResponses[p] = decodePartition(reader, version, flexible);
      if (flexible) reader.taggedFields();
      responses[t] = { name, topicId, partitionResponses };
    }
    const response: ProduceResponse = { responses, throttleTimeMs: reader.int32(), nodeEndpoints: [] };
    if (flexible) reader.taggedFields(onResponseTag, response);
    return response;
  },

  expectsResponse(request: ProduceRequest): boolean {
    return request.acks !== 0;
  },
};
