// One producer for many topics on a 3-node cluster of its own: the topics' partitions are led by
// different brokers, and each broker still gets one Produce request per burst carrying the batches
// of every topic partition it leads.
import { expect } from 'chai';
import { firstValueFrom } from 'rxjs';
import { KafkaClient, type Producer } from '../../lib/index.js';
import { startCluster, type LocalCluster } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
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
});
