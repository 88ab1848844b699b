/**
 * The broker's half of each codec, for tests only: a request DECODER and a response ENCODER per
 * API, written from the same JSON definitions as lib/protocol but separately, so a round trip
 * (client encode -> broker decode, broker encode -> client decode) checks both against the grammar.
 */
import { Reader } from '../../../lib/protocol/reader.js';
import { Writer } from '../../../lib/protocol/writer.js';
import type { ApiVersionsRequest, ApiVersionsResponse } from '../../../lib/protocol/api-versions.js';
import type { MetadataRequest, MetadataResponse } from '../../../lib/protocol/metadata.js';
import type { ProduceRequest, ProduceResponse } from '../../../lib/protocol/produce.js';
import type { InitProducerIdRequest, InitProducerIdResponse } from '../../../lib/protocol/init-producer-id.js';
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../../lib/protocol/create-topics.js';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../../../lib/protocol/delete-topics.js';

function str(w: Writer, flexible: boolean, value: string | null): void {
  if (flexible) w.compactString(value);
  else w.string(value);
}

function len(w: Writer, flexible: boolean, n: number | null): void {
  if (n === null) {
    if (flexible) w.uvarint(0);
    else w.int32(-1);
  } else if (flexible) w.uvarint(n + 1);
  else w.int32(n);
}

function tags(w: Writer, flexible: boolean, fields: Array<{ tag: number; data: Uint8Array }> = []): void {
  if (flexible) w.taggedFields(fields);
}

function tagged(build: (w: Writer) => void): Uint8Array {
  const w = new Writer(64);
  build(w);
  return w.toBuffer();
}

