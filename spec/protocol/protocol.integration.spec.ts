import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { KafkaApi } from '../../lib/protocol/api.js';
import {
  ApiVersions,
  UNSUPPORTED_VERSION,
  brokerRangeOf,
  negotiateVersion,
  retryVersionAfter,
  type ApiVersionsResponse,
} from '../../lib/protocol/api-versions.js';
import { Metadata } from '../../lib/protocol/metadata.js';
import { Produce } from '../../lib/protocol/produce.js';
import { InitProducerId } from '../../lib/protocol/init-producer-id.js';
import { CreateTopics } from '../../lib/protocol/create-topics.js';
import { DeleteTopics } from '../../lib/protocol/delete-topics.js';
import { brokers } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { RawClient } from './support/raw-client.js';
import { tinyRecordBatch } from './support/tiny-batch.js';

const TOPIC_EXISTS = 36;

function commonVersions(api: KafkaApi<any, any>, versions: ApiVersionsResponse): number[] {
  const range = brokerRangeOf(versions, api.apiKey);
  const list: number[] = [];
  if (range === undefined) return list;
  for (let v = Math.max(api.minVersion, range.minVersion); v <= Math.min(api.maxVersion, range.maxVersion); v++) list.push(v);
  return list;
}

describe('protocol codecs against a real broker (raw socket)', function () {
  this.timeout(120000);
  let client: RawClient;
  let versions: ApiVersionsResponse;
  const run = randomBytes(4).toString('hex');

  before(async () => {
    client = await RawClient.open(brokers()[0]);
    // As lib/network's connection does: kafka-rx's newest version, then the broker's newest if lower.
    versions = (await client.request(ApiVersions, ApiVersions.maxVersion, {})).response;
    const retry = retryVersionAfter(versions, ApiVersions.maxVersion);
    if (retry !== null) versions = (await client.request(ApiVersions, retry, {})).response;
    expect(versions.errorCode).to.equal(0);
  });

  after(() => client?.close());

  /** The topic's id, once the broker's metadata cache knows the topic (it trails CreateTopics by a moment). */
  async function topicIdOf(topic: string): Promise<Buffer> {
    const v = negotiateVersion(Metadata, versions);
    if (v < 10) throw new Error(`Metadata v${v} gives no topic ids`);
    for (let attempt = 0; ; attempt++) {
      const { response } = await client.request(Metadata, v, { topics: [topic], allowAutoTopicCreation: false });
      const { errorCode, topicId } = response.topics[0];
      if (errorCode === 0 && !topicId!.equals(Buffer.alloc(16))) return topicId!;
      if (attempt >= 40) throw new Error(`the broker does not know topic ${topic} (error ${errorCode})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('ApiVersions at every version lists the APIs kafka-rx needs, each with a common version', async () => {
    for (const v of commonVersions(ApiVersions, versions)) {
      const { response } = await client.request(ApiVersions, v, { clientSoftwareName: 'kafka-rx', clientSoftwareVersion: '0.1.0' });
      expect(response.errorCode, `v${v}`).to.equal(0);
      expect(response.bodyVersion).to.equal(v);
      expect(response.apiKeys.length).to.be.greaterThan(20);
    }
    for (const api of [ApiVersions, Metadata, Produce, InitProducerId, CreateTopics, DeleteTopics]) {
      expect(negotiateVersion(api, versions), api.name).to.be.within(api.minVersion, api.maxVersion);
    }
    expect(versions.supportedFeatures.map((f) => f.name)).to.include('metadata.version');
    expect(versions.finalizedFeaturesEpoch >= 0n).to.equal(true);
  });

  it("ApiVersions above the broker's maximum: error 35 in v0 format, then a retry at the broker's maximum that works", async () => {
    const brokerMax = brokerRangeOf(versions, ApiVersions.apiKey)!.maxVersion;
    const tooHigh = brokerMax + 1;
    // Above kafka-rx's own maximum the encoder refuses, so the request is sent as a newer client
    // would: the header names the version, the body is kafka-rx's newest layout.
    const { response } = tooHigh <= ApiVersions.maxVersion
      ? await client.request(ApiVersions, tooHigh, {})
      : await client.requestAsVersion(ApiVersions, tooHigh, ApiVersions.maxVersion, {});
    expect(response.errorCode).to.equal(UNSUPPORTED_VERSION);
    expect(response.bodyVersion).to.equal(0);
    const retry = retryVersionAfter(response, tooHigh);
    expect(retry).to.equal(brokerMax);
    expect(brokerMax, 'kafka-rx implements the broker\'s newest ApiVersions').to.be.at.most(ApiVersions.maxVersion);
    const answer = (await client.request(ApiVersions, retry!, {})).response;
    expect(answer.errorCode).to.equal(0);
    expect(answer.bodyVersion).to.equal(brokerMax);
    expect(answer.apiKeys).to.deep.equal(versions.apiKeys);
  });

  it('CreateTopics at every common version creates the topic (and reports an existing one)', async () => {
    const common = commonVersions(CreateTopics, versions);
    expect(common).to.include(CreateTopics.minVersion);
    for (const v of common) {
      const name = `protocol-${run}-create-v${v}`;
      const request = { topics: [{ name, numPartitions: 2, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '3600000' }] }], timeoutMs: 30000 };
      const { response } = await client.request(CreateTopics, v, request);
      expect(response.topics, `v${v}`).to.have.length(1);
      expect(response.topics[0]).to.include({ name, errorCode: 0 });
      if (v >= 5) expect(response.topics[0]).to.include({ numPartitions: 2, replicationFactor: 1 });
      if (v >= 7) expect(response.topics[0].topicId!.equals(Buffer.alloc(16))).to.equal(false);
      const again = (await client.request(CreateTopics, v, request)).response;
      expect(again.topics[0].errorCode).to.equal(TOPIC_EXISTS);
      expect(again.topics[0].errorMessage).to.be.a('string');
    }
  });

  it('Metadata at every common version describes the cluster and a topic', async () => {
    const topic = `protocol-${run}-create-v${commonVersions(CreateTopics, versions).at(-1)}`;
    // The broker's metadata cache may trail the controller by a moment after CreateTopics.
    for (let attempt = 0; attempt < 40; attempt++) {
      const { response } = await client.request(Metadata, negotiateVersion(Metadata, versions), { topics: [topic], allowAutoTopicCreation: false });
      const partitions = response.topics[0]?.partitions ?? [];
      if (response.topics[0]?.errorCode === 0 && partitions.length === 2 && partitions.every((p) => p.leaderId >= 0)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const v of commonVersions(Metadata, versions)) {
      const all = (await client.request(Metadata, v, { topics: null, allowAutoTopicCreation: false })).response;
      expect(all.brokers.length, `v${v}`).to.be.at.least(1);
      const [host, port] = brokers()[0].split(':');
      expect(all.brokers.some((b) => b.host === host && b.port === Number(port))).to.equal(true);
      expect(all.topics.map((t) => t.name)).to.include(topic);
      if (v >= 2) expect(all.clusterId).to.be.a('string');
      expect(all.errorCode, `v${v} top-level error code`).to.equal(0);

      const one = (await client.request(Metadata, v, { topics: [topic], allowAutoTopicCreation: false })).response;
      expect(one.topics).to.have.length(1);
      const described = one.topics[0];
      expect(described).to.include({ errorCode: 0, name: topic, isInternal: false });
      expect(described.partitions.map((p) => p.partitionIndex).sort()).to.deep.equal([0, 1]);
      for (const p of described.partitions) {
        expect(p.leaderId).to.equal(all.brokers[0].nodeId);
        expect(p.replicaNodes).to.deep.equal([p.leaderId]);
        if (v >= 7) expect(p.leaderEpoch).to.be.at.least(0);
      }
      if (v >= 10) expect(described.topicId!.equals(Buffer.alloc(16))).to.equal(false);

      const missing = (await client.request(Metadata, v, { topics: [`protocol-${run}-absent`], allowAutoTopicCreation: false })).response;
      expect(missing.topics[0].errorCode).to.equal(3); // UNKNOWN_TOPIC_OR_PARTITION
    }
  });

  it('Produce at every common version writes records kcat reads back, and acks=0 gets no answer', async () => {
    const topic = `protocol-${run}-produce`;
    const created = (await client.request(CreateTopics, negotiateVersion(CreateTopics, versions), {
      topics: [{ name: topic, numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 30000,
    })).response;
    expect(created.topics[0].errorCode).to.equal(0);
    const topicId = await topicIdOf(topic);

    const produceVersions = commonVersions(Produce, versions);
    expect(produceVersions[0]).to.equal(Produce.minVersion);
    const expected: string[] = [];
    let nextOffset = 0n;
    for (const v of produceVersions) {
      const values = [`v${v}-a`, `v${v}-b`];
      const records = tinyRecordBatch(values, Date.now());
      // The first attempt right after creation may meet a leader not yet elected: retry briefly.
      let partition;
      for (let attempt = 0; attempt < 20; attempt++) {
        const { response } = await client.request(Produce, v, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 10000,
          topics: [{ name: topic, topicId, partitions: [{ index: 0, records }] }],
        });
        if (v >= 13) expect(response.responses[0].topicId!.equals(topicId), `v${v} answers by topic id`).to.equal(true);
        else expect(response.responses[0].name).to.equal(topic);
        partition = response.responses[0].partitionResponses[0];
        if (partition.errorCode === 0) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(partition!.errorCode, `v${v}`).to.equal(0);
      expect(partition!.baseOffset, `v${v}`).to.equal(nextOffset);
      expect(partition!.logAppendTimeMs).to.equal(-1n);
      if (v >= 5) expect(partition!.logStartOffset).to.equal(0n);
      nextOffset += 2n;
      expected.push(...values);
    }

    const v = produceVersions.at(-1)!;
    client.send(Produce, v, {
      transactionalId: null,
      acks: 0,
      timeoutMs: 10000,
      topics: [{ name: topic, topicId, partitions: [{ index: 0, records: tinyRecordBatch(['acks0'], Date.now()) }] }],
    });
    expected.push('acks0');
    // The next answered request must carry its own correlation id (the acks=0 one got no answer).
    expect((await client.request(ApiVersions, 3, {})).response.errorCode).to.equal(0);

    const read = await consumeAll(topic, { bootstrap: brokers().join(','), count: expected.length });
    expect(read.map((r) => r.value!.toString())).to.deep.equal(expected);
  });

  it('Produce to a partition that does not exist reports a per-partition error', async () => {
    const v = negotiateVersion(Produce, versions);
    const { response } = await client.request(Produce, v, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topics: [{ name: `protocol-${run}-produce`, topicId: await topicIdOf(`protocol-${run}-produce`), partitions: [{ index: 7, records: tinyRecordBatch(['x'], Date.now()) }] }],
    });
    expect(response.responses[0].partitionResponses[0]).to.include({ index: 7, errorCode: 3 });
  });

  it('InitProducerId at every common version hands out an idempotent producer id', async () => {
    for (const v of commonVersions(InitProducerId, versions)) {
      // A fresh broker answers COORDINATOR_LOAD_IN_PROGRESS (14, retriable) for a moment.
      let response = (await client.request(InitProducerId, v, { transactionalId: null, transactionTimeoutMs: 60000 })).response;
      for (let attempt = 0; attempt < 40 && response.errorCode === 14; attempt++) {
        await new Promise((r) => setTimeout(r, 250));
        response = (await client.request(InitProducerId, v, { transactionalId: null, transactionTimeoutMs: 60000 })).response;
      }
      expect(response.errorCode, `v${v}`).to.equal(0);
      expect(response.producerId >= 0n).to.equal(true);
      expect(response.producerEpoch).to.be.at.least(0);
    }
  });

  it('DeleteTopics at every common version deletes a topic (and reports an unknown one)', async () => {
    for (const v of commonVersions(DeleteTopics, versions)) {
      const name = `protocol-${run}-delete-v${v}`;
      const created = (await client.request(CreateTopics, negotiateVersion(CreateTopics, versions), {
        topics: [{ name, numPartitions: 1, replicationFactor: 1 }],
        timeoutMs: 30000,
      })).response;
      expect(created.topics[0].errorCode).to.equal(0);
      const { response } = await client.request(DeleteTopics, v, { topicNames: [name, `protocol-${run}-never`], timeoutMs: 30000 });
      const byName = new Map(response.responses.map((r) => [r.name, r]));
      expect(byName.get(name)?.errorCode, `v${v}`).to.equal(0);
      expect(byName.get(`protocol-${run}-never`)?.errorCode).to.equal(3);
      if (v >= 5) expect(byName.get(`protocol-${run}-never`)?.errorMessage).to.be.a('string');
    }
    // v6 deletes by topic id, using the id CreateTopics v7 returned.
    if (commonVersions(DeleteTopics, versions).includes(6) && commonVersions(CreateTopics, versions).includes(7)) {
      const name = `protocol-${run}-delete-by-id`;
      const created = (await client.request(CreateTopics, 7, { topics: [{ name, numPartitions: 1, replicationFactor: 1 }], timeoutMs: 30000 })).response;
      const topicId = created.topics[0].topicId!;
      const { response } = await client.request(DeleteTopics, 6, { topicNames: [], topicIds: [topicId], timeoutMs: 30000 });
      expect(response.responses).to.have.length(1);
      expect(response.responses[0].errorCode).to.equal(0);
      expect(response.responses[0].topicId!.equals(topicId)).to.equal(true);
      expect(response.responses[0].name).to.equal(name);
    }
    // Clean up the topics created above.
    const leftovers = commonVersions(CreateTopics, versions).map((v) => `protocol-${run}-create-v${v}`);
    const v = negotiateVersion(DeleteTopics, versions);
    const { response } = await client.request(DeleteTopics, v, { topicNames: [...leftovers, `protocol-${run}-produce`], timeoutMs: 30000 });
    expect(response.responses.every((r) => r.errorCode === 0)).to.equal(true);
  });
});
