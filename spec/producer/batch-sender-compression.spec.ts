import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { lastValueFrom } from 'rxjs';
import { CompressionWorkerError } from '../../lib/errors/index.js';
import { BatchSender, type SenderContext } from '../../lib/producer/batch-sender.js';
import { DeliveryOutcomes } from '../../lib/producer/delivery-reports.js';
import { PendingMessage, type DeliveryReport } from '../../lib/producer/message.js';
import { resolveProducerOptions } from '../../lib/producer/options.js';
import { COMPRESSION_WORKER_MIN_BYTES } from '../../lib/producer/request-planner.js';
import { ProducerStats } from '../../lib/producer/stats.js';
import { crc32cReady } from '../../lib/records/crc32c.js';
import { recordSizeBound } from '../../lib/records/record-batch.js';
import { FakeTransport } from '../support/fake-transport.js';

function messages(partition: number, count: number, size: number, reports: DeliveryReport[], outcomes: DeliveryOutcomes): PendingMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const value = randomBytes(size);
    const m = new PendingMessage<unknown, unknown>('t', partition, Date.now() + i, value, null, undefined, value, undefined, Date.now() + 60_000, recordSizeBound(null, value, undefined));
    m.broker = 0;
    m.onReport = (report) => reports.push(report);
    outcomes.track(m);
    return m;
  });
}

/** Knows the Produce version at once, as a live connection does: a request leaves with no await before it. */
class ConnectedTransport extends FakeTransport {
  knownProduceVersion(): number {
    return this.produceVersionNumber;
  }
}

function rig(compressionWorker: boolean) {
  const transport = new ConnectedTransport(2);
  const outcomes = new DeliveryOutcomes(false, 10_000);
  const context: SenderContext = {
    options: resolveProducerOptions({ requiredAcks: 1, retryBackoffMs: 0, compression: 'lz4', compressionWorker }),
    transport,
    outcomes,
    stats: new ProducerStats(),
    idempotence: null,
  };
  return { transport, outcomes, sender: new BatchSender(context), reports: [] as DeliveryReport[] };
}

describe('BatchSender with the compression worker', function () {
  this.timeout(20_000);
  before(() => crc32cReady);

  it('sends requests in the order they were planned: a small batch planned after a large one on the worker waits for it', async () => {
    const { transport, outcomes, sender, reports } = rig(true);
    // 64 KB on partition 0 goes to the worker; 10 small records on partition 1 compress inline.
    const large = messages(0, 640, 100, reports, outcomes);
    const small = messages(1, 10, 100, reports, outcomes);
    expect(large.reduce((sum, m) => sum + m.size, 0)).to.be.at.least(COMPRESSION_WORKER_MIN_BYTES);
    const sends = [lastValueFrom(sender.send(large)), lastValueFrom(sender.send(small))];
    expect(transport.requests, 'nothing left before the large batch came back').to.deep.equal([]);
    await Promise.all(sends);
    expect(transport.sent.map((s) => [s.partition, s.count])).to.deep.equal([[0, 640], [1, 10]]);
    expect(reports.filter((r) => r.error !== undefined)).to.deep.equal([]);
    expect(reports).to.have.length(650);
    await sender.close();
  });

  it('sends a small batch at once when nothing is being compressed', async () => {
    const { transport, outcomes, sender, reports } = rig(true);
    const sent = lastValueFrom(sender.send(messages(1, 10, 100, reports, outcomes)));
    expect(transport.requests.map((r) => r.topics[0].partitions[0].index), 'written before any await').to.deep.equal([1]);
    await sent;
    await sender.close();
  });

  it('with compressionWorker false, compresses a large batch inline and sends it at once', async () => {
    const { transport, outcomes, sender, reports } = rig(false);
    const sent = lastValueFrom(sender.send(messages(0, 640, 100, reports, outcomes)));
    expect(transport.requests.map((r) => r.topics[0].partitions[0].index)).to.deep.equal([0]);
    await sent;
    await sender.close();
  });

  it('gives every message of a batch the worker cannot compress (closed) one failure with a CompressionWorkerError, never sent', async () => {
    const { transport, outcomes, sender, reports } = rig(true);
    await sender.close();
    await lastValueFrom(sender.send(messages(0, 640, 100, reports, outcomes)));
    expect(transport.sent).to.deep.equal([]);
    expect(reports).to.have.length(640);
    for (const report of reports) expect(report.error).to.be.instanceOf(CompressionWorkerError);
    expect(outcomes.pendingCount).to.equal(0);
  });
});
