// KIP-368 re-authentication against a real broker whose connections.max.reauth.ms is 10 s: a
// producer writes for 60 s over SASL_SSL (SCRAM-SHA-512) and over SASL_PLAINTEXT (OAUTHBEARER,
// whose token provider is asked again for each authentication). A broker closes a connection
// whose session ran out, so staying on the same connection across the run takes re-authenticating
// it. The audit: every message reported once, nothing lost, nothing written twice, offsets where
// kcat found them; and the connections open at the end are those of the start, each having
// re-authenticated at least 3 times.
import { expect } from 'chai';
import { KafkaClient } from '../../lib/index.js';
import type { Connection } from '../../lib/network/connection.js';
import type { LocalCluster } from '../support/broker.js';
import { DeliveryAudit, expectEveryMessageAccounted, formatCounts } from '../support/delivery-audit.js';
import { SHARED_REAUTH_MS, clientOptions, kcatReadBack, securedCluster, unsecuredJwt, type ListenerKind, type MechanismName } from '../support/secured-cluster.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

const RUN_MS = 60_000;
const RATE_PER_SECOND = 2_000;

describe('security: re-authentication (KIP-368) keeps a 60-second run on its connections', function () {
  this.timeout(240_000);
  let cluster: LocalCluster;

  before(async function () {
    cluster = await securedCluster();
    expect(cluster.security!.reauthMs).to.equal(SHARED_REAUTH_MS);
  });

  const runs: Array<[ListenerKind, MechanismName]> = [['SASL_SSL', 'SCRAM-SHA-512'], ['SASL_PLAINTEXT', 'OAUTHBEARER']];

  it('SASL_SSL/SCRAM-SHA-512 and SASL_PLAINTEXT/OAUTHBEARER at once: nothing lost or duplicated, >= 3 re-authentications per connection', async () => {
    const sec = cluster.security!;
    const results = await Promise.all(runs.map(async ([listener, mechanism]) => {
      const topic = uniqueTopic(`writable-reauth-${mechanism}`.toLowerCase());
      await createTopic(topic, { partitions: 2, bootstrap: cluster.bootstrap });
      const options = clientOptions(sec, listener, mechanism);
      let tokensIssued = 0;
      if (mechanism === 'OAUTHBEARER') {
        // No expiresAtMs: the provider is asked at every authentication, so its calls count them.
        options.sasl = { mechanism, tokenProvider: async () => ({ value: unsecuredJwt('admin', Date.now() + 3_600_000 + tokensIssued++ * 1000) }) };
      }
      const client = new KafkaClient(options);
      const count = (RUN_MS / 1000) * RATE_PER_SECOND;
      const audit = new DeliveryAudit(count, 100);
      let first: Connection[] = [];
      try {
        const producer = client.producer(topic, { lingerMs: 5 });
        audit.watch(producer);
        const started = Date.now();
        for (let id = 0; id < count; id++) {
          await producer.produce(audit.valueFor(id), null);
          audit.produced++;
          if (id === 0) {
            await producer.flush();
            first = client.cluster.openConnections();
          }
          if (id % 200 === 199) {
            const ahead = started + ((id + 1) / RATE_PER_SECOND) * 1000 - Date.now();
            if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
          }
        }
        await producer.flush();
        const durationMs = Date.now() - started;
        const last = client.cluster.openConnections();
        await producer.stop();
        return { listener, mechanism, topic, audit, first, last, durationMs, tokensIssued };
      } finally {
        await client.close();
      }
    }));
    for (const r of results) {
      const { bootstrap, config } = kcatReadBack(sec);
      const counts = await r.audit.verify(r.topic, bootstrap, 120_000, config);
      const reauths = r.last.map((c) => c.reauthentications);
      console.log(`      ${formatCounts(`${r.listener}/${r.mechanism}`, counts)} durationMs=${r.durationMs} reauthentications=${reauths.join(',')}${r.mechanism === 'OAUTHBEARER' ? ` tokens=${r.tokensIssued}` : ''}`);
      expect(r.durationMs).to.be.at.least(RUN_MS - 1_000);
      expectEveryMessageAccounted(counts, false);
      expect(counts.duplicated, 'written twice').to.equal(0);
      expect(counts.inTopic).to.equal(counts.produced);
      // The same connections from start to end: none was closed by the broker and replaced.
      expect(r.first.length).to.be.greaterThan(0);
      expect(r.last).to.have.members(r.first);
      for (const c of r.last) expect(c.reauthentications).to.be.at.least(3);
      if (r.mechanism === 'OAUTHBEARER') expect(r.tokensIssued).to.be.at.least(1 + 3 * r.last.length);
    }
  });
});
