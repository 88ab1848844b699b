// One producer for many topics on a 3-node cluster of its own: the topics' partitions are led by
// different brokers, and each broker still gets one Produce request per burst carrying the batches
// of every topic partition it leads.
import { expect } from 'chai';
import { firstValueFrom } from 'rxjs';
import { KafkaClient, type Producer } from '../../lib/index.js';
import { startCluster, type LocalCluster } from '../support/broker.js';
import { consumeAll, metadata } from '../support/kcat.js';
import { createTopicSet } from '../support/topics.js';

const TOPICS = 10;
const BURSTS = 30;
const BURST = 600;

describe('multi-topic producer on a 3-node cluster', function () {
  this.timeout(300_000);
  let cluster: LocalCluster;
  let client: KafkaClient;
  let topics: string[];

  before(async () => {
    cluster = await startCluster({ nodes: 3 });
    topics = await createTopicSet('multi-3node', TOPICS, { partitions: 6, bootstrap: cluster.bootstrap, concurrency: 2 });
    client = new KafkaClient({ brokers: cluster.bootstrap, clientId: 'multi-topic-3node' });
  });
  after(async () => {
    await client?.close();
    await cluster?.stop();
  });

  it('sends each broker one request per burst for all topics it leads, as one producer of one topic does; kcat reads each topic exactly', async () => {
    const options = { lingerMs: 60_000, statsIntervalMs: 10 };
    const run = async (producer: Producer, topicOf: (i: number) => string | undefined, label: string) => {
      for (let b = 0; b < BURSTS; b++) {
        const sends: Array<Promise<unknown>> = [];
        for (let i = 0; i < BURST; i++) {
          const n = b * BURST + i;
          const topic = topicOf(n);
          sends.push(topic === undefined ? producer.produce(Buffer.from(`${label}${n}`)) : producer.produce(Buffer.from(`${label}${n}`), { topic }));
        }
        await Promise.all(sends);
        await producer.flush();
      }
      return (await firstValueFrom(producer.stats$)).requestsPerBroker;
    };
    const multi = client.producer(options);
    const multiRequests = await run(multi, (n) => topics[n % TOPICS], 'm');
    const single = client.producer(topics[0], options);
    const singleRequests = await run(single, () => undefined, 's');
    console.log(`      [3 nodes] ${BURSTS} bursts of ${BURST}: requests per broker, one producer over ${TOPICS} topics ${JSON.stringify(multiRequests)}, one producer of one topic ${JSON.stringify(singleRequests)}`);

    // Every broker leads partitions of the topics (replication factor 1, 60 partitions over 3 nodes).
    expect(Object.keys(multiRequests).sort()).to.deep.equal(['1', '2', '3']);
    for (const broker of Object.keys(multiRequests)) {
      expect(multiRequests[Number(broker)], `broker ${broker}`).to.be.at.most(BURSTS);
      if (singleRequests[Number(broker)] !== undefined) expect(multiRequests[Number(broker)], `broker ${broker}`).to.be.at.most(singleRequests[Number(broker)]);
    }
    const stats = multi.statsSnapshot();
    expect(stats.acknowledged).to.equal(BURSTS * BURST);
    await Promise.all([multi.stop(), single.stop()]);
    for (const topic of topics) {
      const read = (await consumeAll(topic, { bootstrap: cluster.bootstrap, timeoutMs: 60_000, headers: false })).filter((r) => r.value!.toString().startsWith('m'));
      expect(read.length, topic).to.equal((BURSTS * BURST) / TOPICS);
      expect(new Set(read.map((r) => r.value!.toString())).size, topic).to.equal((BURSTS * BURST) / TOPICS);
    }
  });

  for (const [label, options] of [['default options, acks all', {}], ['lingerMs 5, acks all: the kill meets requests in flight', { lingerMs: 5 }]] as const) {
    it(`loses and duplicates nothing in any topic when a leader is killed and restarted mid-run (${label})`, async () => {
      const replicated = await createTopicSet('multi-3node-rf3', 5, { partitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': 2 }, bootstrap: cluster.bootstrap, concurrency: 2 });
      const victim = (await metadata({ bootstrap: cluster.bootstrap, topic: replicated[0] })).topics[0].partitions[0].leader;
      const producer = client.producer({ requiredAcks: -1, ...options });
      const failures: string[] = [];
      producer.deliveryReports$.subscribe((report) => {
        if (report.error !== undefined) failures.push(report.error.name);
      });
      const COUNT = 60_000;
      for (let i = 0; i < COUNT; i++) {
        if (i === 15_000) await cluster.killNode(victim);
        if (i === 40_000) await cluster.startNode(victim);
        const t = i % replicated.length;
        await producer.produce(Buffer.from(`${t}:${Math.floor(i / replicated.length)}`), { topic: replicated[t], key: Buffer.from(`k${i % 50}`) });
      }
      await producer.flush();
      const stats = producer.statsSnapshot();
      await producer.stop();
      console.log(`      [3 nodes, ${label}, node ${victim} killed at 15,000 and restarted at 40,000] acknowledged ${stats.acknowledged}, failed ${stats.failed}, retries ${stats.retries}, requests ${JSON.stringify(stats.requestsPerBroker)}`);
      expect(failures).to.deep.equal([]);
      expect(stats.acknowledged).to.equal(COUNT);
      for (let t = 0; t < replicated.length; t++) {
        const read = await consumeAll(replicated[t], { bootstrap: cluster.bootstrap, timeoutMs: 60_000, headers: false });
        expect(read.length, `${replicated[t]}: records`).to.equal(COUNT / replicated.length);
        expect(new Set(read.map((r) => r.value!.toString())).size, `${replicated[t]}: distinct`).to.equal(COUNT / replicated.length);
        // Each partition in produce order (consumeAll sorts by partition, then offset).
        const lastOfPartition = new Map<number, number>();
        for (const record of read) {
          const sequence = Number(record.value!.toString().split(':')[1]);
          expect(sequence > (lastOfPartition.get(record.partition) ?? -1), `${replicated[t]}/${record.partition} out of order at ${sequence}`).to.equal(true);
          lastOfPartition.set(record.partition, sequence);
        }
      }
    });
  }
});
