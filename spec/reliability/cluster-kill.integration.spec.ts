// The leader of a partition is SIGKILLed while an idempotent acks=all producer writes 200,000
// messages to a three-node cluster (replication factor 3, min.insync.replicas=2), then restarted.
// kcat reads the topic back and every message is accounted for: nothing acknowledged is lost,
// nothing is written twice, every message has exactly one report and each partition keeps order.
// On the same cluster (one start for all three-node specs): two leaders killed in turn under the
// default options, and the README's quick start (createTopics() then produce()) 20 times.
import { expect } from 'chai';
import { KafkaClient, type DeliveryReport } from '../../lib/index.js';
import { startCluster, type LocalCluster } from '../support/broker.js';
import { expectEveryMessageAccounted } from '../support/delivery-audit.js';
import { consumeAll } from '../support/kcat.js';
import { runUnderLeaderFaults } from '../support/leader-fault-run.js';
import { uniqueTopic } from '../support/topics.js';

describe('reliability: a partition leader killed mid-run on a three-node cluster', function () {
  this.timeout(300_000);
  let cluster: LocalCluster | undefined;

  before(async () => {
    cluster = await startCluster({ nodes: 3 });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('200,000 messages, idempotent, acks=all: 0 lost, 0 duplicated, each reported once, order kept', async () => {
    const count = 200_000;
    const run = await runUnderLeaderFaults({
      label: 'cluster-kill',
      cluster: cluster!,
      count,
      partitions: 3,
      ratePerSecond: 8_000,
      producer: {
        requiredAcks: 'all',
        enableIdempotence: true,
        lingerMs: 10,
        minQueuedMessages: 2_000,
        // A failover takes the controller's session timeout (6 s here) to elect a new leader:
        // retries must outlast it; deliveryTimeoutMs is the real bound, as in the Java client.
        maxRetries: 1_000,
        retryBackoffMs: 200,
      },
      faults: [{ kind: 'kill', partition: 0, atAcknowledged: 40_000, restartAtAcknowledged: 120_000 }],
    });
    const c = run.counts;
    // The kill landed mid-run: some messages were still to be produced.
    expect(run.producedAtFault[0]).to.be.greaterThan(0).and.lessThan(count);
    expect(c.produced).to.equal(count);
    // Idempotent: also nothing written twice and every partition in order. One leader failover is
    // well within deliveryTimeoutMs, so nothing needs to fail.
    expectEveryMessageAccounted(c, true);
    expect(c.inTopic).to.equal(c.acknowledged + c.failedButWritten);
  });

  it('default options (acks all): two leaders killed and restarted one after the other, keyed records: 0 failed, 0 lost, 0 duplicated', async () => {
    // Every option at its default but requiredAcks: with acks=1 a SIGKILLed leader takes the
    // records it acknowledged alone with it, by Kafka's design. lingerMs 5000, maxRetries 3,
    // retryBackoffMs 100: each failover must be waited out, not counted as attempts.
    const count = 120_000;
    const run = await runUnderLeaderFaults({
      label: 'double-kill-defaults',
      cluster: cluster!,
      count,
      partitions: 3,
      ratePerSecond: 4_000,
      keyed: true,
      producer: { requiredAcks: 'all' },
      faults: [
        { kind: 'kill', partition: 0, atAcknowledged: 15_000, restartAtAcknowledged: 30_000 },
        { kind: 'kill', partition: 1, atAcknowledged: 50_000, restartAtAcknowledged: 70_000 },
      ],
    });
    const c = run.counts;
    // Both kills landed mid-run.
    for (const produced of run.producedAtFault) expect(produced).to.be.greaterThan(0).and.lessThan(count);
    expect(run.producedAtFault).to.have.length(2);
    expect(c.produced).to.equal(count);
    expectEveryMessageAccounted(c, true);
    expect(c.failed, 'failed').to.equal(0);
    expect(c.inTopic).to.equal(count);
  });

  it('the README quick start, 20 rounds: createTopics() then produce() at once, every record acknowledged', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 20; round++) {
      const topic = uniqueTopic('quick-start');
      // One bootstrap address, as in the quick start, a different node each round.
      const client = new KafkaClient({ brokers: [cluster!.brokers[round % 3]], clientId: 'shop' });
      const reports: DeliveryReport[] = [];
      try {
        await client.createTopics([{ name: topic, numPartitions: 6, replicationFactor: round % 2 === 0 ? 1 : 3 }]);
        const producer = client.producer(topic, { lingerMs: 10, requiredAcks: -1 });
        producer.deliveryReports$.subscribe((report) => reports.push(report));
        await producer.produce(Buffer.from('{"id":1}'), Buffer.from('customer-7'));
        await producer.produce(Buffer.from('{"id":2}'), { key: Buffer.from('customer-9'), headers: { source: 'web' } });
        await producer.stop();
      } finally {
        await client.close();
      }
      for (const report of reports) if (report.error) failures.push(`round ${round}: ${report.error.name}: ${report.error.message}`);
      expect(reports, `round ${round}: reports`).to.have.length(2);
      const read = await consumeAll(topic, { bootstrap: cluster!.bootstrap, count: 2, timeoutMs: 30_000, headers: false });
      expect(read.map((r) => r.value?.toString()).sort(), `round ${round}: kcat`).to.deep.equal(['{"id":1}', '{"id":2}']);
    }
    console.log(`      [quick start x20 on three nodes] failed reports: ${failures.length}${failures.length ? ` (${failures.slice(0, 3).join('; ')})` : ''}`);
    expect(failures).to.deep.equal([]);
  });
});
