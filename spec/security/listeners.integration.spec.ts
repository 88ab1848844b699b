// Every kind of secured listener of a real Kafka (scripts/kafka --secure): TLS, mutual TLS, and
// SASL over plaintext and over TLS with each mechanism. kafka-rx writes 10,000 records through it
// and kcat (librdkafka) reads them back through SASL_SSL, an independent client through the same
// security, byte for byte.
import { expect } from 'chai';
import { KafkaClient, type DeliveryReport } from '../../lib/index.js';
import type { LocalCluster } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { MECHANISMS, clientOptions, kcatReadBack, securedCluster, type ListenerKind, type MechanismName } from '../support/secured-cluster.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

const COUNT = 10_000;

describe('security: each secured listener kind, 10,000 records read back by kcat over SASL_SSL', function () {
  this.timeout(180_000);
  let cluster: LocalCluster;

  before(async function () {
    this.timeout(240_000);
    cluster = await securedCluster();
  });

  const runs: Array<[ListenerKind, MechanismName | undefined]> = [
    ['SSL', undefined],
    ['MTLS', undefined],
    ...MECHANISMS.map((m) => ['SASL_PLAINTEXT', m] as [ListenerKind, MechanismName]),
    ...MECHANISMS.map((m) => ['SASL_SSL', m] as [ListenerKind, MechanismName]),
  ];

  it('a custom mechanism through the sasl.authenticate hook (PLAIN written by the user), SASL_SSL', async () => {
    const sec = cluster.security!;
    const topic = uniqueTopic('writable-custom-sasl');
    await createTopic(topic, { partitions: 1, bootstrap: cluster.bootstrap });
    const answers: number[] = [];
    const client = new KafkaClient({
      ...clientOptions(sec, 'SASL_SSL', 'PLAIN'),
      sasl: {
        mechanism: 'PLAIN',
        authenticate: async (exchange) => {
          answers.push((await exchange(Buffer.from(`\0admin\0${sec.adminPassword}`))).length);
        },
      },
    });
    try {
      const producer = client.producer(topic, { sync: true });
      for (let i = 0; i < 10; i++) await producer.produce(Buffer.from(`custom ${i}`));
      await producer.stop();
    } finally {
      await client.close();
    }
    expect(answers.length).to.be.greaterThan(0);
    const { bootstrap, config } = kcatReadBack(sec);
    const read = await consumeAll(topic, { bootstrap, config, headers: false });
    expect(read.map((r) => r.value!.toString())).to.deep.equal(Array.from({ length: 10 }, (_, i) => `custom ${i}`));
  });

  for (const [listener, mechanism] of runs) {
    it(`${listener}${mechanism ? ` with ${mechanism}` : ''}`, async () => {
      const sec = cluster.security!;
      const topic = uniqueTopic(`writable-${listener}-${mechanism ?? 'tls'}`.toLowerCase());
      await createTopic(topic, { partitions: 3, bootstrap: cluster.bootstrap });
      const client = new KafkaClient(clientOptions(sec, listener, mechanism));
      const sent: Buffer[] = [];
      const reports: DeliveryReport[] = [];
      try {
        const producer = client.producer(topic, { lingerMs: 10, minQueuedMessages: 2_000 });
        producer.deliveryReports$.subscribe((report) => reports.push(report));
        for (let i = 0; i < COUNT; i++) {
          const value = Buffer.alloc(100, 0x2e);
          value.write(`${listener} ${mechanism ?? '-'} ${i}`);
          sent.push(value);
          await producer.produce(value);
        }
        await producer.stop();
      } finally {
        await client.close();
      }
      expect(reports.filter((r) => r.error).map((r) => String(r.error))).to.deep.equal([]);
      expect(reports).to.have.length(COUNT);
      const { bootstrap, config } = kcatReadBack(sec);
      const read = await consumeAll(topic, { bootstrap, config, timeoutMs: 60_000, headers: false });
      expect(read).to.have.length(COUNT);
      const readValues = read.map((r) => r.value!.toString('latin1')).sort();
      const sentValues = sent.map((v) => v.toString('latin1')).sort();
      expect(readValues).to.deep.equal(sentValues);
    });
  }
});
