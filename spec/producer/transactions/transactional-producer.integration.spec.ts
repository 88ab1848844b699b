// The transactional producer against a real broker, with the default options: kcat in
// read_committed and read_uncommitted mode judges what each transaction left visible, and every
// record's delivery report must agree with it.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { KafkaClient } from '../../../lib/client.js';
import { InvalidProducerEpochError, InvalidTxnStateError, ProducerFencedError, TransactionAbortedError, TransactionStateError } from '../../../lib/errors/index.js';
import type { DeliveryReport } from '../../../lib/producer/message.js';
import type { Producer } from '../../../lib/producer/producer.js';
import { bootstrap } from '../../support/broker.js';
import { kafkaVersion } from '../../support/kafka-version.js';
import { javaConsumeAll } from '../../support/java-consumer.js';
import { consumeAll } from '../../support/kcat.js';
import { createTopic } from '../../support/topics.js';

const run = randomBytes(4).toString('hex');
const PARTITIONS = 6;

describe(`transactional producer against a real broker (Kafka ${kafkaVersion()})`, function () {
  this.timeout(180_000);
  let client: KafkaClient;

  const valuesOf = async (topic: string, isolation: 'read_committed' | 'read_uncommitted') =>
    (await consumeAll(topic, { config: { 'isolation.level': isolation } })).map((r) => r.value!.toString()).sort();

  function reportsOf(producer: Producer): DeliveryReport[] {
    const reports: DeliveryReport[] = [];
    producer.deliveryReports$.subscribe((report) => reports.push(report as DeliveryReport));
    return reports;
  }

  before(() => {
    client = new KafkaClient({ brokers: bootstrap() });
  });

  after(async () => client?.close());

  it('commit, abort, commit over 6 partitions: read_committed readers (kcat and the Java consumer) see the committed transactions whole; reports come after the commit, aborted records are reported failed', async () => {
    const topic = `txn-producer-${run}-main`;
    await createTopic(topic, { partitions: PARTITIONS });
    const producer = client.producer(topic, { transactionalId: `txn-producer-${run}-main` });
    const reports = reportsOf(producer);
    await producer.initTransactions();
    expect(producer.transactionState).to.equal('ready');
    const committed: string[] = [];
    const aborted: string[] = [];
    for (const [t, commit] of [true, false, true].entries()) {
      producer.beginTransaction();
      const values: string[] = [];
      for (let i = 0; i < 300; i++) {
        const value = `t${t}-${i}`;
        values.push(value);
        await producer.produce(Buffer.from(value), { partition: i % PARTITIONS });
      }
      await producer.flush();
      expect(reports.filter((r) => !r.error && r.message.value!.toString().startsWith(`t${t}-`)), 'no record is reported acknowledged before its transaction commits').to.have.length(0);
      if (commit) await producer.commitTransaction();
      else await producer.abortTransaction();
      (commit ? committed : aborted).push(...values);
      expect(producer.transactionState).to.equal('ready');
    }
    const acknowledged = reports.filter((r) => !r.error).map((r) => r.message.value!.toString()).sort();
    const failed = reports.filter((r) => r.error);
    expect(reports).to.have.length(900);
    expect(acknowledged).to.deep.equal([...committed].sort());
    expect(failed.map((r) => r.message.value!.toString()).sort()).to.deep.equal([...aborted].sort());
    expect(failed.every((r) => r.error instanceof TransactionAbortedError)).to.equal(true);

    expect(await valuesOf(topic, 'read_committed')).to.deep.equal([...committed].sort());
    expect(await valuesOf(topic, 'read_uncommitted'), 'the aborted records were written, then hidden').to.deep.equal([...committed, ...aborted].sort());
    // Kafka's own consumer agrees.
    const javaValues = async (isolation: 'read_committed' | 'read_uncommitted') => (await javaConsumeAll(topic, isolation)).map((r) => r.value.toString()).sort();
    expect(await javaValues('read_committed')).to.deep.equal([...committed].sort());
    expect(await javaValues('read_uncommitted')).to.deep.equal([...committed, ...aborted].sort());
    await producer.stop();
  });

  it('produce() outside a transaction is refused with TransactionStateError; producer.transaction() aborts when the work throws', async () => {
    const topic = `txn-producer-${run}-callback`;
    await createTopic(topic, { partitions: 2 });
    const producer = client.producer(topic, { transactionalId: `txn-producer-${run}-callback` });
    const reports = reportsOf(producer);
    await producer.initTransactions();
    let refused: unknown;
    await producer.produce(Buffer.from('outside')).catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(TransactionStateError);

    const kept = await producer.transaction(async (tx) => {
      for (let i = 0; i < 10; i++) await tx.produce(Buffer.from(`kept-${i}`));
      return 'done';
    });
    expect(kept).to.equal('done');
    let thrown: unknown;
    await producer.transaction(async (tx) => {
      for (let i = 0; i < 10; i++) await tx.produce(Buffer.from(`dropped-${i}`));
      await tx.flush();
      throw new Error('the work failed half-way');
    }).catch((error: unknown) => (thrown = error));
    expect((thrown as Error).message).to.equal('the work failed half-way');
    expect(producer.transactionState).to.equal('ready');

    const visible = await valuesOf(topic, 'read_committed');
    expect(visible).to.deep.equal(Array.from({ length: 10 }, (_, i) => `kept-${i}`).sort());
    expect((await valuesOf(topic, 'read_uncommitted')).filter((v) => v.startsWith('dropped-'))).to.have.length(10);
    expect(reports.filter((r) => r.error instanceof TransactionAbortedError)).to.have.length(10);
    expect(reports.filter((r) => !r.error)).to.have.length(10);
    await producer.stop();
  });

  it('a second producer with the same transactionalId fences the first: its commit fails with a fencing error, its records are reported failed and stay invisible', async () => {
    const topic = `txn-producer-${run}-fenced`;
    await createTopic(topic, { partitions: 3 });
    const transactionalId = `txn-producer-${run}-fenced`;
    const first = client.producer(topic, { transactionalId });
    const firstReports = reportsOf(first);
    await first.initTransactions();
    first.beginTransaction();
    for (let i = 0; i < 30; i++) await first.produce(Buffer.from(`zombie-${i}`));
    await first.flush();

    const second = client.producer(topic, { transactionalId });
    await second.initTransactions();
    let failure: unknown;
    await first.commitTransaction().catch((error: unknown) => (failure = error));
    expect(failure).to.satisfy((e: unknown) => e instanceof ProducerFencedError || e instanceof InvalidProducerEpochError);
    expect(first.transactionState).to.equal('fatal-error');
    expect(() => first.beginTransaction()).to.throw(TransactionStateError);
    expect(firstReports).to.have.length(30);
    expect(firstReports.every((r) => r.error instanceof TransactionAbortedError)).to.equal(true);

    await second.transaction(async (tx) => {
      await tx.produce(Buffer.from('successor'));
    });
    expect(await valuesOf(topic, 'read_committed')).to.deep.equal(['successor']);
    await first.stop();
    await second.stop();
  });
  it('a transaction left open past transactionTimeoutMs is aborted by the coordinator: the commit fails fatally, nothing is visible, every report failed', async () => {
    const topic = `txn-producer-${run}-timeout`;
    await createTopic(topic, { partitions: 2 });
    const producer = client.producer(topic, { transactionalId: `txn-producer-${run}-timeout`, transactionTimeoutMs: 1_000 });
    const reports = reportsOf(producer);
    await producer.initTransactions();
    producer.beginTransaction();
    for (let i = 0; i < 20; i++) await producer.produce(Buffer.from(`late-${i}`));
    await producer.flush();
    // The coordinator checks every second (scripts/kafka) for transactions open past their timeout.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    let failure: unknown;
    await producer.commitTransaction().catch((error: unknown) => (failure = error));
    // Transactions v1 answer with the epoch the abort bumped (fenced); v2 coordinators (Kafka 4.x)
    // with INVALID_TXN_STATE. Either way the producer can go on no more.
    expect(failure).to.satisfy((e: unknown) => e instanceof ProducerFencedError || e instanceof InvalidProducerEpochError || e instanceof InvalidTxnStateError, String(failure));
    expect(producer.transactionState).to.equal('fatal-error');
    expect(reports).to.have.length(20);
    expect(reports.every((r) => r.error instanceof TransactionAbortedError)).to.equal(true);
    expect(await valuesOf(topic, 'read_committed')).to.deep.equal([]);
    expect(await valuesOf(topic, 'read_uncommitted')).to.have.length(20);
    await producer.stop();
  });
  it('one producer, 2 topics x 6 partitions: committed transactions read back whole by read_committed readers (kcat and the Java consumer), the aborted one never', async () => {
    const topics = [`txn-producer-${run}-two-a`, `txn-producer-${run}-two-b`];
    await Promise.all(topics.map((t) => createTopic(t, { partitions: PARTITIONS })));
    const producer = client.producer({ transactionalId: `txn-producer-${run}-two` });
    const reports = reportsOf(producer);
    await producer.initTransactions();
    const committed: string[] = [];
    const aborted: string[] = [];
    for (const [t, commit] of [true, false, true, true].entries()) {
      const values: string[] = [];
      await producer.transaction(async (tx) => {
        for (let i = 0; i < 240; i++) {
          const value = `t${t}-${i}`;
          values.push(value);
          await tx.produce(Buffer.from(value), { topic: topics[i % 2], partition: Math.floor(i / 2) % PARTITIONS });
        }
        if (!commit) {
          await tx.flush(); // written, so that read_uncommitted shows them hidden rather than never sent
          throw new Error('this one is aborted');
        }
      }).catch((error: Error) => expect(error.message).to.equal('this one is aborted'));
      (commit ? committed : aborted).push(...values);
    }
    const readBoth = async (isolation: 'read_committed' | 'read_uncommitted') =>
      (await Promise.all(topics.map((topic) => valuesOf(topic, isolation)))).flat().sort();
    const javaBoth = async (isolation: 'read_committed' | 'read_uncommitted') =>
      (await Promise.all(topics.map((topic) => javaConsumeAll(topic, isolation)))).flat().map((r) => r.value.toString()).sort();
    expect(await readBoth('read_committed')).to.deep.equal([...committed].sort());
    expect(await javaBoth('read_committed')).to.deep.equal([...committed].sort());
    expect(await readBoth('read_uncommitted')).to.deep.equal([...committed, ...aborted].sort());
    expect(reports.filter((r) => !r.error).map((r) => r.message.value!.toString()).sort()).to.deep.equal([...committed].sort());
    expect(reports.filter((r) => r.error instanceof TransactionAbortedError)).to.have.length(aborted.length);
    // Every partition of both topics took part.
    const partitionsSeen = new Set(reports.map((r) => `${r.message.topic}:${r.message.partition}`));
    expect(partitionsSeen.size).to.equal(2 * PARTITIONS);
    await producer.stop();
  });
  it('stop() with a transaction open aborts it: every record reported failed (TransactionAbortedError), none visible', async () => {
    const topic = `txn-producer-${run}-stopped`;
    await createTopic(topic, { partitions: 2 });
    const producer = client.producer(topic, { transactionalId: `txn-producer-${run}-stopped` });
    const reports = reportsOf(producer);
    await producer.initTransactions();
    producer.beginTransaction();
    for (let i = 0; i < 50; i++) await producer.produce(Buffer.from(`open-${i}`));
    await producer.stop();
    expect(reports).to.have.length(50);
    expect(reports.every((r) => r.error instanceof TransactionAbortedError)).to.equal(true);
    expect(await valuesOf(topic, 'read_committed')).to.deep.equal([]);
    expect(await valuesOf(topic, 'read_uncommitted')).to.have.length(50);
  });
});
