// The three-node cluster secured end to end: brokers replicate over SASL_SSL (PLAIN between
// brokers), kafka-rx produces over SASL_SSL with SCRAM-SHA-256 to every broker, and the leader of
// a partition is stopped mid-run so that the partition moves and kafka-rx opens (and
// authenticates) a connection to its new leader. kcat reads back over SASL_SSL; every message is
// accounted for: nothing lost, nothing written twice, each reported once, order kept.
import { expect } from 'chai';
import { startCluster, type LocalCluster } from '../support/broker.js';
import { expectEveryMessageAccounted } from '../support/delivery-audit.js';
import { runUnderLeaderFaults } from '../support/leader-fault-run.js';
import { clientOptions, kcatReadBack } from '../support/secured-cluster.js';

describe('security: a three-node cluster over SASL_SSL with a leader move', function () {
  this.timeout(300_000);
  let cluster: LocalCluster | undefined;

  before(async () => {
    cluster = await startCluster({ nodes: 3, secure: true });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('30,000 messages, idempotent, acks=all, SCRAM-SHA-256 over TLS: 0 lost, 0 duplicated, each reported once', async () => {
    const sec = cluster!.security!;
    const count = 30_000;
    const run = await runUnderLeaderFaults({
      label: 'sasl-ssl-3-nodes',
      cluster: cluster!,
      count,
      partitions: 3,
      ratePerSecond: 4_000,
      client: clientOptions(sec, 'SASL_SSL', 'SCRAM-SHA-256'),
      readBack: kcatReadBack(sec),
      producer: { requiredAcks: 'all', enableIdempotence: true, lingerMs: 10, maxRetries: 1_000, retryBackoffMs: 200 },
      faults: [{ kind: 'stop', partition: 0, atAcknowledged: 6_000, restartAtAcknowledged: 18_000 }],
    });
    const c = run.counts;
    expect(run.producedAtFault[0]).to.be.greaterThan(0).and.lessThan(count);
    expect(c.produced).to.equal(count);
    expectEveryMessageAccounted(c, true);
    expect(c.inTopic).to.equal(c.acknowledged);
  });
});
