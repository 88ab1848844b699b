// Version negotiation against two real brokers of different generations in one run: the run's
// broker (KAFKA_BROKERS) and one of the other generation started here (3.9.2 beside a 4.x run,
// the default 4.x beside a 3.9 run), plus a 4.x broker that lists InitProducerId v6, which Kafka
// 4.4 still marks unstable. What kafka-rx writes is read back by kcat.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { KafkaClient, RebootstrapRequiredError, kafkaErrorFor, type DeliveryReport } from '../../lib/index.js';
import { Connection } from '../../lib/network/connection.js';
import { ApiVersions, brokerRangeOf, negotiateVersion, type ApiVersionsResponse } from '../../lib/protocol/api-versions.js';
import { InitProducerId } from '../../lib/protocol/init-producer-id.js';
import { Metadata } from '../../lib/protocol/metadata.js';
import { Produce } from '../../lib/protocol/produce.js';
import { brokers, startCluster, type LocalCluster } from '../support/broker.js';
import { defaultKafkaVersion, kafkaVersion } from '../support/kafka-version.js';
import { consumeAll } from '../support/kcat.js';
import { uniqueTopic } from '../support/topics.js';
import { RawClient } from './support/raw-client.js';
import { tinyRecordBatch } from './support/tiny-batch.js';

/** What kafka-rx must pick on each generation (Kafka's own lists: 3.9.2 and 4.4.0). */
const EXPECTED = {
  '3.x': { ApiVersions: 4, Metadata: 12, Produce: 11, InitProducerId: 5 },
  '4.x': { ApiVersions: 5, Metadata: 13, Produce: 13, InitProducerId: 5 },
} as const;

function generationOf(versions: ApiVersionsResponse): '3.x' | '4.x' {
  // Produce v12 is new in 4.0.
  return brokerRangeOf(versions, Produce.apiKey)!.maxVersion >= 12 ? '4.x' : '3.x';
}

function connectionTo(address: string): Connection {
  const [host, port] = address.split(':');
  return new Connection({ host, port: Number(port), clientId: 'kafka-rx-versions-spec' });
}

async function produceAndReadBack(address: string, count: number): Promise<{ reports: DeliveryReport[]; read: string[] }> {
  const client = new KafkaClient({ brokers: [address], clientId: 'kafka-rx-versions-spec' });
  try {
    const topic = uniqueTopic('versions');
    await client.createTopics([{ name: topic, numPartitions: 2, replicationFactor: 1 }]);
    // acks all: idempotent, so InitProducerId is negotiated and used too.
    const producer = client.producer(topic, { lingerMs: 5, requiredAcks: -1 });
    const reports: DeliveryReport[] = [];
    producer.deliveryReports$.subscribe((report) => reports.push(report));
    for (let i = 0; i < count; i++) await producer.produce(Buffer.from(`record-${i}`), Buffer.from(`key-${i % 7}`));
    await producer.stop();
    const read = await consumeAll(topic, { bootstrap: address, count });
    return { reports, read: read.map((r) => r.value!.toString()) };
  } finally {
    await client.close();
  }
}

