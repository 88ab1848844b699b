// retryFailed against the real broker, through the fault proxy: records that failed without being
// written (every connection refused until their delivery timeout) are re-sent once the broker is
// reachable again and kcat reads each exactly once; records whose requests were on the wire when
// the answers stopped (MaybeWrittenError) are never re-sent, and kcat reads none of them twice.
import { expect } from 'chai';
import { from, lastValueFrom, mergeMap, tap, toArray } from 'rxjs';
import { KafkaClient, MaybeWrittenError, type DeliveryReport } from '../../lib/index.js';
import { retryFailed, toKafka } from '../../operators/index.js';
import { brokers } from '../support/broker.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { consumeAll } from '../support/kcat.js';
import { uniqueTopic } from '../support/topics.js';

const RECORDS = 500;

describe('retryFailed against the real broker (fault proxy)', function () {
  this.timeout(120_000);
  let admin: KafkaClient;
  before(() => {
    admin = new KafkaClient({ brokers: brokers(), clientId: 'kafka-rx-retry-failed-admin' });
  });
  after(() => admin.close());

  async function setUp(label: string) {
    const topic = uniqueTopic(label);
    await admin.createTopics([{ name: topic, numPartitions: 3, replicationFactor: 1 }]);
    const proxy = await startFaultProxy({ target: brokers()[0] });
    const client = new KafkaClient({ brokers: proxy.address, clientId: `kafka-rx-${label}`, requestTimeoutMs: 2_000 });
    // Default options but for short timeouts, so the outage outlasts the producer's own retries.
    const producer = client.producer(topic, { lingerMs: 10, deliveryTimeoutMs: 2_500, retryBackoffMs: 100 });
    await producer.produce(Buffer.from('warm-up'));
    await producer.flush();
    return { topic, proxy, client, producer };
  }

  const values = Array.from({ length: RECORDS }, (_, i) => `record-${i}`);

  it('re-sends records that were not written once the broker is back; kcat reads each exactly once', async () => {
    const { topic, proxy, client, producer } = await setUp('retry-not-written');
    try {
      proxy.dropAll({ refuse: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const firstFailures: DeliveryReport[] = [];
      const reports = await lastValueFrom(
        from(values).pipe(
          toKafka(producer, { toRecord: (value: string) => ({ value: Buffer.from(value) }) }),
          mergeMap((source) => source.reports),
          tap((report) => {
            if (report.error === undefined) return;
            firstFailures.push(report);
            // The broker comes back when the first failure is in: the re-sends find it reachable.
            if (firstFailures.length === 1) proxy.reset();
          }),
          retryFailed(producer, { count: 3, delay: 500 }),
          toArray(),
        ),
      );
      await producer.stop();
      expect(firstFailures.length, 'every record failed during the outage').to.equal(RECORDS);
      expect(firstFailures.filter((r) => r.error instanceof MaybeWrittenError)).to.deep.equal([]);
      expect(reports.filter((r) => r.error !== undefined).map((r) => r.error!.name)).to.deep.equal([]);
      expect(reports.every((r) => r.resends >= 1)).to.equal(true);
      const read = (await consumeAll(topic, { count: RECORDS + 1, headers: false })).map((r) => r.value!.toString());
      expect(read.length).to.equal(RECORDS + 1);
      expect(new Set(read)).to.deep.equal(new Set(['warm-up', ...values]));
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('never re-sends a record that may have been written: kcat reads none twice', async () => {
    const { topic, proxy, client, producer } = await setUp('retry-maybe-written');
    try {
      // Requests reach the broker (which writes them) but no answer comes back.
      proxy.stallResponses('forever');
      const reports = await lastValueFrom(
        from(values).pipe(
          toKafka(producer, { toRecord: (value: string) => ({ value: Buffer.from(value) }) }),
          mergeMap((source) => source.reports),
          retryFailed(producer, { count: 3, delay: 100, retryIf: () => true }),
          toArray(),
        ),
      );
      const producedBefore = producer.statsSnapshot().produced;
      proxy.reset();
      await producer.stop();
      expect(reports).to.have.length(RECORDS);
      const outcomes: Record<string, number> = {};
      for (const r of reports) outcomes[`${r.error?.name ?? 'acknowledged'} after ${r.resends} re-sends`] = (outcomes[`${r.error?.name ?? 'acknowledged'} after ${r.resends} re-sends`] ?? 0) + 1;
      expect(outcomes).to.deep.equal({ [`MaybeWrittenError after 0 re-sends`]: RECORDS });
      expect(producedBefore, 'nothing re-sent').to.equal(RECORDS + 1);
      const read = (await consumeAll(topic, { headers: false })).map((r) => r.value!.toString());
      expect(read.length, 'no record read twice').to.equal(new Set(read).size);
    } finally {
      await client.close();
      await proxy.close();
    }
  });
});
