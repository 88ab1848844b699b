// The ground the other integration specs stand on: the broker answers, topics get exactly the
// partitions asked for, and kcat writes and reads back exact bytes (binary, null, empty, headers).
import { expect } from 'chai';
import { brokers } from './support/broker.js';
import { consumeAll, metadata, produce, type KcatProduceRecord } from './support/kcat.js';
import { createTopic, uniqueTopic } from './support/topics.js';

describe('foundation: real Kafka and kcat', () => {
  it('has a broker that answers a metadata request', async () => {
    const meta = await metadata();
    expect(meta.brokers.length).to.be.greaterThan(0);
    const addresses = meta.brokers.map((b) => `${b.host}:${b.port}`);
    expect(brokers().some((b) => addresses.includes(b))).to.equal(true, `KAFKA_BROKERS ${brokers()} not among ${addresses}`);
  });

  it('creates a topic with exactly 3 partitions', async () => {
    const topic = uniqueTopic('found-create');
    await createTopic(topic, { partitions: 3 });
    const t = (await metadata({ topic })).topics[0];
    expect(t.error).to.equal(undefined);
    expect(t.partitions.map((p) => p.partition)).to.deep.equal([0, 1, 2]);
  });

  it('reports an unknown topic as such (auto-creation is off)', async () => {
    const topic = uniqueTopic('found-missing');
    const t = (await metadata({ topic })).topics[0];
    expect(t.error).to.match(/Unknown topic/);
  });

  it('round-trips keys, values, null key, empty value and binary bytes through all 3 partitions', async () => {
    const topic = uniqueTopic('found-roundtrip');
    await createTopic(topic, { partitions: 3 });
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const perPartition: KcatProduceRecord[][] = [0, 1, 2].map((p) => [
      { key: `k${p}-a`, value: `v${p}-a` },
      { key: null, value: `no key on ${p}` },
      { key: `k${p}-empty`, value: '' },
      { key: '', value: `empty key on ${p}` },
      { key: Buffer.concat([all, Buffer.from([p])]), value: Buffer.concat([Buffer.from([p]), all, Buffer.from('\n\r\x1eKRX\x1f\n')]) },
      { key: `k${p}-null`, value: null },
    ]);
    for (let p = 0; p < 3; p++) await produce(topic, perPartition[p], { partition: p });

    const got = await consumeAll(topic);
    expect(got).to.have.length(18);
    for (let p = 0; p < 3; p++) {
      const inPartition = got.filter((r) => r.partition === p);
      expect(inPartition.map((r) => r.offset)).to.deep.equal([0n, 1n, 2n, 3n, 4n, 5n]);
      inPartition.forEach((r, i) => {
        const sent = perPartition[p][i];
        const asBuf = (x: Buffer | string | null | undefined) => (x === null || x === undefined ? null : Buffer.from(x));
        expect(r.key, `key of ${p}@${i}`).to.deep.equal(asBuf(sent.key));
        expect(r.value, `value of ${p}@${i}`).to.deep.equal(asBuf(sent.value));
        expect(r.headers).to.deep.equal([]);
        expect(Math.abs(r.timestamp - Date.now())).to.be.lessThan(120_000);
      });
    }
  });

  it('round-trips headers with text, empty and null values', async () => {
    const topic = uniqueTopic('found-headers');
    await createTopic(topic, { partitions: 1 });
    // kcat -H sets the same headers on every record; "name" without "=" is a null value.
    await produce(topic, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }], { headers: { 'h-one': 'x,y=z', 'h-empty': '', 'h-null': null } });
    const got = await consumeAll(topic, { count: 2 });
    expect(got).to.have.length(2);
    for (const r of got) {
      expect(r.headers).to.deep.equal([
        { key: 'h-one', value: Buffer.from('x,y=z') },
        { key: 'h-empty', value: Buffer.from('') },
        { key: 'h-null', value: null },
      ]);
    }
  });

  it('reads 100,000 records back in a few seconds', async function () {
    this.timeout(120_000);
    const topic = uniqueTopic('found-bulk');
    await createTopic(topic, { partitions: 3 });
    const n = 100_000;
    const records = Array.from({ length: n }, (_, i) => ({ key: `key-${i}`, value: `value-${i}-${'x'.repeat(i % 50)}` }));
    await produce(topic, records, { partitioner: 'murmur2_random' });
    const started = Date.now();
    const got = await consumeAll(topic, { headers: false, timeoutMs: 60_000 });
    const ms = Date.now() - started;
    expect(got).to.have.length(n);
    const values = new Map(got.map((r) => [r.key!.toString(), r.value!.toString()]));
    for (let i = 0; i < n; i += 997) expect(values.get(`key-${i}`)).to.equal(records[i].value);
    expect(new Set(got.map((r) => r.partition))).to.have.property('size', 3);
    expect(ms).to.be.lessThan(30_000);
  });
});
