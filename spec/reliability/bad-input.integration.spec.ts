// Bad input that needs the real broker: records too large for maxRequestSize or for the topic's
// max.message.bytes get a typed error each and cost no other message its delivery (kcat reads
// exactly the others), and an unknown topic (auto-creation off) is reported per produce() call
// after the metadata retries instead of hanging.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { KafkaClient, MessageSizeTooLargeError, RecordTypeError, UnknownTopicOrPartitionError, type DeliveryReport, type Producer, type ProducerOptions } from '../../lib/index.js';
import { brokers } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { uniqueTopic } from '../support/topics.js';
import { expectEveryMessageReportedOnce, Outcomes, valueOf } from './outcomes.js';

describe('reliability: bad input against the real broker', function () {
  this.timeout(60_000);
  let client: KafkaClient;

  before(() => {
    client = new KafkaClient({ brokers: brokers(), clientId: 'reliability-bad-input' });
  });
  after(async () => {
    await client.close();
  });

  /** Every `every`-th message is `big` bytes long; the rest are small. Returns the big ones' indices. */
  async function produceMixed(producer: Producer, outcomes: Outcomes, count: number, every: number, big: number): Promise<Set<number>> {
    const bigOnes = new Set<number>();
    for (let i = 0; i < count; i++) {
      const label = valueOf(outcomes.label, i);
      const value = i % every === every - 1 ? Buffer.concat([label, Buffer.from('|'), randomBytes(big)]) : label;
      if (value.length > 1000) bigOnes.add(i);
      await producer.produce(value, { key: Buffer.from(`k${i % 7}`) });
      outcomes.produced++;
    }
    return bigOnes;
  }

  async function run(label: string, topicConfigs: Record<string, string>, options: ProducerOptions, big: number) {
    const topic = uniqueTopic('bad-input');
    await client.createTopics([{ name: topic, numPartitions: 2, replicationFactor: 1, configs: topicConfigs }]);
    const producer = client.producer(topic, { lingerMs: 20, minQueuedMessages: 200, ...options });
    const outcomes = new Outcomes(label, producer);
    const bigOnes = await produceMixed(producer, outcomes, 300, 25, big);
    await producer.stop();
    const expected = 300 - bigOnes.size;
    await consumeAll(topic, { count: expected, timeoutMs: 20_000, headers: false });
    const read = await consumeAll(topic, { timeoutMs: 20_000, headers: false });
    const tally = outcomes.tally(read, producer.statsSnapshot().retries);
    expectEveryMessageReportedOnce(tally);
    expect(outcomes.failedIndices()).to.deep.equal([...bigOnes].sort((a, b) => a - b));
    for (const report of outcomes.errors()) expect(report.error).to.be.instanceOf(MessageSizeTooLargeError);
    expect(tally.acked).to.equal(expected);
    expect(tally.duplicated).to.equal(0);
  }

  it('fails only the records larger than maxRequestSize, with MessageSizeTooLargeError', async () => {
    await run('larger than maxRequestSize', {}, { maxRequestSize: 4096 }, 8_000);
  });

  it('fails only the records larger than the topic\'s max.message.bytes (the broker refuses them), batch-mates delivered', async () => {
    await run('larger than max.message.bytes', { 'max.message.bytes': '20000' }, { requiredAcks: 1 }, 30_000);
  });

  it('the same with the idempotent producer: batch-mates delivered, nothing twice', async () => {
    await run('larger than max.message.bytes, idempotent', { 'max.message.bytes': '20000' }, { requiredAcks: -1, enableIdempotence: true }, 30_000);
  });

  it('reports an unknown topic to each produce() call after the metadata retries, not a hang, and delivers once it exists', async () => {
    const topic = uniqueTopic('not-yet-created');
    const producer = client.producer(topic, { lingerMs: 5 });
    const reports: unknown[] = [];
    producer.deliveryReports$.subscribe((report) => reports.push(report));
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => producer.produce(Buffer.from(`m${i}`))));
    const elapsed = Date.now() - started;
    const errors = results.map((r) => (r.status === 'rejected' ? r.reason : null));
    for (const error of errors) expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
    expect(reports, 'refused messages were never accepted, so they have no delivery report').to.have.length(0);
    // Once the topic exists the same producer looks it up again and delivers.
    await client.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
    await producer.produce(Buffer.from('after creation'));
    await producer.stop();
    expect(reports).to.have.length(1);
    expect((reports[0] as { error?: unknown }).error).to.equal(undefined);
    const read = await consumeAll(topic, { count: 1, timeoutMs: 20_000 });
    expect(read.map((r) => r.value!.toString())).to.deep.equal(['after creation']);
    console.log(`      [unknown topic] 50 produce() calls rejected with UnknownTopicOrPartitionError after ${elapsed} ms of metadata retries; delivered once created`);
  });

  it('refuses timestamps a record cannot hold (1e20, -1e20, 2^63) one by one; the batch around them is written as reported, Map headers included', async () => {
    const topic = uniqueTopic('bad-timestamps');
    await client.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
    const producer = client.producer(topic, { lingerMs: 50, requiredAcks: 1 });
    const reports: DeliveryReport[] = [];
    producer.deliveryReports$.subscribe((report) => reports.push(report));
    const base = Date.now();
    const refused: unknown[] = [];
    for (let i = 0; i < 1000; i++) {
      await producer.produce(Buffer.from(`good-${i}`), { timestamp: base + i, headers: new Map([['n', String(i)]]) });
      if (i % 100 === 50) {
        for (const timestamp of [1e20, -1e20, 2 ** 63]) refused.push(await producer.produce(Buffer.from('bad'), { timestamp }).then(() => 'accepted', (e: unknown) => e));
      }
    }
    await producer.stop();
    expect(refused).to.have.length(30);
    for (const error of refused) expect(error).to.be.instanceOf(RecordTypeError);
    expect(reports).to.have.length(1000);
    expect(reports.filter((r) => r.error !== undefined)).to.have.length(0);
    const read = await consumeAll(topic, { count: 1000, timeoutMs: 30_000 });
    expect(read.map((r) => r.value!.toString())).to.deep.equal(Array.from({ length: 1000 }, (_, i) => `good-${i}`));
    expect(read.map((r) => r.timestamp)).to.deep.equal(reports.map((r) => r.message.timestamp));
    expect(read.map((r) => r.timestamp)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => base + i));
    expect(read[7].headers).to.deep.equal([{ key: 'n', value: Buffer.from('7') }]);
  });

  it('answers later produce() calls to a missing topic from a short-lived cache instead of waiting out the retries each time', async () => {
    const topic = uniqueTopic('missing-cached');
    const producer = client.producer(topic, { lingerMs: 5 });
    const first = Date.now();
    expect(await producer.produce(Buffer.from('m')).then(() => undefined, (e: unknown) => e)).to.be.instanceOf(UnknownTopicOrPartitionError);
    const firstMs = Date.now() - first;
    const later = Date.now();
    for (let i = 0; i < 5; i++) {
      const error = await producer.produce(Buffer.from(`m${i}`)).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
      expect((error as Error).message).to.contain('the cluster said so less than');
    }
    const laterMs = Date.now() - later;
    // Each uncached call waits out the metadata retries (about 6 s); five cached ones together far less.
    expect(laterMs).to.be.below(firstMs);
    // createTopics() through the same client forgets the answer at once.
    await client.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
    await producer.produce(Buffer.from('after creation'));
    await producer.stop();
    const read = await consumeAll(topic, { count: 1, timeoutMs: 20_000 });
    expect(read.map((r) => r.value!.toString())).to.deep.equal(['after creation']);
    console.log(`      [missing topic] first produce() rejected after ${firstMs} ms, the next five together after ${laterMs} ms`);
  });
});
