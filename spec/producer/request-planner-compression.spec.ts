import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { PendingMessage } from '../../lib/producer/message.js';
import { PartitionBuffers } from '../../lib/producer/partition-buffer.js';
import { COMPRESSION_WORKER_MIN_BYTES, RequestPlanner, type PlanSettings, type RequestPlan } from '../../lib/producer/request-planner.js';
import { CompressionPool } from '../../lib/records/compression/compression-pool.js';
import { crc32cReady } from '../../lib/records/crc32c.js';
import { decodeRecordBatches, recordSizeBound } from '../../lib/records/record-batch.js';

function message(partition: number, index: number, size = 100): PendingMessage {
  // Half random, half repeated: compressible, so inline and worker sizes differ from the bound.
  const value = Buffer.concat([randomBytes(size / 2), Buffer.alloc(size / 2, index)]);
  return new PendingMessage<unknown, unknown>('plan', partition, 1_700_000_000_000 + index, value, null, undefined, value, undefined, Infinity, recordSizeBound(null, value, undefined));
}

const settings = (maxRequestSize: number, compressionPool?: CompressionPool): PlanSettings => ({
  version: 9, clientId: 'spec', acks: 1, timeoutMs: 1000, compression: 'lz4', maxRequestSize, compressionPool,
});

/** Each request as [partition, record count, batch bytes (hex)] per batch. */
function layout(plan: RequestPlan) {
  return plan.requests.map((request) => ({ size: request.size, batches: request.batches.map((b) => [b.partition, b.messages.length, b.records.toString('hex')]) }));
}

describe('request planner with a compression worker', function () {
  this.timeout(20_000);
  let pool: CompressionPool;
  before(() => crc32cReady);
  beforeEach(() => (pool = new CompressionPool()));
  afterEach(() => pool.close());

  it('compresses batches below COMPRESSION_WORKER_MIN_BYTES inline: the plan is ready at once', () => {
    const messages = Array.from({ length: 30 }, (_, i) => message(i % 3, i));
    const plan = new RequestPlanner(settings(1_000_000, pool)).plan(messages);
    expect(plan.compressed).to.equal(null);
    expect(pool.pending).to.equal(0);
    expect(layout(plan)).to.deep.equal(layout(new RequestPlanner(settings(1_000_000)).plan(messages)));
  });

  it('hands large batches to the worker and, once back, places them in the requests an inline plan makes, byte for byte', async () => {
    // Three partitions of ~60 KB each, in requests of at most 100 KB: placement depends on compressed sizes.
    const messages = Array.from({ length: 1800 }, (_, i) => message(i % 3, i));
    const inline = new RequestPlanner(settings(100_000)).plan(messages);
    const plan = new RequestPlanner(settings(100_000, pool)).plan(messages);
    expect(plan.compressed).to.not.equal(null);
    expect(plan.requests, 'no request before the batches are back').to.deep.equal([]);
    expect(pool.pending).to.be.greaterThan(0);
    await plan.compressed;
    new RequestPlanner(settings(100_000, pool)).place(plan);
    expect(layout(plan)).to.deep.equal(layout(inline));
    for (const request of plan.requests) expect(request.size).to.be.at.most(100_000);
    for (const request of plan.requests) for (const batch of request.batches) expect(decodeRecordBatches(batch.records)[0].records).to.have.length(batch.messages.length);
    expect(COMPRESSION_WORKER_MIN_BYTES).to.be.lessThan(60_000);
  });

  it('seals an idempotent batch before it goes to the worker; if it never comes back, the next plan encodes it again with the same sequence numbers', async () => {
    const buffers = new PartitionBuffers();
    const idempotence = { identity: { producerId: 9n, producerEpoch: 2 }, buffers };
    const messages = Array.from({ length: 400 }, (_, i) => message(0, i));
    for (const m of messages) {
      m.buffer = buffers.of('plan', 0);
      m.buffer.accept(m);
    }
    const closed = new CompressionPool();
    await closed.close();
    const failed = new RequestPlanner({ ...settings(1_000_000, closed), idempotence }).plan(messages);
    expect(await failed.compressed!.then(() => null, (e: Error) => e.name)).to.equal('CompressionWorkerError');
    const sealed = messages[0].sealed!;
    expect(sealed.baseSequence).to.equal(0);
    expect(sealed.records, 'no bytes kept for a resend').to.equal(null);
    expect(buffers.of('plan', 0).peekSequence()).to.equal(400);

    const again = new RequestPlanner({ ...settings(1_000_000, pool), idempotence }).plan(messages);
    await again.compressed;
    new RequestPlanner(settings(1_000_000)).place(again);
    const [batch] = again.requests[0].batches;
    expect(batch.sealed).to.equal(sealed);
    expect(sealed.records, 'kept for a resend').to.equal(batch.records);
    const [decoded] = decodeRecordBatches(batch.records);
    expect([decoded.producerId, decoded.producerEpoch, decoded.baseSequence, decoded.records.length]).to.deep.equal([9n, 2, 0, 400]);
  });
});
