// Transactions while nodes die: on a three-node cluster (replication factor 3, min.insync.replicas
// 2) a transactional producer with the default options writes 200 transactions of 1,000 records
// over 6 partitions while the leader of a data partition, then the transaction coordinator's node,
// is SIGKILLed and restarted. kcat in read_committed mode must see every transaction whole or not
// at all, and each record's report must agree: acknowledged only if its transaction is visible.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { KafkaClient, type DeliveryReport } from '../../lib/index.js';
import { CoordinatorKeyType, FindCoordinator } from '../../lib/protocol/find-coordinator.js';
import { clusterTransactionTransport } from '../../lib/producer/transactions/cluster-transport.js';
import type { Producer } from '../../lib/producer/producer.js';
import { startCluster, type LocalCluster } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { createTopic } from '../support/topics.js';

const TRANSACTIONS = 200;
const RECORDS = 1_000;
const PARTITIONS = 6;

describe('reliability: transactions while a data leader, then the transaction coordinator, is killed (three nodes)', function () {
  this.timeout(900_000);
  let cluster: LocalCluster | undefined;

  before(async () => {
    cluster = await startCluster({ nodes: 3 });
  });

  after(async () => {
    await cluster?.stop();
  });

  it(`${TRANSACTIONS} transactions of ${RECORDS} records: each entirely visible to read_committed readers or entirely absent, every report agreeing`, async () => {
    const run = randomBytes(4).toString('hex');
    const topic = `txn-kill-${run}`;
    const transactionalId = `txn-kill-${run}`;
    await createTopic(topic, { partitions: PARTITIONS, replicationFactor: 3, configs: { 'min.insync.replicas': 2 }, bootstrap: cluster!.bootstrap });
    const client = new KafkaClient({ brokers: cluster!.bootstrap });
    const reports: DeliveryReport[] = [];
    const outcomes: string[] = [];
    const faults: string[] = [];
    let restarts: Promise<void>[] = [];
    const nodeOf = (brokerId: number) => brokerId; // scripts/kafka numbers nodes from 1, as node.id
    let producer: Producer = client.producer(topic, { transactionalId });
    producer.deliveryReports$.subscribe((r) => reports.push(r as DeliveryReport));
    await producer.initTransactions();
    let killed = -1;
    try {
      for (let t = 0; t < TRANSACTIONS; t++) {
        if (t === 40) {
          await client.cluster.partitionsOf(topic);
          killed = nodeOf(client.cluster.leaderOf(topic, 0));
          faults.push(`t${t}: killed node ${killed}, leader of partition 0`);
          await cluster!.killNode(killed);
        }
        if (t === 80 || t === 160) {
          faults.push(`t${t}: restarting node ${killed}`);
          restarts.push(cluster!.startNode(killed));
        }
        if (t === 120) {
          await Promise.all(restarts);
          restarts = [];
          const { response } = await clusterTransactionTransport(client.cluster, 30_000).sendToAny(FindCoordinator, { keyType: CoordinatorKeyType.transaction, keys: [transactionalId] });
          killed = response.coordinators[0].nodeId;
          faults.push(`t${t}: killed node ${killed}, the transaction coordinator`);
          await cluster!.killNode(killed);
        }
        outcomes.push(await oneTransaction(t));
      }
      await Promise.all(restarts);
    } finally {
      await producer.stop().catch(() => undefined);
      await client.close();
    }

    async function oneTransaction(t: number): Promise<string> {
      try {
        producer.beginTransaction();
        for (let i = 0; i < RECORDS; i++) await producer.produce(Buffer.from(`${t}:${i}`), { partition: i % PARTITIONS });
        await producer.commitTransaction();
        return 'committed';
      } catch (error) {
        if (producer.transactionState === 'abortable-error' || producer.transactionState === 'in-transaction') {
          await producer.abortTransaction().catch(() => undefined);
          return `aborted (${(error as Error).name})`;
        }
        // Fatal (fenced): a new instance takes the id over, aborting whatever was left open.
        await producer.stop().catch(() => undefined);
        producer = client.producer(topic, { transactionalId });
        producer.deliveryReports$.subscribe((r) => reports.push(r as DeliveryReport));
        await producer.initTransactions();
        return `fatal (${(error as Error).name})`;
      }
    }

    const visible = new Map<number, number>();
    for (const record of await consumeAll(topic, { bootstrap: cluster!.bootstrap, config: { 'isolation.level': 'read_committed' }, timeoutMs: 120_000, headers: false })) {
      const t = Number(record.value!.toString().split(':')[0]);
      visible.set(t, (visible.get(t) ?? 0) + 1);
    }
    const byTransaction = new Map<number, { acknowledged: number; failed: number; errors: Set<string> }>();
    for (const report of reports) {
      const t = Number(report.message.value!.toString().split(':')[0]);
      const entry = byTransaction.get(t) ?? { acknowledged: 0, failed: 0, errors: new Set<string>() };
      if (report.error) {
        entry.failed++;
        entry.errors.add(report.error.name);
      } else entry.acknowledged++;
      byTransaction.set(t, entry);
    }
    const committed = outcomes.filter((o) => o === 'committed').length;
    console.log(`      faults: ${faults.join('; ')}`);
    console.log(`      ${committed} committed, ${outcomes.length - committed} not (${[...new Set(outcomes.filter((o) => o !== 'committed'))].join(', ') || 'none'}); ${reports.length} reports`);
    const recordErrors = new Map<string, number>();
    for (const report of reports) {
      if (report.error === undefined) continue;
      const name = report.error.name === 'TransactionAbortedError' ? 'TransactionAbortedError' : `${report.error.name}: ${report.error.message.slice(0, 120)}`;
      recordErrors.set(name, (recordErrors.get(name) ?? 0) + 1);
    }
    console.log(`      record errors: ${[...recordErrors].map(([name, n]) => `${n} x ${name}`).join('; ') || 'none'}`);
    expect(reports, 'one report per record').to.have.length(TRANSACTIONS * RECORDS);
    for (let t = 0; t < TRANSACTIONS; t++) {
      const seen = visible.get(t) ?? 0;
      const entry = byTransaction.get(t)!;
      expect([0, RECORDS], `transaction ${t} is whole or absent (${outcomes[t]})`).to.include(seen);
      if (outcomes[t] === 'committed') {
        expect(seen, `committed transaction ${t} is visible`).to.equal(RECORDS);
        expect(entry.acknowledged, `transaction ${t}'s records reported acknowledged`).to.equal(RECORDS);
      } else {
        expect(seen, `transaction ${t} (${outcomes[t]}) is not visible`).to.equal(0);
        expect(entry.acknowledged, `no record of transaction ${t} (${outcomes[t]}) reported acknowledged`).to.equal(0);
      }
    }
    // The faults landed inside the run, and most transactions still committed.
    expect(faults).to.have.length(4);
    expect(committed).to.be.greaterThan(TRANSACTIONS / 2);
  });
});
