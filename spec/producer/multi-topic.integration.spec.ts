// One producer for many topics, against the real broker: what it writes is read back per topic by
// kcat, its requests are counted through stats$, and a topic that does not exist fails only its
// own records.
import { expect } from 'chai';
import { firstValueFrom } from 'rxjs';
import { KafkaClient, UnknownTopicOrPartitionError, type DeliveryReport, type Producer } from '../../lib/index.js';
import { brokers } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { addPartitions, createTopic, createTopicSet, uniqueTopic } from '../support/topics.js';

const TOPICS = 20;
const PARTITIONS = 6;
const RECORDS = 100_000;

/** Requests per broker, as the producer's stats$ counts them. */
async function requestsPerBroker(producer: Producer): Promise<Record<number, number>> {
  return (await firstValueFrom(producer.stats$)).requestsPerBroker;
}

describe('multi-topic producer: one producer for many topics against the real broker', function () {
  this.timeout(300_000);
  let client: KafkaClient;
  let topics: string[];

  before(async () => {
    client = new KafkaClient({ brokers: brokers(), clientId: 'multi-topic' });
    topics = await createTopicSet('multi', TOPICS, { partitions: PARTITIONS });
  });
  after(async () => {
    await client?.close();
  });

  it(`writes ${RECORDS.toLocaleString('en-US')} records over ${TOPICS} topics x ${PARTITIONS} partitions: kcat reads each topic exactly, each partition in produce order`, async () => {
    const producer = client.producer({ lingerMs: 10, statsIntervalMs: 10 });
    const reports = new Map<string, DeliveryReport[]>();
    producer.deliveryReports$.subscribe((report) => {
      const list = reports.get(report.message.topic) ?? [];
      list.push(report);
      reports.set(report.message.topic, list);
    });
    // Record i goes to topic i mod 20 and says so: "<topic index>:<its sequence in the topic>".
    for (let i = 0; i < RECORDS; i++) {
      const t = i % TOPICS;
      await producer.produce(Buffer.from(`${t}:${Math.floor(i / TOPICS)}`), { topic: topics[t] });
    }
    await producer.flush();
    const stats = await firstValueFrom(producer.stats$);
    await producer.stop();
    expect(stats.acknowledged).to.equal(RECORDS);
    expect(stats.failed).to.equal(0);
    expect(Object.keys(stats.topics).sort()).to.deep.equal([...topics].sort());

    const perTopic = RECORDS / TOPICS;
    for (let t = 0; t < TOPICS; t++) {
      const topic = topics[t];
      expect(stats.topics[topic].produced, topic).to.equal(perTopic);
      expect(stats.topics[topic].acknowledged, topic).to.equal(perTopic);
      const read = await consumeAll(topic, { count: perTopic, timeoutMs: 60_000, headers: false });
      // Nothing beyond what was produced (a duplicate would show here, after the count was reached).
      const all = await consumeAll(topic, { timeoutMs: 60_000, headers: false });
      expect(all.length, `${topic}: records in the topic`).to.equal(perTopic);
      expect(read.length).to.equal(perTopic);
      const sequences = new Set<number>();
      const byPartition = new Map<number, number[]>();
      for (const record of all) {
        const [topicIndex, sequence] = record.value!.toString().split(':').map(Number);
        expect(topicIndex, `${topic} holds a record of topic ${topicIndex}`).to.equal(t);
        sequences.add(sequence);
        const list = byPartition.get(record.partition) ?? [];
        list.push(sequence);
        byPartition.set(record.partition, list);
      }
      expect(sequences.size, `${topic}: distinct records`).to.equal(perTopic);
      expect(Math.min(...sequences)).to.equal(0);
      expect(Math.max(...sequences)).to.equal(perTopic - 1);
      // Every partition used, each in produce order (consumeAll sorts by partition, then offset).
      expect([...byPartition.keys()].sort(), `${topic}: partitions written`).to.deep.equal([0, 1, 2, 3, 4, 5]);
      for (const [partition, list] of byPartition) {
        for (let k = 1; k < list.length; k++) expect(list[k] > list[k - 1], `${topic}/${partition} out of order at ${k}`).to.equal(true);
      }
      // The reports' offsets are where kcat found the records.
      const offsets = new Map(all.map((r) => [`${r.partition}/${r.offset}`, r.value!.toString()]));
      for (const report of reports.get(topic) ?? []) {
        expect(offsets.get(`${report.message.partition}/${report.message.offset}`)).to.equal(report.message.value!.toString());
      }
      expect(reports.get(topic)?.length).to.equal(perTopic);
    }
  });

  it('sends no more requests per broker for 20 topics than a producer of one topic at the same rate (20 producers: 20 times as many)', async () => {
    // The same 40 bursts of 500 records, each followed by flush(): a long linger leaves flush() to
    // send, so each producer's request count says how many requests one burst takes it.
    const BURSTS = 40;
    const BURST = 500;
    const options = { lingerMs: 60_000, statsIntervalMs: 10 };
    const run = async (send: (i: number) => Promise<unknown>, flush: () => Promise<unknown>) => {
      for (let b = 0; b < BURSTS; b++) {
        const sends: Array<Promise<unknown>> = [];
        for (let i = 0; i < BURST; i++) sends.push(send(b * BURST + i));
        await Promise.all(sends);
        await flush();
      }
    };
    const sum = (counts: Record<number, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

    const multi = client.producer(options);
    await run((i) => multi.produce(Buffer.from(`m${i}`), { topic: topics[i % TOPICS] }), () => multi.flush());
    const multiRequests = await requestsPerBroker(multi);

    const single = client.producer(topics[0], options);
    await run((i) => single.produce(Buffer.from(`s${i}`)), () => single.flush());
    const singleRequests = await requestsPerBroker(single);

    const perTopic = topics.map((topic) => client.producer(topic, options));
    await run((i) => perTopic[i % TOPICS].produce(Buffer.from(`p${i}`)), () => Promise.all(perTopic.map((p) => p.flush())));
    const perTopicRequests = (await Promise.all(perTopic.map(requestsPerBroker))).map(sum).reduce((a, b) => a + b, 0);

    console.log(`      [requests] ${BURSTS} bursts of ${BURST}: one producer over ${TOPICS} topics ${JSON.stringify(multiRequests)}, one producer of one topic ${JSON.stringify(singleRequests)}, ${TOPICS} producers ${perTopicRequests}`);
    expect(Object.keys(multiRequests)).to.deep.equal(Object.keys(singleRequests));
    for (const broker of Object.keys(singleRequests).map(Number)) {
      expect(multiRequests[broker], `broker ${broker}`).to.be.at.most(singleRequests[broker]);
    }
    expect(sum(multiRequests)).to.be.at.least(BURSTS);
    expect(perTopicRequests).to.be.at.least(BURSTS * TOPICS);
    const stats = multi.statsSnapshot();
    expect(stats.acknowledged).to.equal(BURSTS * BURST);
    // Every topic's batches travelled in those few requests.
    for (const topic of topics) expect(stats.topics[topic].batches, topic).to.be.at.least(BURSTS);
    await Promise.all([multi.stop(), single.stop(), ...perTopic.map((p) => p.stop())]);
  });

  it('fails the records of a topic that does not exist alone, with UnknownTopicOrPartitionError, the others delivered meanwhile', async () => {
    const missing = uniqueTopic('multi-missing');
    const producer = client.producer({ lingerMs: 5 });
    const events: string[] = [];
    const good: Array<Promise<unknown>> = [];
    const bad: Array<Promise<unknown>> = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 2) {
        bad.push(producer.produce(Buffer.from(`x${i}`), { topic: missing }).then(
          () => events.push('missing accepted'),
          (error: unknown) => {
            events.push('missing failed');
            return error;
          },
        ));
      } else {
        good.push(producer.produce(Buffer.from(`g${i}`), { topic: topics[i % 3] }));
      }
    }
    const acknowledged = new Promise<void>((resolve) => {
      let count = 0;
      producer.deliveryReports$.subscribe((report) => {
        if (report.error === undefined && ++count === 200) {
          events.push('others acknowledged');
          resolve();
        }
      });
    });
    await Promise.all(good);
    const errors = await Promise.all(bad);
    await acknowledged;
    expect(errors).to.have.length(100);
    for (const error of errors) expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
    // The others did not wait for the missing topic's metadata retries.
    expect(events[0]).to.equal('others acknowledged');
    expect(events.filter((e) => e === 'missing failed')).to.have.length(100);
    // Within unknownTopicCacheMs a next record for it fails at once.
    const started = Date.now();
    const again = await producer.produce(Buffer.from('again'), { topic: missing }).then(() => undefined, (e: unknown) => e);
    expect(again).to.be.instanceOf(UnknownTopicOrPartitionError);
    expect(Date.now() - started).to.be.below(1_000);
    const stats = producer.statsSnapshot();
    expect(stats.acknowledged).to.equal(200);
    expect(stats.failed).to.equal(0);
    await producer.stop();
    for (const t of [0, 1]) {
      const read = await consumeAll(topics[t], { timeoutMs: 30_000, headers: false });
      const mine = read.filter((r) => r.value!.toString().startsWith('g'));
      expect(mine.length, topics[t]).to.equal(100);
    }
  });

  it('keeps idempotence across topics (acks all, its default): 20,000 records over 20 topics, each read back exactly once and in order', async () => {
    const producer = client.producer({ requiredAcks: -1, lingerMs: 5 });
    expect(producer.options.enableIdempotence).to.equal(true);
    const count = 20_000;
    for (let i = 0; i < count; i++) {
      const t = i % TOPICS;
      await producer.produce(Buffer.from(`i${t}:${Math.floor(i / TOPICS)}`), { topic: topics[t], key: Buffer.from(`k${i % 13}`) });
    }
    await producer.stop();
    const stats = producer.statsSnapshot();
    expect(stats.acknowledged).to.equal(count);
    for (let t = 0; t < TOPICS; t++) {
      const read = (await consumeAll(topics[t], { timeoutMs: 60_000, headers: true })).filter((r) => r.value!.toString().startsWith('i'));
      expect(read.length, topics[t]).to.equal(count / TOPICS);
      const byPartition = new Map<number, number[]>();
      for (const record of read) {
        const list = byPartition.get(record.partition) ?? [];
        list.push(Number(record.value!.toString().split(':')[1]));
        byPartition.set(record.partition, list);
      }
      for (const [partition, list] of byPartition) {
        for (let k = 1; k < list.length; k++) expect(list[k] > list[k - 1], `${topics[t]}/${partition} out of order`).to.equal(true);
      }
    }
  });

  it('keeps a topic\'s metadata fresh after its first record: partitions added later are used (metadataMaxAgeMs)', async () => {
    const grown = uniqueTopic('multi-grown');
    await createTopic(grown, { partitions: 2 });
    const fresh = new KafkaClient({ brokers: brokers(), clientId: 'multi-topic-fresh', metadataMaxAgeMs: 500 });
    try {
      const producer = fresh.producer({ lingerMs: 5 });
      const partitions = new Set<number>();
      producer.deliveryReports$.subscribe((report) => {
        if (report.error === undefined) partitions.add(report.message.partition);
      });
      let sent = 0;
      const send = async (n: number) => {
        for (let i = 0; i < n; i++) await producer.produce(Buffer.from(`r${sent++}`), { topic: grown });
        await producer.flush();
      };
      await send(100);
      expect([...partitions].sort()).to.deep.equal([0, 1]);
      await addPartitions(grown, 4);
      // The producer learns of partitions 2 and 3 from the periodic refresh, without any error to prompt it.
      const deadline = Date.now() + 20_000;
      while (!(partitions.has(2) && partitions.has(3)) && Date.now() < deadline) {
        await send(20);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect([...partitions].sort(), 'partitions written').to.deep.equal([0, 1, 2, 3]);
      await producer.stop();
      const read = await consumeAll(grown, { timeoutMs: 30_000, headers: false });
      expect(new Set(read.map((r) => r.value!.toString())).size).to.equal(sent);
      expect(read.length).to.equal(sent);
    } finally {
      await fresh.close();
    }
  });

  it('asks for a topic on records of a producer without one, and keeps the pykafka form\'s default topic', async () => {
    const anyTopic = client.producer();
    const refused = await anyTopic.produce(Buffer.from('no topic')).then(() => undefined, (e: unknown) => e);
    expect((refused as Error).name).to.equal('RecordTypeError');
    await anyTopic.stop();
    const withDefault = client.producer(topics[5], { sync: true });
    const first = await withDefault.produce(Buffer.from('default'));
    const second = await withDefault.produce(Buffer.from('other'), { topic: topics[6] });
    expect([first.topic, second.topic]).to.deep.equal([topics[5], topics[6]]);
    await withDefault.stop();
  });
});
