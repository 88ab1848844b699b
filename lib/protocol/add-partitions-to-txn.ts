/**
 * AddPartitionsToTxn (key 24), v0-v5.
 *
 * AddPartitionsToTxn Request (Version: 0-2) => transactional_id:STRING producer_id:INT64 producer_epoch:INT16 [topics]
 *   topics => name:STRING [partitions:INT32]
 * AddPartitionsToTxn Request (Version: 3) => the same, compact, a TAG_BUFFER ending every struct
 * AddPartitionsToTxn Request (Version: 4-5) => [transactions] TAG_BUFFER
 *   transactions => transactional_id:COMPACT_STRING producer_id:INT64 producer_epoch:INT16
 *                   verify_only:BOOLEAN [topics] TAG_BUFFER
 *
 * AddPartitionsToTxn Response (Version: 0-2) => throttle_time_ms:INT32 [results_by_topic]
 *   results_by_topic => name:STRING [results_by_partition]
 *     results_by_partition => partition_index:INT32 partition_error_code:INT16
 * AddPartitionsToTxn Response (Version: 3) => the same, compact, a TAG_BUFFER ending every struct
 * AddPartitionsToTxn Response (Version: 4-5) => throttle_time_ms:INT32 error_code:INT16
 *                                               [results_by_transaction] TAG_BUFFER
 *   results_by_transaction => transactional_id:COMPACT_STRING [results_by_topic] TAG_BUFFER
 *
 * v2 may answer PRODUCER_FENCED, v5 TRANSACTION_ABORTABLE (KIP-890). v4+ (KIP-890 part 1) is the
 * brokers' batched form, several transactions per request and a verify-only flag, which a broker
 * authorizes as a cluster action: a producer speaks v3 at most, so it sends through
 * AddPartitionsToTxnFromProducer, whose range stops there.
 */
import type { KafkaApi } from './api.js';
import { ProtocolError } from '../errors/index.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface TxnTopicPartitions {
  name: string;
  partitions: readonly number[];
}

export interface AddPartitionsToTxnTransaction {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  /** v4+: only check that the partitions are in the transaction (brokers use it). */
  verifyOnly?: boolean;
  topics: readonly TxnTopicPartitions[];
}

export interface AddPartitionsToTxnRequest {
  /** Exactly one before v4. */
  transactions: readonly AddPartitionsToTxnTransaction[];
}

export interface TxnPartitionResult {
  partitionIndex: number;
  errorCode: number;
}

export interface TxnTopicResult {
  name: string;
  partitions: TxnPartitionResult[];
}

export interface AddPartitionsToTxnResult {
  /** Null before v4, whose answer is for the one transaction asked. */
  transactionalId: string | null;
  topics: TxnTopicResult[];
}

export interface AddPartitionsToTxnResponse {
  throttleTimeMs: number;
  /** v4+: an error for the whole request; 0 before. */
  errorCode: number;
  transactions: AddPartitionsToTxnResult[];
}

/** The first version in the brokers' batched form. */
export const BATCHED_TRANSACTIONS_FROM = 4;

function writeTopics(writer: Writer, flexible: boolean, topics: readonly TxnTopicPartitions[]): void {
  if (flexible) writer.uvarint(topics.length + 1);
  else writer.int32(topics.length);
  for (const topic of topics) {
    if (flexible) writer.compactString(topic.name).uvarint(topic.partitions.length + 1);
    else writer.string(topic.name).int32(topic.partitions.length);
    for (const partition of topic.partitions) writer.int32(partition);
    if (flexible) writer.uvarint(0);
  }
}

function readTopicResults(reader: Reader, flexible: boolean): TxnTopicResult[] {
  const count = reader.arrayLength(flexible, flexible ? 3 : 6);
  const topics = new Array<TxnTopicResult>(count);
  for (let t = 0; t < count; t++) {
    const name = reader.string(flexible);
    const partitionCount = reader.arrayLength(flexible, flexible ? 7 : 6);
    const partitions = new Array<TxnPartitionResult>(partitionCount);
    for (let p = 0; p < partitionCount; p++) {
      partitions[p] = { partitionIndex: reader.int32(), errorCode: reader.int16() };
      if (flexible) reader.taggedFields();
    }
    if (flexible) reader.taggedFields();
    topics[t] = { name, partitions };
  }
  return topics;
}

export const AddPartitionsToTxn: KafkaApi<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = {
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 5,
  firstFlexibleVersion: 3,

  encodeRequest(writer: Writer, version: number, request: AddPartitionsToTxnRequest): void {
    const flexible = version >= 3;
    if (version >= BATCHED_TRANSACTIONS_FROM) {
      writer.uvarint(request.transactions.length + 1);
      for (const txn of request.transactions) {
        writer.compactString(txn.transactionalId).int64(txn.producerId).int16(txn.producerEpoch).boolean(txn.verifyOnly ?? false);
        writeTopics(writer, true, txn.topics);
        writer.uvarint(0);
      }
      writer.uvarint(0);
      return;
    }
    if (request.transactions.length !== 1) {
      throw new ProtocolError(`AddPartitionsToTxn v${version} adds to exactly one transaction, not ${request.transactions.length}`);
    }
    const txn = request.transactions[0];
    if (flexible) writer.compactString(txn.transactionalId);
    else writer.string(txn.transactionalId);
    writer.int64(txn.producerId).int16(txn.producerEpoch);
    writeTopics(writer, flexible, txn.topics);
    if (flexible) writer.uvarint(0);
  },

  decodeResponse(body: Buffer, version: number): AddPartitionsToTxnResponse {
    const reader = new Reader(body);
    const flexible = version >= 3;
    const throttleTimeMs = reader.int32();
    if (version >= BATCHED_TRANSACTIONS_FROM) {
      const errorCode = reader.int16();
      const count = reader.arrayLength(true, 3);
      const transactions = new Array<AddPartitionsToTxnResult>(count);
      for (let i = 0; i < count; i++) {
        const transactionalId = reader.string(true);
        const topics = readTopicResults(reader, true);
        reader.taggedFields();
        transactions[i] = { transactionalId, topics };
      }
      reader.taggedFields();
      return { throttleTimeMs, errorCode, transactions };
    }
    const topics = readTopicResults(reader, flexible);
    if (flexible) reader.taggedFields();
    return { throttleTimeMs, errorCode: 0, transactions: [{ transactionalId: null, topics }] };
  },
};

/** The versions a producer may send (v4+ is the brokers' form, authorized as a cluster action). */
export const AddPartitionsToTxnFromProducer: KafkaApi<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = {
  ...AddPartitionsToTxn,
  maxVersion: BATCHED_TRANSACTIONS_FROM - 1,
};
