import { expect } from 'chai';
import { from, lastValueFrom, map, mergeMap, toArray } from 'rxjs';
import { KafkaClient, Murmur2Partitioner, type DeliveryReport } from '../../lib/index.js';
import { routeToKafka, toDeadLetter, toKafka } from '../../operators/index.js';
import { bootstrap } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

const headerText = (headers: readonly { key: string; value: Buffer | null }[]) =>
  Object.fromEntries(headers.map((h) => [h.key, h.value?.toString() ?? null]));

describe('routing and dead-letter operators against the real broker', function () {
  this.timeout(180_000);
  let client: KafkaClient;
  before(() => {
    client = new KafkaClient({ brokers: bootstrap(), clientId: 'kafka-rx-dataflow-spec' });
  });
  after(() => client.close());

  it('routeToKafka: 30,000 values over 3 topics with one budget; kcat reads each topic exactly, every key in order', async () => {
    const topics = [uniqueTopic('route-a'), uniqueTopic('route-b'), uniqueTopic('route-c')];
    await Promise.all(topics.map((name) => client.createTopics([{ name, numPartitions: 3, replicationFactor: 1 }])));
    const producers = Object.fromEntries(topics.map((name) => [name, client.producer(name, { lingerMs: 5, partitioner: new Murmur2Partitioner() })]));
    const count = 30_000;
    const values = Array.from({ length: count }, (_, i) => i);
    const reports = await lastValueFrom(
      from(values).pipe(
        routeToKafka(
          { producers, by: (i: number) => topics[i % 3] },
          { toRecord: (i) => ({ key: Buffer.from(`key-${i % 50}`), value: Buffer.from(String(i)) }), maxInFlight: 5_000, maxBuffered: count },
        ),
        toArray(),
      ),
    );
    await Promise.all(Object.values(producers).map((producer) => producer.stop()));
    expect(reports.filter((r) => r.error !== undefined)).to.deep.equal([]);
    expect(reports.map((r) => r.passThrough)).to.deep.equal(values);
    for (const [index, topic] of topics.entries()) {
      const records = await consumeAll(topic, { count: count / 3, headers: false });
      const numbers = records.map((r) => Number(r.value!.toString()));
      expect(numbers.length).to.equal(count / 3);
      expect(new Set(numbers).size).to.equal(count / 3);
      expect(numbers.every((n) => n % 3 === index)).to.equal(true);
      // consumeAll sorts by partition then offset: each key's values must rise.
      const lastOfKey = new Map<string, number>();
      for (const record of records) {
        const key = record.key!.toString();
        const n = Number(record.value!.toString());
        expect(n, `key ${key} out of order`).to.be.greaterThan(lastOfKey.get(key) ?? -1);
        lastOfKey.set(key, n);
      }
    }
  });

  it('toDeadLetter: records the broker refuses land on the dead-letter topic with their bytes and why; a failed dead-letter write is reported once, not looped', async () => {
    const topic = uniqueTopic('dlq-source');
    const dlqTopic = uniqueTopic('dlq');
    // The source topic takes records up to 300 bytes, the dead-letter topic up to 1,500.
    await createTopic(topic, { partitions: 1, configs: { 'max.message.bytes': 300 } });
    await createTopic(dlqTopic, { partitions: 1, configs: { 'max.message.bytes': 1500 } });
    const producer = client.producer(topic, { lingerMs: 0 });
    const dlq = client.producer(dlqTopic, { lingerMs: 0 });
    const dlqReports: DeliveryReport[] = [];
    dlq.deliveryReports$.subscribe((report) => dlqReports.push(report));
    const big = Buffer.alloc(1000, 'b');
    const huge = Buffer.alloc(2000, 'h');
    const outcomes = await lastValueFrom(
      from([Buffer.from('small'), big, huge]).pipe(
        toKafka(producer, { toRecord: (value) => ({ value, key: Buffer.from(`key-${value.length}`), headers: { origin: 'spec' } }) }),
        mergeMap((source) => source.reports),
        toDeadLetter(dlq),
        map((outcome) => ({ outcome, written: outcome.error === undefined })),
        toArray(),
      ),
    );
    await producer.stop();
    await dlq.stop();
    expect(outcomes.map((o) => o.outcome.original.message.value?.length)).to.deep.equal([1000, 2000]);
    expect(outcomes.map((o) => o.written)).to.deep.equal([true, false]);
    const failure = outcomes[0].outcome.original.error!;
    // The huge record's dead-letter write failed: reported, and never written again.
    expect(outcomes[1].outcome.deadLetter.error).to.equal(outcomes[1].outcome.error);
    expect(dlqReports).to.have.length(2);

    const [record, ...more] = await consumeAll(dlqTopic, { count: 1 });
    expect(more).to.deep.equal([]);
    expect(record.value).to.deep.equal(big);
    expect(record.key).to.deep.equal(Buffer.from('key-1000'));
    expect(headerText(record.headers)).to.deep.equal({
      origin: 'spec',
      'dlq.error.name': failure.name,
      'dlq.error.message': failure.message,
      'dlq.outcome': 'not-written',
      'dlq.source.topic': topic,
      'dlq.source.partition': '0',
      'dlq.attempts': String(outcomes[0].outcome.original.message.attempts),
    });
    expect(await consumeAll(topic)).to.have.length(1);
  });
});
