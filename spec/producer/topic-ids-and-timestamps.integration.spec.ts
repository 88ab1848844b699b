import { expect } from 'chai';
import { InvalidTimestampError, KafkaClient, type DeliveryReport, type ProducerOptions } from '../../lib/index.js';
import { negotiateVersion } from '../../lib/protocol/api-versions.js';
import { Produce, TOPIC_IDS_FROM } from '../../lib/protocol/produce.js';
import { bootstrap, brokers } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { uniqueTopic } from '../support/topics.js';
import { RawClient } from '../protocol/support/raw-client.js';

const HOUR = 3_600_000;

/** The newest Produce version kafka-rx and the broker share. */
async function commonProduceVersion(address: string): Promise<number> {
  return negotiateVersion(Produce, await RawClient.versionsOf(address));
}

describe('Produce v13 topic ids and 4.x timestamp limits, against the real broker', function () {
  this.timeout(180_000);
  let client: KafkaClient;
  let produceVersion: number;

  before(async () => {
    client = new KafkaClient({ brokers: bootstrap(), clientId: 'kafka-rx-spec' });
    produceVersion = await commonProduceVersion(brokers()[0]);
  });
  after(async () => {
    await client.close();
  });

  async function produceAll(topic: string, options: ProducerOptions, records: Array<{ value: string; timestamp?: number }>): Promise<DeliveryReport[]> {
    const producer = client.producer(topic, { lingerMs: 60_000, ...options });
    const reports: DeliveryReport[] = [];
    producer.deliveryReports$.subscribe((report) => reports.push(report));
    for (const { value, timestamp } of records) await producer.produce(Buffer.from(value), { timestamp });
    await producer.stop();
    return reports;
  }

  it('a topic deleted and created again under its name: UNKNOWN_TOPIC_ID (v13) costs a metadata refresh, not a message', async () => {
    const topic = uniqueTopic('topic-ids');
    // The producer's client keeps the first topic id in its cache; another client deletes and re-creates.
    const admin = new KafkaClient({ brokers: bootstrap(), clientId: 'kafka-rx-spec-admin' });
    try {
      await admin.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
      const producer = client.producer(topic, { lingerMs: 5, sync: true });
      await producer.produce(Buffer.from('before'));
      await admin.deleteTopics([topic]);
      // Until the broker has forgotten the old topic, creating it again is refused.
      for (let attempt = 0; ; attempt++) {
        try {
          await admin.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
          break;
        } catch (error) {
          if (attempt >= 40) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      const retriesBefore = producer.statsSnapshot().retries;
      const message = await producer.produce(Buffer.from('after'));
      expect(message.offset).to.equal(0n);
      const retried = producer.statsSnapshot().retries - retriesBefore;
      await producer.stop();
      // By id the stale cache meets UNKNOWN_TOPIC_ID and one retry after a refresh; by name (below
      // v13) the new topic takes the record at once.
      if (produceVersion >= TOPIC_IDS_FROM) expect(retried, `Produce v${produceVersion}`).to.be.at.least(1);
      else expect(retried, `Produce v${produceVersion}`).to.equal(0);
      const read = await consumeAll(topic, { count: 1 });
      expect(read.map((r) => r.value!.toString())).to.deep.equal(['after']);
    } finally {
      await admin.close();
    }
  });

  for (const requiredAcks of [1, -1] as const) {
    it(`a record stamped beyond the broker's limit fails alone with InvalidTimestampError naming the limit; its batch-mates are written (acks ${requiredAcks})`, async () => {
      const topic = uniqueTopic('timestamps');
      // Kafka 4.0+ refuses timestamps more than an hour ahead by default; 3.9 accepts any unless
      // the topic says otherwise, so there the spec sets the 4.x default on the topic.
      const fourX = produceVersion >= 12;
      await client.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1, configs: fourX ? {} : { 'message.timestamp.after.max.ms': String(HOUR) } }]);
      const now = Date.now();
      const records = [
        { value: 'now-0', timestamp: now },
        { value: 'two-hours-ahead', timestamp: now + 2 * HOUR },
        { value: 'now-2', timestamp: now + 2 },
        { value: 'ten-minutes-ahead', timestamp: now + 10 * 60_000 },
        { value: 'a-day-ahead', timestamp: now + 24 * HOUR },
        { value: 'an-hour-ago', timestamp: now - HOUR },
      ];
      const reports = await produceAll(topic, { requiredAcks }, records);
      expect(reports).to.have.length(records.length);
      const failed = reports.filter((r) => r.error);
      expect(failed.map((r) => r.message.value!.toString()).sort()).to.deep.equal(['a-day-ahead', 'two-hours-ahead']);
      for (const { error } of failed) {
        expect(error).to.be.instanceOf(InvalidTimestampError);
        expect(error!.message).to.include('log.message.timestamp.after.max.ms');
        expect(error!.message).to.match(/at most \d+, 20\d\d-/);
        expect(error!.retriable).to.equal(false);
      }
      const written = ['now-0', 'now-2', 'ten-minutes-ahead', 'an-hour-ago'];
      expect(reports.filter((r) => !r.error).map((r) => r.message.value!.toString())).to.have.members(written);
      const read = await consumeAll(topic, { count: written.length });
      expect(read.map((r) => r.value!.toString())).to.deep.equal(written);
      expect(read.map((r) => r.timestamp)).to.deep.equal([now, now + 2, now + 10 * 60_000, now - HOUR]);
    });
  }
});
