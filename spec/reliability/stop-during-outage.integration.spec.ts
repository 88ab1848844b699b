// stop() while the broker cannot be reached at all, with messages pending: it must return within
// pendingTimeoutMs plus one request timeout (a behavioural bound, checked with a generous margin,
// not a speed test), and every pending message must be reported failed with a typed error,
// exactly once, with nothing reported after stop() returned. Two outages through the fault proxy
// in front of the real broker: every connection dropped and refused, and a broker that takes
// requests but never answers (requests in flight when stop() is called).
import { expect } from 'chai';
import { KafkaClient, ProducerStoppedError, type ProducerOptions } from '../../lib/index.js';
import { brokers } from '../support/broker.js';
import { DeliveryAudit, formatCounts } from '../support/delivery-audit.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { uniqueTopic } from '../support/topics.js';

const REQUEST_TIMEOUT_MS = 3_000;
const PENDING_TIMEOUT_MS = 2_000;
/** Scheduling noise on a loaded 2-core machine; the bound itself is pendingTimeoutMs + one request timeout. */
const MARGIN_MS = 5_000;
const MESSAGES = 2_000;

interface Outage {
  name: string;
  cut(proxy: FaultProxy): void;
  /** How the pending messages must be reported: never sent (not written), or on the wire (maybe written). */
  failures: string[];
}

const outages: Outage[] = [
  { name: 'every connection dropped and refused', cut: (p) => p.dropAll({ refuse: true }), failures: ['ProducerStoppedError'] },
  { name: 'the broker never answers (requests in flight)', cut: (p) => p.stallResponses('forever'), failures: ['MaybeWrittenError(ProducerStoppedError)'] },
];

const variants: Array<{ label: string; options: ProducerOptions }> = [
  { label: 'acks 1', options: { requiredAcks: 1, enableIdempotence: false } },
  { label: 'idempotent, acks all', options: { requiredAcks: 'all', enableIdempotence: true } },
];

describe('reliability: stop() during a total outage', function () {
  this.timeout(90_000);
  let admin: KafkaClient;

  before(() => {
    admin = new KafkaClient({ brokers: brokers(), clientId: 'kafka-rx-outage-admin' });
  });
  after(async () => {
    await admin?.close();
  });

  for (const outage of outages) {
    for (const variant of variants) {
      it(`${outage.name}, ${variant.label}: returns within pendingTimeoutMs + one request timeout, every pending message failed once`, async () => {
        const topic = uniqueTopic('stop-outage');
        await admin.createTopics([{ name: topic, numPartitions: 3, replicationFactor: 1 }]);
        const proxy = await startFaultProxy({ target: brokers()[0] });
        const client = new KafkaClient({ brokers: proxy.address, clientId: 'kafka-rx-outage', requestTimeoutMs: REQUEST_TIMEOUT_MS });
        try {
          const producer = client.producer(topic, {
            ...variant.options,
            lingerMs: 20,
            // Retries outlast the outage, so the messages are still pending when stop() is called.
            maxRetries: 1_000,
            retryBackoffMs: 100,
            pendingTimeoutMs: PENDING_TIMEOUT_MS,
          });
          const audit = new DeliveryAudit(MESSAGES + 1);
          audit.watch(producer);
          let completed = false;
          producer.deliveryReports$.subscribe({ complete: () => (completed = true) });

          // One message through first: metadata, connection (and producer id) are in place.
          await producer.produce(audit.valueFor(0), null);
          audit.produced++;
          await producer.flush();
          expect(audit.acknowledged).to.equal(1);

          outage.cut(proxy);
          // Let the client see its connection dropped: a request written to a socket whose close it
          // has not read yet may have left, and would rightly be reported "maybe written".
          await new Promise((r) => setTimeout(r, 200));
          for (let id = 1; id <= MESSAGES; id++) {
            await producer.produce(audit.valueFor(id), null);
            audit.produced++;
          }
          // Let the batches leave and meet the outage (refused connects, or requests in flight).
          await new Promise((r) => setTimeout(r, 300));
          expect(audit.acknowledged + audit.failed, 'settled before stop()').to.be.lessThan(audit.produced);

          const started = Date.now();
          await producer.stop();
          const tookMs = Date.now() - started;
          console.log(`      [stop-outage] ${outage.name}, ${variant.label}: stop() took ${tookMs} ms (bound ${PENDING_TIMEOUT_MS} + ${REQUEST_TIMEOUT_MS} ms, margin ${MARGIN_MS} ms); ${JSON.stringify(audit.tally())}`);
          expect(tookMs).to.be.at.most(PENDING_TIMEOUT_MS + REQUEST_TIMEOUT_MS + MARGIN_MS);

          const atStop = audit.tally();
          expect(atStop.unreported, 'messages without a report').to.equal(0);
          expect(atStop.reportedTwice, 'messages reported twice').to.equal(0);
          expect(atStop.acknowledged).to.equal(1);
          expect(atStop.failed).to.equal(MESSAGES);
          expect(completed, 'deliveryReports$ completed').to.equal(true);
          // Typed errors only; those still waiting when stop() gave up say so, and whether they may
          // have been written: never sent (refused connections), or on the wire (a frozen broker).
          expect(Object.keys(atStop.failuresByType)).to.deep.equal(outage.failures);
          expect(atStop.untypedFailures, 'failures without a typed KafkaRxError').to.equal(0);

          // Requests still out (stalled) time out later: they must not add reports or throw.
          await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS + 1_000));
          expect(audit.tally()).to.deep.equal(atStop);
          const after = await producer.produce(audit.valueFor(0), null).then(() => null, (e: unknown) => e);
          expect(after).to.be.instanceOf(ProducerStoppedError);

          // kcat as the judge, the broker reached directly: no message reported "not written" is there.
          const counts = await audit.verify(topic, brokers().join(','), 30_000);
          console.log(`      [stop-outage] ${outage.name}, ${variant.label}: ${formatCounts('read back', counts)}`);
          expect(counts.notWrittenButFound, 'reported not written, yet in the topic').to.equal(0);
          expect(counts.lost, 'acknowledged but not in the topic').to.equal(0);
        } finally {
          proxy.reset();
          const closing = Date.now();
          await client.close();
          if (process.env.KAFKA_RX_PROGRESS === '1') console.log(`      client.close() took ${Date.now() - closing} ms`);
          await proxy.close();
        }
      });
    }
  }
});