function done(r: Reader): void {
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left after the request body`);
}

// ---------------------------------------------------------------- ApiVersions

export function decodeApiVersionsRequest(body: Buffer, version: number): ApiVersionsRequest {
  const r = new Reader(body);
  if (version < 3) {
    done(r);
    return {};
  }
  const request: ApiVersionsRequest = { clientSoftwareName: r.string(true), clientSoftwareVersion: r.string(true) };
  if (version >= 5) {
    request.clusterId = r.nullableString(true);
    request.nodeId = r.int32();
  }
  r.taggedFields();
  done(r);
  return request;
}

export function encodeApiVersionsResponse(response: ApiVersionsResponse, version: number): Buffer {
  const w = new Writer();
  const flexible = version >= 3;
  w.int16(response.errorCode);
  len(w, flexible, response.apiKeys.length);
  for (const k of response.apiKeys) {
    w.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion);
    tags(w, flexible);
  }
  if (version >= 1) w.int32(response.throttleTimeMs);
  if (flexible) {
    const fields: Array<{ tag: number; data: Uint8Array }> = [];
    if (response.supportedFeatures.length > 0) {
      fields.push({
        tag: 0,
        data: tagged((t) => {
          t.uvarint(response.supportedFeatures.length + 1);
          for (const f of response.supportedFeatures) t.compactString(f.name).int16(f.minVersion).int16(f.maxVersion).uvarint(0);
        }),
      });
    }
    if (response.finalizedFeaturesEpoch !== -1n) fields.push({ tag: 1, data: tagged((t) => t.int64(response.finalizedFeaturesEpoch)) });
    if (response.finalizedFeatures.length > 0) {
      fields.push({
        tag: 2,
        data: tagged((t) => {
          t.uvarint(response.finalizedFeatures.length + 1);
          for (const f of response.finalizedFeatures) t.compactString(f.name).int16(f.maxVersionLevel).int16(f.minVersionLevel).uvarint(0);
        }),
      });
    }
    if (response.zkMigrationReady) fields.push({ tag: 3, data: Buffer.from([1]) });
    w.taggedFields(fields);
  }
  return w.toBuffer();
}

// ---------------------------------------------------------------- Metadata

export function decodeMetadataRequest(body: Buffer, version: number): Required<MetadataRequest> {
  const r = new Reader(body);
  const flexible = version >= 9;
  const n = r.nullableArrayLength(flexible, 1);
  let topics: string[] | null = null;
  if (n >= 0) {
    topics = [];
    for (let i = 0; i < n; i++) {
      if (version >= 10) {
        const id = r.uuid();
        if (!id.equals(Buffer.alloc(16))) throw new Error('expected a zero topic id');
      }
      const name = version >= 10 ? r.nullableString(flexible) : r.string(flexible);
      if (name === null) throw new Error('expected a topic name');
      topics.push(name);
      if (flexible) r.taggedFields();
    }
  }
  const allowAutoTopicCreation = version >= 4 ? r.boolean() : true;
  let includeTopicAuthorizedOperations = false;
  if (version >= 8) {
    if (version <= 10) r.boolean();
    includeTopicAuthorizedOperations = r.boolean();
  }
  if (flexible) r.taggedFields();
  done(r);
  return { topics, allowAutoTopicCreation, includeTopicAuthorizedOperations };
}

export function encodeMetadataResponse(response: MetadataResponse, version: number): Buffer {
  const w = new Writer();
  const flexible = version >= 9;
  if (version >= 3) w.int32(response.throttleTimeMs);
  len(w, flexible, response.brokers.length);
  for (const b of response.brokers) {
    w.int32(b.nodeId);
    str(w, flexible, b.host);
    w.int32(b.port);
    str(w, flexible, b.rack);
    tags(w, flexible);
  }
  if (version >= 2) str(w, flexible, response.clusterId);
  w.int32(response.controllerId);
  len(w, flexible, response.topics.length);
  for (const t of response.topics) {
    w.int16(t.errorCode);
    str(w, flexible, t.name);
    if (version >= 10) w.uuid(t.topicId!);
    w.boolean(t.isInternal);
    len(w, flexible, t.partitions.length);
    for (const p of t.partitions) {
      w.int16(p.errorCode).int32(p.partitionIndex).int32(p.leaderId);
      if (version >= 7) w.int32(p.leaderEpoch);
      for (const list of version >= 5 ? [p.replicaNodes, p.isrNodes, p.offlineReplicas] : [p.replicaNodes, p.isrNodes]) {
        len(w, flexible, list.length);
        for (const id of list) w.int32(id);
      }
      tags(w, flexible);
    }
    if (version >= 8) w.int32(t.topicAuthorizedOperations);
    tags(w, flexible);
  }
  if (version >= 8 && version <= 10) w.int32(response.clusterAuthorizedOperations);
  if (version >= 13) w.int16(response.errorCode);
  tags(w, flexible);
  return w.toBuffer();
}

// ---------------------------------------------------------------- Produce

export function decodeProduceRequest(body: Buffer, version: number): ProduceRequest {
  const r = new Reader(body);
  const flexible = version >= 9;
  const transactionalId = r.nullableString(flexible);
  const acks = r.int16() as 0 | 1 | -1;
  const timeoutMs = r.int32();
  const topics: ProduceRequest['topics'][number][] = [];
  const tn = r.arrayLength(flexible, 1);
  for (let t = 0; t < tn; t++) {
    const name = version >= 13 ? null : r.string(flexible);
    const topicId = version >= 13 ? r.uuid() : null;
    const partitions: Array<{ index: number; records: Buffer | null }> = [];
    const pn = r.arrayLength(flexible, 1);
    for (let p = 0; p < pn; p++) {
      const index = r.int32();
      const records = r.nullableBytes(flexible);
      partitions.push({ index, records: records && Buffer.from(records) });
      if (flexible) r.taggedFields();
    }
    if (flexible) r.taggedFields();
    topics.push(name === null ? { name: '', topicId, partitions } : { name, partitions });
  }
  if (flexible) r.taggedFields();
  done(r);
  return { transactionalId, acks, timeoutMs, topics };
}

export function encodeProduceResponse(response: ProduceResponse, version: number): Buffer {
  const w = new Writer();
  const flexible = version >= 9;
  len(w, flexible, response.responses.length);
  for (const t of response.responses) {
    if (version >= 13) w.uuid(t.topicId!);
    else str(w, flexible, t.name);
    len(w, flexible, t.partitionResponses.length);
    for (const p of t.partitionResponses) {
      w.int32(p.index).int16(p.errorCode).int64(p.baseOffset).int64(p.logAppendTimeMs);
      if (version >= 5) w.int64(p.logStartOffset);
      if (version >= 8) {
        len(w, flexible, p.recordErrors.length);
        for (const e of p.recordErrors) {
          w.int32(e.batchIndex);
          str(w, flexible, e.message);
          tags(w, flexible);
        }
        str(w, flexible, p.errorMessage);
      }
      const leader = p.currentLeader;
      tags(w, flexible, leader ? [{ tag: 0, data: tagged((x) => x.int32(leader.leaderId).int32(leader.leaderEpoch).uvarint(0)) }] : []);
    }
    tags(w, flexible);
  }
  w.int32(response.throttleTimeMs);
  const endpoints = response.nodeEndpoints;
  tags(
    w,
    flexible,
    endpoints.length > 0
      ? [
          {
            tag: 0,
            data: tagged((x) => {
              x.uvarint(endpoints.length + 1);
              for (const e of endpoints) x.int32(e.nodeId).compactString(e.host).int32(e.port).compactString(e.rack).uvarint(0);
            }),
          },
        ]
      : [],
  );
  return w.toBuffer();
}

// ---------------------------------------------------------------- InitProducerId

export function decodeInitProducerIdRequest(body: Buffer, version: number): Required<InitProducerIdRequest> {
  const r = new Reader(body);
  const flexible = version >= 2;
  const transactionalId = r.nullableString(flexible);
  const transactionTimeoutMs = r.int32();
  const producerId = version >= 3 ? r.int64() : -1n;
  const producerEpoch = version >= 3 ? r.int16() : -1;
  const enable2Pc = version >= 6 ? r.boolean() : false;
  const keepPreparedTxn = version >= 6 ? r.boolean() : false;
  if (flexible) r.taggedFields();
  done(r);
  return { transactionalId, transactionTimeoutMs, producerId, producerEpoch, enable2Pc, keepPreparedTxn };
}

export function encodeInitProducerIdResponse(response: InitProducerIdResponse, version: number): Buffer {
  const w = new Writer();
  w.int32(response.throttleTimeMs).int16(response.errorCode).int64(response.producerId).int16(response.producerEpoch);
  if (version >= 6) w.int64(response.ongoingTxnProducerId).int16(response.ongoingTxnProducerEpoch);
  tags(w, version >= 2);
  return w.toBuffer();
}

// ---------------------------------------------------------------- CreateTopics

export function decodeCreateTopicsRequest(body: Buffer, version: number): Required<CreateTopicsRequest> {
  const r = new Reader(body);
  const flexible = version >= 5;
  const topics: CreateTopicsRequest['topics'][number][] = [];
  const n = r.arrayLength(flexible, 1);
  for (let i = 0; i < n; i++) {
    const name = r.string(flexible);
    const numPartitions = r.int32();
    const replicationFactor = r.int16();
    const assignments: Array<{ partitionIndex: number; brokerIds: number[] }> = [];
    const an = r.arrayLength(flexible, 1);
    for (let a = 0; a < an; a++) {
      const partitionIndex = r.int32();
      const brokerIds = r.int32Array(flexible);
      if (flexible) r.taggedFields();
      assignments.push({ partitionIndex, brokerIds });
    }
    const configs: Array<{ name: string; value: string | null }> = [];
    const cn = r.arrayLength(flexible, 1);
    for (let c = 0; c < cn; c++) {
      configs.push({ name: r.string(flexible), value: r.nullableString(flexible) });
      if (flexible) r.taggedFields();
    }
    if (flexible) r.taggedFields();
    topics.push({ name, numPartitions, replicationFactor, assignments, configs });
  }
  const timeoutMs = r.int32();
  const validateOnly = r.boolean();
  if (flexible) r.taggedFields();
  done(r);
  return { topics, timeoutMs, validateOnly };
}

export function encodeCreateTopicsResponse(response: CreateTopicsResponse, version: number): Buffer {
  const w = new Writer();
  const flexible = version >= 5;
  w.int32(response.throttleTimeMs);
  len(w, flexible, response.topics.length);
  for (const t of response.topics) {
    str(w, flexible, t.name);
    if (version >= 7) w.uuid(t.topicId!);
    w.int16(t.errorCode);
    str(w, flexible, t.errorMessage);
    if (version >= 5) {
      w.int32(t.numPartitions).int16(t.replicationFactor);
      len(w, true, t.configs === null ? null : t.configs.length);
      for (const c of t.configs ?? []) {
        w.compactString(c.name).compactString(c.value).boolean(c.readOnly).int8(c.configSource).boolean(c.isSensitive).uvarint(0);
      }
    }
    tags(w, flexible, t.topicConfigErrorCode !== 0 ? [{ tag: 0, data: tagged((x) => x.int16(t.topicConfigErrorCode)) }] : []);
  }
  tags(w, flexible);
  return w.toBuffer();
}

// ---------------------------------------------------------------- DeleteTopics

export function decodeDeleteTopicsRequest(body: Buffer, version: number): Required<DeleteTopicsRequest> {
  const r = new Reader(body);
  const flexible = version >= 4;
  const topicNames: string[] = [];
  const topicIds: Buffer[] = [];
  const n = r.arrayLength(flexible, 1);
  for (let i = 0; i < n; i++) {
    if (version >= 6) {
      const name = r.nullableString(true);
      const id = r.uuid();
      r.taggedFields();
      if (name !== null) topicNames.push(name);
      else topicIds.push(id);
    } else {
      topicNames.push(r.string(flexible));
    }
  }
  const timeoutMs = r.int32();
  if (flexible) r.taggedFields();
  done(r);
  return { topicNames, topicIds, timeoutMs };
}

export function encodeDeleteTopicsResponse(response: DeleteTopicsResponse, version: number): Buffer {
  const w = new Writer();
  const flexible = version >= 4;
  w.int32(response.throttleTimeMs);
  len(w, flexible, response.responses.length);
  for (const t of response.responses) {
    str(w, flexible, t.name);
    if (version >= 6) w.uuid(t.topicId!);
    w.int16(t.errorCode);
    if (version >= 5) str(w, flexible, t.errorMessage);
    tags(w, flexible);
  }
  tags(w, flexible);
  return w.toBuffer();
}
