// The transaction manager against a real broker: its coordinator requests over the client's
// cluster, with record batches written by Produce requests beside it (the producer's part); kcat in
// read_committed and read_uncommitted mode and Kafka's own ConsumerGroupCommand judge the outcome.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { asyncScheduler } from 'rxjs';
import { KafkaClient } from '../../../lib/client.js';
import { InvalidProducerEpochError, ProducerFencedError, TransactionStateError } from '../../../lib/errors/index.js';
import { Produce } from '../../../lib/protocol/produce.js';
import { encodeRecordBatch } from '../../../lib/records/record-batch.js';
import { clusterTransactionTransport } from '../../../lib/producer/transactions/cluster-transport.js';
import { TransactionManager, type TopicPartition } from '../../../lib/producer/transactions/transaction-manager.js';
import { bootstrap } from '../../support/broker.js';
import { groupOffsets } from '../../support/group-offsets.js';
import { kafkaVersion } from '../../support/kafka-version.js';
import { consumeAll } from '../../support/kcat.js';
import { createTopic } from '../../support/topics.js';

const run = randomBytes(4).toString('hex');

/** Writes transactional batches for one manager, keeping each partition's sequence as the producer would. */
class TransactionalWriter {
  private readonly sequences = new Map<string, number>();

  constructor(
    private readonly client: KafkaClient,
    private readonly manager: TransactionManager,
  ) {
    manager.onIdentityChange(() => this.sequences.clear());
  }

  async write(tp: TopicPartition, values: string[]): Promise<number> {
    await this.manager.addPartitions([tp]);
    const cluster = this.client.cluster;
    await cluster.partitionsOf(tp.topic);
    const connection = await cluster.connectionTo(cluster.leaderOf(tp.topic, tp.partition));
    const key = `${tp.topic}:${tp.partition}`;
    const baseSequence = this.sequences.get(key) ?? 0;
    this.sequences.set(key, baseSequence + values.length);
    const records = encodeRecordBatch(values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: Date.now() })), {
      ...this.manager.producerIdentity!,
      baseSequence,
      isTransactional: true,
    });
    const api = { ...Produce, maxVersion: Math.min(Produce.maxVersion, this.manager.maxProduceVersion) };
    const response = await connection.send(api, {
      transactionalId: this.manager.transactionalId,
      acks: -1,
      timeoutMs: 10_000,
      topics: [{ name: tp.topic, topicId: cluster.topicIdOf(tp.topic), partitions: [{ index: tp.partition, records }] }],
    });
    return response!.responses[0].partitionResponses[0].errorCode;
  }
}