describe('version negotiation against a real 3.9 and a real 4.x broker', function () {
  this.timeout(300_000);
  let other: LocalCluster;
  let newest: LocalCluster | undefined;
  const addresses: Record<'3.x' | '4.x', string> = { '3.x': '', '4.x': '' };

  before(async function () {
    this.timeout(300_000);
    const run = brokers()[0];
    const runGeneration = generationOf(await RawClient.versionsOf(run));
    other = await startCluster({ nodes: 1, kafkaVersion: runGeneration === '4.x' ? '3.9.2' : defaultKafkaVersion() });
    const otherGeneration = generationOf(await RawClient.versionsOf(other.brokers[0]));
    expect(otherGeneration, 'the second broker is of the other generation').to.not.equal(runGeneration);
    addresses[runGeneration] = run;
    addresses[otherGeneration] = other.brokers[0];
    // The 4.x expectations are the default (newest) release's lists: a run on an older 4.x (the CI
    // matrix's 4.1.2, which has no ApiVersions v5) gets the newest one started beside it for them.
    if (runGeneration === '4.x' && kafkaVersion() !== defaultKafkaVersion()) {
      newest = await startCluster({ nodes: 1, kafkaVersion: defaultKafkaVersion() });
      addresses['4.x'] = newest.brokers[0];
    }
  });

  after(async () => {
    await other?.stop();
    await newest?.stop();
  });

  for (const generation of ['3.x', '4.x'] as const) {
    it(`a connection to the ${generation} broker picks the highest version each side speaks`, async () => {
      const listed = await RawClient.versionsOf(addresses[generation]);
      const connection = connectionTo(addresses[generation]);
      await connection.connect();
      try {
        for (const api of [ApiVersions, Metadata, Produce, InitProducerId]) {
          expect(connection.versionOf(api), `${api.name} on ${generation}`).to.equal(EXPECTED[generation][api.name as keyof (typeof EXPECTED)['4.x']]);
          expect(connection.versionOf(api)).to.equal(negotiateVersion(api, listed));
        }
      } finally {
        await connection.close();
      }
    });

    it(`a producer writes to the ${generation} broker at its versions, read back by kcat`, async () => {
      const { reports, read } = await produceAndReadBack(addresses[generation], 500);
      expect(reports.filter((r) => r.error).map((r) => String(r.error))).to.deep.equal([]);
      expect(reports).to.have.length(500);
      expect(read.sort()).to.deep.equal(Array.from({ length: 500 }, (_, i) => `record-${i}`).sort());
    });
  }

  it('ApiVersions v5 is answered by 4.x, and by 3.9 with UNSUPPORTED_VERSION naming v4 as its newest', async () => {
    const raw = await RawClient.open(addresses['3.x']);
    try {
      const answer = (await raw.request(ApiVersions, 5, {})).response;
      expect(answer).to.include({ errorCode: 35, bodyVersion: 0 });
      expect(brokerRangeOf(answer, ApiVersions.apiKey)!.maxVersion).to.equal(4);
    } finally {
      raw.close();
    }
    const raw4 = await RawClient.open(addresses['4.x']);
    try {
      expect((await raw4.request(ApiVersions, 5, {})).response).to.include({ errorCode: 0, bodyVersion: 5 });
    } finally {
      raw4.close();
    }
  });

  it('ApiVersions v5 on 4.x takes the cluster id and node id kafka-rx means to reach', async () => {
    const raw = await RawClient.open(addresses['4.x']);
    try {
      const metadata = (await raw.request(Metadata, 13, { topics: [] })).response;
      const [host, port] = addresses['4.x'].split(':');
      const self = metadata.brokers.find((b) => b.host === host && b.port === Number(port))!;
      const matching = (await raw.request(ApiVersions, 5, { clusterId: metadata.clusterId, nodeId: self.nodeId })).response;
      expect(matching.errorCode).to.equal(0);
      const unnamed = (await raw.request(ApiVersions, 5, { clusterId: null, nodeId: -1 })).response;
      expect(unnamed.errorCode).to.equal(0);
      expect(matching.apiKeys).to.deep.equal(unnamed.apiKeys);
      // KIP-1242: a connection that reached another cluster than it meant to is told so.
      const elsewhere = (await raw.request(ApiVersions, 5, { clusterId: 'another-cluster-id', nodeId: self.nodeId })).response;
      expect(kafkaErrorFor(elsewhere.errorCode)).to.be.instanceOf(RebootstrapRequiredError);
    } finally {
      raw.close();
    }
  });

  it('Produce v13 names topics by id on 4.x: an id the broker does not know is answered UNKNOWN_TOPIC_ID', async () => {
    const raw = await RawClient.open(addresses['4.x']);
    try {
      const unknownId = randomBytes(16);
      const { response } = await raw.request(Produce, 13, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5000,
        topics: [{ name: '', topicId: unknownId, partitions: [{ index: 0, records: tinyRecordBatch(['x'], Date.now()) }] }],
      });
      expect(response.responses[0].name).to.equal(null);
      expect(response.responses[0].topicId!.equals(unknownId)).to.equal(true);
      expect(response.responses[0].partitionResponses[0]).to.include({ index: 0, errorCode: 100 });
    } finally {
      raw.close();
    }
  });

  describe('InitProducerId v6 on a 4.x broker that lists it (unstable.api.versions.enable=true)', () => {
    let unstable: LocalCluster;

    before(async function () {
      this.timeout(300_000);
      unstable = await startCluster({ nodes: 1, kafkaVersion: defaultKafkaVersion(), brokerSettings: { 'unstable.api.versions.enable': 'true' } });
    });

    after(async () => {
      await unstable?.stop();
    });

    it('is negotiated, hands out an idempotent producer id, and reads the ongoing-transaction fields', async () => {
      const listed = await RawClient.versionsOf(unstable.brokers[0]);
      expect(brokerRangeOf(listed, InitProducerId.apiKey)!.maxVersion).to.be.at.least(6);
      expect(negotiateVersion(InitProducerId, listed)).to.equal(6);
      const raw = await RawClient.open(unstable.brokers[0]);
      try {
        let response = (await raw.request(InitProducerId, 6, { transactionalId: null, transactionTimeoutMs: 60_000 })).response;
        // A fresh broker answers COORDINATOR_LOAD_IN_PROGRESS (14, retriable) for a moment.
        for (let attempt = 0; attempt < 40 && response.errorCode === 14; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          response = (await raw.request(InitProducerId, 6, { transactionalId: null, transactionTimeoutMs: 60_000 })).response;
        }
        expect(response.errorCode).to.equal(0);
        expect(response.producerId >= 0n).to.equal(true);
        expect(response).to.include({ ongoingTxnProducerId: -1n, ongoingTxnProducerEpoch: -1 });
      } finally {
        raw.close();
      }
      const { reports, read } = await produceAndReadBack(unstable.brokers[0], 200);
      expect(reports.filter((r) => r.error)).to.have.length(0);
      expect(read).to.have.length(200);
    });
  });
});
