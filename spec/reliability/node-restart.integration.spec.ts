// A one-node cluster SIGKILLed mid-run and restarted 5 s later, while a producer with the default
// options (acks all, so idempotent) writes 150,000 records: the outage is waited out, not counted
// against maxRetries, so nothing fails; kcat reads back every record once, in order.
import { expect } from 'chai';
import { KafkaClient } from '../../lib/index.js';
import { startCluster, type LocalCluster } from '../support/broker.js';
import { DeliveryAudit, expectEveryMessageAccounted, formatCounts, producePaced } from '../support/delivery-audit.js';
import { within } from '../support/leader-faults.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

describe('reliability: a single node SIGKILLed and restarted 5 s later', function () {
  this.timeout(300_000);
  let cluster: LocalCluster | undefined;

  before(async () => {
    cluster = await startCluster({ nodes: 1 });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('default options (acks all), 150,000 records: 0 failed, 0 lost, 0 duplicated, order kept', async () => {
    const count = 150_000;
    const topic = uniqueTopic('node-restart');
    await createTopic(topic, { partitions: 3, bootstrap: cluster!.bootstrap });
    const client = new KafkaClient({ brokers: cluster!.bootstrap, clientId: 'kafka-rx-node-restart' });
    const audit = new DeliveryAudit(count);
    const started = Date.now();
    const events: string[] = [];
    const note = (what: string) => events.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
    let producedAtKill = -1;
    try {
      const producer = client.producer(topic, { requiredAcks: 'all' });
      audit.watch(producer);
      const producing = producePaced(producer, audit, count, 10_000);
      const faulting = (async () => {
        await within(audit.whenAcknowledged(20_000), 120_000, '20,000 acknowledged before the kill');
        producedAtKill = audit.produced;
        note(`kill node 1 at produced=${audit.produced} acknowledged=${audit.acknowledged}`);
        await cluster!.killNode(1);
        await new Promise((r) => setTimeout(r, 5_000));
        note(`restarting node 1 at produced=${audit.produced} acknowledged=${audit.acknowledged}`);
        await cluster!.startNode(1);
        note('node 1 back');
      })();
      const [produced, faulted] = await Promise.allSettled([producing, faulting]);
      if (faulted.status === 'rejected') throw faulted.reason;
      if (produced.status === 'rejected') throw produced.reason;
      note(`produce() loop done (${audit.produced} accepted)`);
      await within(producer.flush(), 150_000, 'every outcome');
      note(`every message has its outcome (acknowledged=${audit.acknowledged} failed=${audit.failed})`);
      await producer.stop();
    } finally {
      await client.close();
    }
    const c = await audit.verify(topic, cluster!.bootstrap, 120_000);
    console.log(`      ${formatCounts('node-restart', c)}`);
    for (const e of events) console.log(`        ${e}`);
    expect(producedAtKill, 'the kill landed mid-run').to.be.greaterThan(0).and.lessThan(count);
    expect(c.produced).to.equal(count);
    expectEveryMessageAccounted(c, true);
    expect(c.failed, 'failed').to.equal(0);
    expect(c.inTopic).to.equal(count);
  });
});