describe('TransactionManager against a real broker', function () {
  this.timeout(180_000);
  const topics = [`txn-mgr-${run}-a`, `txn-mgr-${run}-b`];
  const expectedProtocol = Number(kafkaVersion().split('.')[0]) >= 4 ? 2 : 1;
  let client: KafkaClient;

  const managerFor = (transactionalId: string) =>
    new TransactionManager(clusterTransactionTransport(client.cluster, 30_000), {
      transactionalId,
      transactionTimeoutMs: 60_000,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1_000,
      maxBlockMs: 60_000,
      scheduler: asyncScheduler,
    });

  const valuesOf = async (topic: string, isolation: 'read_committed' | 'read_uncommitted') =>
    (await consumeAll(topic, { config: { 'isolation.level': isolation } })).map((r) => r.value!.toString()).sort();

  before(async () => {
    await Promise.all(topics.map((t) => createTopic(t, { partitions: 3 })));
    client = new KafkaClient({ brokers: bootstrap() });
  });

  after(async () => client?.close());

  it(`commits and aborts over 2 topics x 3 partitions (transactions v${expectedProtocol} on Kafka ${kafkaVersion()}): read_committed sees the committed transactions whole, never the aborted one`, async () => {
    const manager = managerFor(`txn-mgr-${run}-main`);
    const writer = new TransactionalWriter(client, manager);
    await manager.initTransactions();
    expect(manager.protocol).to.equal(expectedProtocol);
    const outcome = { committed: [] as string[], aborted: [] as string[] };
    for (const [i, commit] of [true, false, true].entries()) {
      manager.beginTransaction();
      const written: string[] = [];
      await Promise.all(topics.flatMap((topic) => [0, 1, 2].map(async (partition) => {
        for (let batch = 0; batch < 2; batch++) {
          const values = [`t${i}-${topic.slice(-1)}${partition}-${batch}-x`, `t${i}-${topic.slice(-1)}${partition}-${batch}-y`];
          expect(await writer.write({ topic, partition }, values)).to.equal(0);
          written.push(...values);
        }
      })));
      if (commit) await manager.commitTransaction();
      else await manager.abortTransaction();
      (commit ? outcome.committed : outcome.aborted).push(...written);
      expect(manager.state).to.equal('ready');
    }
    const committed = (await Promise.all(topics.map((t) => valuesOf(t, 'read_committed')))).flat().sort();
    const everything = (await Promise.all(topics.map((t) => valuesOf(t, 'read_uncommitted')))).flat().sort();
    expect(committed).to.deep.equal([...outcome.committed].sort());
    expect(outcome.aborted).to.have.length(24);
    expect(everything).to.deep.equal([...outcome.committed, ...outcome.aborted].sort());
  });

  it('a second instance with the same transactional id fences the first: its commit fails fatally and its records stay invisible', async () => {
    const transactionalId = `txn-mgr-${run}-fenced`;
    const first = managerFor(transactionalId);
    await first.initTransactions();
    first.beginTransaction();
    expect(await new TransactionalWriter(client, first).write({ topic: topics[0], partition: 0 }, ['zombie-1', 'zombie-2'])).to.equal(0);

    const second = managerFor(transactionalId);
    await second.initTransactions();
    expect(second.producerIdentity!.producerId).to.equal(first.producerIdentity!.producerId);
    expect(second.producerIdentity!.producerEpoch).to.be.above(first.producerIdentity!.producerEpoch);

    let failure: unknown;
    await first.commitTransaction().catch((error: unknown) => (failure = error));
    expect(failure).to.satisfy((e: unknown) => e instanceof ProducerFencedError || e instanceof InvalidProducerEpochError);
    expect(first.state).to.equal('fatal-error');
    expect(() => first.beginTransaction()).to.throw(TransactionStateError);

    second.beginTransaction();
    expect(await new TransactionalWriter(client, second).write({ topic: topics[0], partition: 0 }, ['successor'])).to.equal(0);
    await second.commitTransaction();
    const committed = await valuesOf(topics[0], 'read_committed');
    expect(committed).to.include('successor');
    expect(committed).to.not.include('zombie-1');
  });

  it("offsets sent to a transaction become the group's committed offsets only when it commits (judged by Kafka's ConsumerGroupCommand)", async () => {
    const manager = managerFor(`txn-mgr-${run}-offsets`);
    const writer = new TransactionalWriter(client, manager);
    const group = `txn-mgr-${run}-group`;
    await manager.initTransactions();

    manager.beginTransaction();
    await writer.write({ topic: topics[1], partition: 0 }, ['with-aborted-offsets']);
    await manager.sendOffsetsToTransaction([{ topic: topics[0], partition: 1, offset: 5n }], { groupId: group });
    await manager.abortTransaction();
    expect((await groupOffsets(group)).get(`${topics[0]}:1`), 'aborted offsets are not committed').to.equal(undefined);

    manager.beginTransaction();
    await writer.write({ topic: topics[1], partition: 0 }, ['with-committed-offsets']);
    await manager.sendOffsetsToTransaction([{ topic: topics[0], partition: 1, offset: 7n }, { topic: topics[0], partition: 2, offset: 3n }], { groupId: group });
    await manager.commitTransaction();
    const offsets = await groupOffsets(group);
    expect(offsets.get(`${topics[0]}:1`)).to.equal('7');
    expect(offsets.get(`${topics[0]}:2`)).to.equal('3');
  });
});
