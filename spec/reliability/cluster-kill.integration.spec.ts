// The leader of a partition is SIGKILLed while an idempotent acks=all producer writes 200,000
// messages to a three-node cluster (replication factor 3, min.insync.replicas=2), then restarted.
// kcat reads the topic back and every message is accounted for: nothing acknowledged is lost,
// nothing is written twice, every message has exactly one report and each partition keeps order.
import { expect } from 'chai';
import { startCluster, type LocalCluster } from '../support/broker.js';
import { expectEveryMessageAccounted } from '../support/delivery-audit.js';
import { runUnderLeaderFaults } from '../support/leader-fault-run.js';

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
});
