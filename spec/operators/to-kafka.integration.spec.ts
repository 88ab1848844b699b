import { expect } from 'chai';
import { lastValueFrom, map, range, toArray } from 'rxjs';
import { KafkaClient } from '../../lib/index.js';
import { acknowledged, failed, lazyFrom, produceTo, throwOnFailure, toKafka } from '../../operators/index.js';
import { bootstrap } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { uniqueTopic } from '../support/topics.js';

function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

describe('operators against the real broker', function () {
  this.timeout(180_000);
  let client: KafkaClient;
  before(() => {
    client = new KafkaClient({ brokers: bootstrap(), clientId: 'kafka-rx-operators-spec' });
  });
  after(() => client.close());

  async function topicWith(partitions: number) {
    const name = uniqueTopic('ops');
    await client.createTopics([{ name, numPartitions: partitions, replicationFactor: 1 }]);
    return name;
  }

  it('pipes 100,000 values from range() through toKafka, reports in input order, kcat reads them all', async () => {
    const topic = await topicWith(6);
    const producer = client.producer(topic, { lingerMs: 10, minQueuedMessages: 10_000 });
    const passThroughs = await lastValueFrom(
      range(0, 100_000).pipe(
        toKafka(producer, { toRecord: (n) => ({ value: Buffer.from(String(n)) }), maxInFlight: 20_000, maxBuffered: 100_000 }),
        throwOnFailure(),
        map((report) => report.passThrough),
        toArray(),
      ),
    );
    await producer.stop();
    expect(passThroughs).to.have.length(100_000);
    expect(passThroughs.every((n, i) => n === i)).to.equal(true);
    const read = await consumeAll(topic, { count: 100_000, headers: false, timeoutMs: 120_000 });
    expect(new Set(read.map((r) => r.value!.toString())).size).to.equal(100_000);
  });

  it('reads a slow lazy source no further ahead than maxInFlight', async () => {
    const topic = await topicWith(1);
    const producer = client.producer(topic, { lingerMs: 30 });
    let read = 0;
    let maxAhead = 0;
    let reported = 0;
    async function* slowSource() {
      for (let i = 0; i < 300; i++) {
        if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        read++;
        maxAhead = Math.max(maxAhead, read - reported);
        yield Buffer.from(`slow-${i}`);
      }
    }
    const reports = await lastValueFrom(
      lazyFrom(slowSource()).pipe(
        toKafka(producer, { maxInFlight: 10 }),
        map((r) => {
          reported++;
          return r;
        }),
        toArray(),
      ),
    );
    await producer.stop();
    expect(reports).to.have.length(300);
    // Never more than maxInFlight read and unreported, plus the one value read to size it.
    expect(maxAhead).to.be.at.most(11);
    expect((await consumeAll(topic, { count: 300, headers: false })).length).to.equal(300);
  });

  it("fails the stream with onError: 'fail' after reporting what was in flight", async () => {
    const topic = await topicWith(2);
    const producer = client.producer(topic, { lingerMs: 5 });
    const seen: string[] = [];
    let error: unknown;
    await lastValueFrom(
      range(0, 50).pipe(
        // Partition 7 does not exist: the producer refuses that record with a typed error.
        toKafka(producer, { toRecord: (n) => ({ value: Buffer.from(String(n)), partition: n === 20 ? 7 : n % 2 }), onError: 'fail' }),
        map((r) => {
          seen.push(String(r.passThrough) + (r.error ? '!' : ''));
          return r;
        }),
      ),
    ).catch((e) => (error = e));
    await producer.stop();
    expect(error).to.be.an('error');
    expect(seen).to.include('20!');
    expect(seen.indexOf('20!')).to.equal(20);
    expect(seen.length).to.be.at.most(50);
  });

  it('produceTo makes, uses and stops its own producer, leaving no timers or sockets behind', async () => {
    const topic = await topicWith(1);
    const own = new KafkaClient({ brokers: bootstrap(), clientId: 'kafka-rx-produce-to' });
    const before = activeHandles();
    const results = await lastValueFrom(
      range(0, 1000).pipe(
        map((n) => Buffer.from(`v${n}`)),
        produceTo({ topic, lingerMs: 5 }, own),
        acknowledged(),
        toArray(),
      ),
    );
    expect(results).to.have.length(1000);
    const failures = await lastValueFrom(range(0, 3).pipe(map((n) => Buffer.from(`w${n}`)), produceTo({ topic, lingerMs: 5 }, own), failed(), toArray()));
    expect(failures).to.deep.equal([]);
    await own.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = activeHandles();
    expect(after.TCPSocketWrap ?? 0, JSON.stringify({ before, after })).to.be.at.most(before.TCPSocketWrap ?? 0);
    expect(after.Timeout ?? 0, JSON.stringify({ before, after })).to.be.at.most(before.Timeout ?? 0);
  });
});
