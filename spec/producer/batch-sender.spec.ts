import { expect } from 'chai';
import { lastValueFrom } from 'rxjs';
import { DeliveryTimeoutError } from '../../lib/errors/index.js';
import { BatchSender, type SenderContext } from '../../lib/producer/batch-sender.js';
import { DeliveryOutcomes } from '../../lib/producer/delivery-reports.js';
import type { SealedBatch } from '../../lib/producer/partition-buffer.js';
import { PendingMessage, type DeliveryReport } from '../../lib/producer/message.js';
import { resolveProducerOptions } from '../../lib/producer/options.js';
import { ProducerStats } from '../../lib/producer/stats.js';
import { encodeRecordBatch } from '../../lib/records/record-batch.js';
import { FakeTransport } from '../support/fake-transport.js';

function message(value: string, deadline: number): PendingMessage {
  const bytes = Buffer.from(value);
  const pending = new PendingMessage<unknown, unknown>('t', 0, Date.now(), bytes, null, undefined, bytes, undefined, deadline, bytes.length + 24);
  pending.broker = 0;
  return pending;
}

describe('BatchSender', () => {
  it('does not send again the batch-mates of a message that expired: its sealed batch fails whole, once', async () => {
    const transport = new FakeTransport(1);
    const outcomes = new DeliveryOutcomes(false, 100);
    const context: SenderContext = {
      topic: 't',
      options: resolveProducerOptions({ requiredAcks: 1, retryBackoffMs: 0 }),
      transport,
      outcomes,
      stats: new ProducerStats(),
      idempotence: null,
    };
    // A sealed batch as an earlier attempt left it: `early` accepted first with the later deadline,
    // `late` accepted after waiting for room in the queue, its deadline (set before it waited) passed.
    const early = message('early', Date.now() + 60_000);
    const late = message('late', Date.now() - 1);
    const sealed: SealedBatch = { partition: 0, messages: [early, late], producerId: 7n, producerEpoch: 0, baseSequence: 0, records: encodeRecordBatch([early, late]), done: false };
    for (const m of [early, late]) {
      m.sealed = sealed;
      m.attempts = 1;
      outcomes.track(m);
    }
    const reports: DeliveryReport[] = [];
    early.onReport = late.onReport = (report) => reports.push(report);

    await lastValueFrom(new BatchSender(context).send([early, late]));

    expect(transport.sent, 'requests sent after the batch had failed').to.deep.equal([]);
    expect(reports.map((r) => r.message.value?.toString())).to.have.members(['early', 'late']);
    expect(reports).to.have.length(2);
    for (const report of reports) expect(report.error).to.be.instanceOf(DeliveryTimeoutError);
    expect(outcomes.pendingCount).to.equal(0);
  });
});
