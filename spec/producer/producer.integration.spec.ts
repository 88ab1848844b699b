import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { KafkaClient, Murmur2Partitioner, type DeliveryReport, type ProducerOptions } from '../../lib/index.js';
import { bootstrap } from '../support/broker.js';
import { consumeAll, produce as kcatProduce } from '../support/kcat.js';
import { uniqueTopic } from '../support/topics.js';

describe('Producer against the real broker, read back with kcat', function () {
  this.timeout(180_000);
  let client: KafkaClient;

  before(() => {
    client = new KafkaClient({ brokers: bootstrap(), clientId: 'kafka-rx-spec' });
  });
  after(async () => {
    await client.close();
  });

  async function topicWith(partitions: number): Promise<string> {
    const name = uniqueTopic('producer');
    await client.createTopics([{ name, numPartitions: partitions, replicationFactor: 1 }]);
    return name;
  }

  async function produceMany(topic: string, count: number, options: ProducerOptions) {
    const producer = client.producer(topic, { lingerMs: 10, minQueuedMessages: 5000, ...options });
    const reports: DeliveryReport[] = [];
    producer.deliveryReports$.subscribe((report) => reports.push(report));
    const sent: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const value = Buffer.alloc(100);
      value.writeUInt32BE(i, 0);
      randomBytes(16).copy(value, 4);
      sent.push(value);
      await producer.produce(value, Buffer.from(`key-${i % 97}`));
    }
    const idempotent = producer.options.enableIdempotence;
    await producer.stop();
    // After stop(): the last batches are sent (and may be retried) while stop() drains them.
    const { retries } = producer.statsSnapshot();
    return { reports, sent, retries, idempotent };
  }

  const runs: Array<{ compression: ProducerOptions['compression']; acks: 0 | 1 | -1; partitions: number }> = [
    { compression: 'none', acks: 1, partitions: 1 },
    { compression: 'none', acks: 0, partitions: 1 },
    { compression: 'none', acks: -1, partitions: 6 },
    { compression: 'gzip', acks: -1, partitions: 6 },
    { compression: 'snappy', acks: 1, partitions: 6 },
    { compression: 'lz4', acks: -1, partitions: 6 },
    { compression: 'zstd', acks: 1, partitions: 6 },
  ];

  for (const { compression, acks, partitions } of runs) {
    it(`produces 100,000 messages (${compression}, acks ${acks}, ${partitions} partition(s)) that kcat reads back exactly`, async () => {
      const topic = await topicWith(partitions);
      const { reports, sent, retries, idempotent } = await produceMany(topic, 100_000, { compression, requiredAcks: acks });
      expect(reports.filter((r) => r.error).map((r) => String(r.error))).to.deep.equal([]);
      expect(reports).to.have.length(100_000);
      const read = await consumeAll(topic, { count: 100_000, timeoutMs: 120_000, headers: false });
      expect(read).to.have.length(100_000);
      const byIndex = new Map(read.map((record) => [record.value!.readUInt32BE(0), record]));
      expect(byIndex.size).to.equal(100_000);
      for (let i = 0; i < sent.length; i += 997) {
        const record = byIndex.get(i)!;
        expect(record.value!.equals(sent[i])).to.equal(true);
        expect(record.key!.toString()).to.equal(`key-${i % 97}`);
      }
      if (acks !== 0) {
        // Offsets reported are where kcat finds the records.
        for (const report of reports.slice(0, 2000)) {
          const record = byIndex.get(report.message.value!.readUInt32BE(0))!;
          expect(record.partition).to.equal(report.message.partition);
          expect(record.offset).to.equal(report.message.offset);
        }
      }
      // Within a partition, produce() order is kept when nothing was retried (a brand-new topic's
      // first request may meet NOT_LEADER_OR_FOLLOWER), and always with idempotence (acks all).
      if (acks === -1) expect(idempotent).to.equal(true);
      if (retries === 0 || idempotent) for (let p = 0; p < partitions; p++) {
        const indices = read.filter((r) => r.partition === p).map((r) => r.value!.readUInt32BE(0));
        expect(indices).to.deep.equal([...indices].sort((a, b) => a - b));
      }
    });
  }

  it('writes keys, values, headers, timestamps, null keys, tombstones, empty and 1 MB values field for field', async () => {
    const topic = await topicWith(3);
    const producer = client.producer(topic, { lingerMs: 5, maxRequestSize: 2_000_000 });
    const big = randomBytes(1_000_000);
    const cases = [
      { value: Buffer.from('plain'), key: Buffer.from('k1'), headers: [{ key: 'h1', value: Buffer.from('v1') }, { key: 'h2', value: null }], timestamp: 1_600_000_000_123, partition: 0 },
      { value: Buffer.from('no key'), key: null, timestamp: 1_600_000_000_456, partition: 1 },
      { value: null, key: Buffer.from('tombstone'), timestamp: 1_600_000_000_789, partition: 2 },
      { value: Buffer.alloc(0), key: Buffer.from('empty'), timestamp: 1_600_000_001_000, partition: 0 },
      { value: big, key: Buffer.from('big'), timestamp: 1_600_000_002_000, partition: 1 },
    ];
    const reports: DeliveryReport[] = [];
    producer.deliveryReports$.subscribe((r) => reports.push(r));
    for (const c of cases) await producer.produce(c.value, { key: c.key, headers: c.headers, timestamp: c.timestamp, partition: c.partition });
    await producer.stop();
    expect(reports.map((r) => r.error)).to.deep.equal(cases.map(() => undefined));
    const read = await consumeAll(topic, { count: cases.length, timeoutMs: 60_000 });
    for (const c of cases) {
      const record = read.find((r) => (r.key === null ? c.key === null : c.key !== null && r.key.equals(c.key)))!;
      expect(record, `record with key ${c.key}`).to.not.equal(undefined);
      expect(record.partition).to.equal(c.partition);
      expect(record.timestamp).to.equal(c.timestamp);
      if (c.value === null) expect(record.value).to.equal(null);
      else expect(record.value!.equals(c.value)).to.equal(true);
      expect(record.headers).to.deep.equal(c.headers ?? []);
    }
  });

  it('places keys on the partitions the Java client (and kcat -X partitioner=murmur2) chooses', async () => {
    const ours = await topicWith(6);
    const theirs = await topicWith(6);
    const keys = Array.from({ length: 300 }, (_, i) => `user-${i}-${i * 7919}`);
    const producer = client.producer(ours, { partitioner: new Murmur2Partitioner(), lingerMs: 5 });
    for (const key of keys) await producer.produce(Buffer.from('v'), Buffer.from(key));
    await producer.stop();
    await kcatProduce(theirs, keys.map((key) => ({ key, value: 'v' })), { partitioner: 'murmur2' });
    const placed = async (topic: string) => new Map((await consumeAll(topic, { count: keys.length, headers: false })).map((r) => [r.key!.toString(), r.partition]));
    const [ourPlacement, theirPlacement] = await Promise.all([placed(ours), placed(theirs)]);
    expect(ourPlacement.size).to.equal(keys.length);
    expect(new Set(ourPlacement.values()).size).to.equal(6);
    for (const key of keys) expect(ourPlacement.get(key), key).to.equal(theirPlacement.get(key));
  });

  it('resolves produce() with the offset in sync mode', async () => {
    const topic = await topicWith(1);
    const producer = client.producer(topic, { sync: true });
    const offsets = [];
    for (let i = 0; i < 20; i++) offsets.push((await producer.produce(Buffer.from(`sync-${i}`))).offset);
    await producer.stop();
    expect(offsets).to.deep.equal(offsets.map((_, i) => BigInt(i)));
    const read = await consumeAll(topic, { count: 20 });
    expect(read.map((r) => r.value!.toString())).to.deep.equal(offsets.map((_, i) => `sync-${i}`));
  });

  it('reports an unknown topic per message instead of hanging', async () => {
    const producer = client.producer(uniqueTopic('missing'), { lingerMs: 5, autoStart: true });
    let error: unknown;
    await producer.produce(Buffer.from('x')).catch((e) => (error = e));
    expect(error).to.be.an('error');
    expect((error as Error).name).to.match(/UnknownTopicOrPartition/);
    await producer.stop();
  });
});
