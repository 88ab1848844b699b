/**
 * Sample requests and responses for every implemented version, holding only what the version
 * carries (the other fields at the values the decoder gives when they are absent), so
 * encode -> decode must give back exactly the sample.
 */
import type { ApiVersionsResponse } from '../../../lib/protocol/api-versions.js';
import type { MetadataResponse } from '../../../lib/protocol/metadata.js';
import type { ProduceRequest, ProduceResponse } from '../../../lib/protocol/produce.js';
import type { InitProducerIdResponse } from '../../../lib/protocol/init-producer-id.js';
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../../lib/protocol/create-topics.js';
import type { DeleteTopicsResponse } from '../../../lib/protocol/delete-topics.js';

const UNSET = -2147483648;
const uuid = (seed: number) => Buffer.from(Array.from({ length: 16 }, (_, i) => (seed * 31 + i * 7) & 0xff));

export function apiVersionsResponse(version: number): ApiVersionsResponse {
  const flexible = version >= 3;
  return {
    errorCode: 0,
    apiKeys: [
      { apiKey: 0, minVersion: 0, maxVersion: 11 },
      { apiKey: 3, minVersion: 0, maxVersion: 12 },
      { apiKey: 18, minVersion: 0, maxVersion: 5 },
    ],
    throttleTimeMs: version >= 1 ? 17 : 0,
    supportedFeatures: flexible ? [{ name: 'metadata.version', minVersion: 1, maxVersion: 21 }] : [],
    finalizedFeaturesEpoch: flexible ? 42n : -1n,
    finalizedFeatures: flexible ? [{ name: 'metadata.version', maxVersionLevel: 21, minVersionLevel: 21 }] : [],
    zkMigrationReady: flexible,
    bodyVersion: version,
  };
}

export function metadataResponse(version: number): MetadataResponse {
  return {
    throttleTimeMs: version >= 3 ? 5 : 0,
    brokers: [
      { nodeId: 1, host: 'broker-1.example', port: 9092, rack: 'rack-a' },
      { nodeId: 2, host: 'broker-2', port: 9093, rack: null },
    ],
    clusterId: version >= 2 ? 'cluster-Ωμέγα' : null,
    controllerId: 2,
    topics: [
      {
        errorCode: 0,
        name: 'events',
        topicId: version >= 10 ? uuid(1) : null,
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: version >= 7 ? 3 : -1,
            replicaNodes: [1, 2],
            isrNodes: [1, 2],
            offlineReplicas: version >= 5 ? [2] : [],
          },
          {
            errorCode: 9,
            partitionIndex: 1,
            leaderId: -1,
            leaderEpoch: version >= 7 ? 0 : -1,
            replicaNodes: [2],
            isrNodes: [],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: version >= 8 ? 0x0df8 : UNSET,
      },
      {
        errorCode: 3,
        name: version >= 12 ? null : 'missing',
        topicId: version >= 10 ? Buffer.alloc(16) : null,
        isInternal: true,
        partitions: [],
        topicAuthorizedOperations: version >= 8 ? UNSET : UNSET,
      },
    ],
    clusterAuthorizedOperations: version >= 8 && version <= 10 ? 1234 : UNSET,
    errorCode: version >= 13 ? 129 : 0,
  };
}

/** From v13 topics go by id: the sample then carries ids, and no names (the broker never sees them). */
export function produceRequest(version = 3): ProduceRequest {
  const byId = version >= 13;
  const topic = (name: string, seed: number) => (byId ? { name: '', topicId: uuid(seed) } : { name });
  return {
    transactionalId: 'tx-1',
    acks: -1,
    timeoutMs: 30000,
    topics: [
      {
        ...topic('events', 21),
        partitions: [
          { index: 0, records: Buffer.from('batch-bytes-0') },
          { index: 3, records: Buffer.alloc(300, 7) },
          { index: 4, records: null },
        ],
      },
      { ...topic('other', 22), partitions: [{ index: 1, records: Buffer.alloc(0) }] },
    ],
  };
}

export function produceResponse(version: number): ProduceResponse {
  const v8 = version >= 8;
  const v10 = version >= 10;
  return {
    responses: [
      {
        name: version >= 13 ? null : 'events',
        topicId: version >= 13 ? uuid(21) : null,
        partitionResponses: [
          {
            index: 0,
            errorCode: 0,
            baseOffset: 9007199254740993n,
            logAppendTimeMs: -1n,
            logStartOffset: version >= 5 ? 12n : -1n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: null,
          },
          {
            index: 3,
            errorCode: 6,
            baseOffset: -1n,
            logAppendTimeMs: 1732500000000n,
            logStartOffset: -1n,
            recordErrors: v8 ? [{ batchIndex: 2, message: 'bad record' }, { batchIndex: 5, message: null }] : [],
            errorMessage: v8 ? 'NOT_LEADER_OR_FOLLOWER' : null,
            currentLeader: v10 ? { leaderId: 2, leaderEpoch: 7 } : null,
          },
        ],
      },
    ],
    throttleTimeMs: 11,
    nodeEndpoints: v10 ? [{ nodeId: 2, host: 'broker-2', port: 9093, rack: null }] : [],
  };
}

export function initProducerIdResponse(version: number): InitProducerIdResponse {
  const v6 = version >= 6;
  return {
    throttleTimeMs: 1,
    errorCode: 0,
    producerId: 4000000000123n,
    producerEpoch: 32767,
    ongoingTxnProducerId: v6 ? 4000000000100n : -1n,
    ongoingTxnProducerEpoch: v6 ? 12 : -1,
  };
}

export function createTopicsRequest(): Required<CreateTopicsRequest> {
  return {
    topics: [
      {
        name: 'created',
        numPartitions: -1,
        replicationFactor: -1,
        assignments: [
          { partitionIndex: 0, brokerIds: [1, 2] },
          { partitionIndex: 1, brokerIds: [2, 1] },
        ],
        configs: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'retention.ms', value: null },
        ],
      },
      { name: 'plain', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] },
    ],
    timeoutMs: 15000,
    validateOnly: true,
  };
}

export function createTopicsResponse(version: number): CreateTopicsResponse {
  const v5 = version >= 5;
  return {
    throttleTimeMs: 2,
    topics: [
      {
        name: 'created',
        topicId: version >= 7 ? uuid(9) : null,
        errorCode: 0,
        errorMessage: null,
        numPartitions: v5 ? 2 : -1,
        replicationFactor: v5 ? 2 : -1,
        configs: v5
          ? [
              { name: 'cleanup.policy', value: 'compact', readOnly: false, configSource: 1, isSensitive: false },
              { name: 'secret', value: null, readOnly: true, configSource: -1, isSensitive: true },
            ]
          : null,
        topicConfigErrorCode: 0,
      },
      {
        name: 'exists',
        topicId: version >= 7 ? Buffer.alloc(16) : null,
        errorCode: 36,
        errorMessage: 'Topic already exists.',
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
        topicConfigErrorCode: v5 ? 29 : 0,
      },
    ],
  };
}

export function deleteTopicsResponse(version: number): DeleteTopicsResponse {
  return {
    throttleTimeMs: 0,
    responses: [
      { name: 'gone', topicId: version >= 6 ? uuid(4) : null, errorCode: 0, errorMessage: null },
      {
        name: version >= 6 ? null : 'unknown',
        topicId: version >= 6 ? uuid(5) : null,
        errorCode: version >= 6 ? 100 : 3,
        errorMessage: version >= 5 ? 'This server does not host this topic ID.' : null,
      },
    ],
  };
}
