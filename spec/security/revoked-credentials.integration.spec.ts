// Credentials revoked while a producer runs: carol writes over SASL_SSL/SCRAM-SHA-256 to the
// shared secured broker (sessions of 10 s), and 3 s in her password is changed on the broker
// (scripts/kafka scram-password). Her connection's next re-authentication fails, and so does every
// reconnection. Every message gets exactly one outcome within a bounded time: those acknowledged
// are in the topic, the others fail with SaslAuthenticationFailedError (typed, not retried for
// deliveryTimeoutMs) and are not in the topic.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { KafkaClient, SaslAuthenticationFailedError } from '../../lib/index.js';
import { KAFKA_SCRIPT, type LocalCluster } from '../support/broker.js';
import { DeliveryAudit, formatCounts } from '../support/delivery-audit.js';
import { clientOptions, kcatReadBack, securedCluster } from '../support/secured-cluster.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

const RATE_PER_SECOND = 1_000;
/** At least this long, and at least REFUSED_MS after the password changed (a slow JVM start must not end the run first). */
const RUN_MS = 20_000;
const REFUSED_MS = 12_000;
const MAX_MESSAGES = 120_000;

function changePassword(cluster: LocalCluster, user: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(KAFKA_SCRIPT, ['scram-password', user, password, '--dir', cluster.dir], { timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`scram-password failed: ${String(stderr).trim().split('\n').slice(-3).join(' | ')}`));
      else resolve();
    });
  });
}

describe('security: credentials revoked mid-run', function () {
  this.timeout(180_000);
  let cluster: LocalCluster;

  before(async function () {
    this.timeout(240_000);
    cluster = await securedCluster();
  });

  it('every message has one outcome: acknowledged and in the topic, or SaslAuthenticationFailedError and not in it', async () => {
    const sec = cluster.security!;
    const topic = uniqueTopic('writable-revoked');
    await createTopic(topic, { partitions: 2, bootstrap: cluster.bootstrap });
    const options = clientOptions(sec, 'SASL_SSL', 'SCRAM-SHA-256');
    options.sasl = { mechanism: 'SCRAM-SHA-256', username: 'carol', password: sec.carolPassword };
    const client = new KafkaClient(options);
    const audit = new DeliveryAudit(MAX_MESSAGES, 64);
    let revokedAt = 0;
    let lastProduceAt = 0;
    let settledAt = 0;
    try {
      const producer = client.producer(topic, { lingerMs: 5 });
      audit.watch(producer);
      const started = Date.now();
      const progress = process.env.KAFKA_RX_PROGRESS === '1' ? setInterval(() => {
        const st = producer.statsSnapshot();
        console.log(`        ${Date.now() - started}ms produced=${audit.produced} ack=${audit.acknowledged} failed=${audit.failed} pending=${st.pending} queued=${JSON.stringify(st.queuedPerBroker)} retries=${st.retries} errors=${st.errors} conns=${client.cluster.openConnections().length}`);
      }, 2_000) : undefined;
      let revokeSettled = false;
      const revoking = (async () => {
        await new Promise((r) => setTimeout(r, 3_000));
        await changePassword(cluster, 'carol', `${sec.carolPassword}-revoked`);
        revokedAt = Date.now() - started;
      })().finally(() => {
        revokeSettled = true;
      });
      // Sessions last 10 s, so by REFUSED_MS after the change the connection has tried to re-authenticate.
      const going = () => Date.now() - started < RUN_MS || !revokeSettled || (revokedAt > 0 && Date.now() - started < revokedAt + REFUSED_MS);
      for (let id = 0; id < MAX_MESSAGES && going(); id++) {
        await producer.produce(audit.valueFor(id), null);
        audit.produced++;
        if (id % 100 === 99) {
          const ahead = started + ((id + 1) / RATE_PER_SECOND) * 1000 - Date.now();
          if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
        }
      }
      lastProduceAt = Date.now() - started;
      await revoking;
      await producer.flush();
      settledAt = Date.now() - started;
      clearInterval(progress);
      await producer.stop();
    } finally {
      await client.close();
    }
    const { bootstrap, config } = kcatReadBack(sec);
    const c = await audit.verify(topic, bootstrap, 60_000, config);
    console.log(`      ${formatCounts('revoked', c)} revokedAt=${revokedAt}ms lastProduceAt=${lastProduceAt}ms settledAt=${settledAt}ms`);
    expect(c.produced).to.be.at.least(RUN_MS / 1000 * RATE_PER_SECOND - 100);
    expect(c.acknowledged + c.failed, 'every message reported').to.equal(c.produced);
    expect(c.unreported).to.equal(0);
    expect(c.reportedTwice).to.equal(0);
    expect(c.lost, 'acknowledged but not in the topic').to.equal(0);
    expect(c.duplicated).to.equal(0);
    expect(c.untypedFailures).to.equal(0);
    // Written before the revocation took effect, refused after it.
    expect(c.acknowledged).to.be.greaterThan(0);
    expect(c.failed).to.be.greaterThan(0);
    expect(Object.keys(c.failuresByType)).to.deep.equal([SaslAuthenticationFailedError.name]);
    expect(c.failedButWritten, 'reported failed, yet written').to.equal(0);
    // Not retried until deliveryTimeoutMs (120 s): the last outcomes come soon after the last produce().
    expect(settledAt - lastProduceAt).to.be.lessThan(15_000);
  });
});
