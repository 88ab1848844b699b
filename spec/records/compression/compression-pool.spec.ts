import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CompressionWorkerError } from '../../../lib/errors/index.js';
import { CompressionPool } from '../../../lib/records/compression/compression-pool.js';
import { crc32cReady } from '../../../lib/records/crc32c.js';
import { decodeRecordBatches, RECORD_BATCH_OVERHEAD, RecordBatchEncoder, type BatchRecord, type RecordBatchOptions } from '../../../lib/records/record-batch.js';

const echoingWorker = pathToFileURL(join(__dirname, '..', '..', 'support', 'echoing-compression-worker.cjs'));

/** Records whose values are half random (incompressible), half repeated: both kinds of lz4 block. */
function recordsOf(count: number, tag: number): BatchRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: i % 3 === 0 ? null : Buffer.from(`key-${tag}-${i}`),
    value: i % 2 === 0 ? randomBytes(100 + (i % 50)) : Buffer.alloc(120, tag + i),
    timestamp: 1_700_000_000_000 + tag * 1000 + i,
    headers: i % 7 === 0 ? [{ key: 'h', value: Buffer.from(String(i)) }] : undefined,
  }));
}

function prepare(pool: CompressionPool, encoder: RecordBatchEncoder, records: BatchRecord[], options: RecordBatchOptions): Buffer {
  return encoder.encodeForCompression(records, options, pool.workspace(RECORD_BATCH_OVERHEAD + 1024));
}

/** A prepared job of `bytes` bytes for the echoing worker, first byte `first`. */
function job(pool: CompressionPool, bytes: number, first: number): Uint8Array {
  const prepared = new Uint8Array(pool.workspace(bytes), 0, bytes);
  prepared.fill(first);
  return prepared;
}

describe('compression pool: record batches compressed on a worker thread', function () {
  this.timeout(20_000);
  let pool: CompressionPool;

  before(() => crc32cReady);
  afterEach(() => pool.close());

  it('answers several batches under way each with the bytes inline compression makes, which the decoder reads', async () => {
    pool = new CompressionPool();
    const encoder = new RecordBatchEncoder();
    // Sizes across the lz4 64 KB block boundary, and idempotent fields that must survive.
    const batches = [5, 400, 700, 1500, 3, 900].map((count, tag) => ({ records: recordsOf(count, tag), options: { compression: 'lz4', producerId: 42n, producerEpoch: 3, baseSequence: tag * 10_000, isTransactional: tag % 2 === 1 } as RecordBatchOptions }));
    const expected = batches.map(({ records, options }) => Buffer.from(encoder.encode(records, options)));
    const compressed = await Promise.all(batches.map(({ records, options }) => pool.compress(prepare(pool, encoder, records, options), 'lz4')));
    compressed.forEach((batch, i) => {
      expect(batch.equals(expected[i]), `batch ${i}`).to.equal(true);
      const [decoded] = decodeRecordBatches(batch);
      expect(decoded.compression).to.equal('lz4');
      expect(decoded.baseSequence).to.equal(i * 10_000);
      expect(decoded.records.map((r) => r.value!.toString('hex'))).to.deep.equal(batches[i].records.map((r) => r.value!.toString('hex')));
    });
    expect(pool.pending).to.equal(0);
  });

  it('fails the batches the thread held when it dies, with a retriable CompressionWorkerError, and starts a new thread for the next', async () => {
    pool = new CompressionPool(echoingWorker);
    const before = pool.compress(job(pool, 100, 1), 'lz4');
    const dying = pool.compress(job(pool, 100, 0xff), 'lz4');
    const behind = pool.compress(job(pool, 100, 2), 'lz4');
    expect((await before)[0]).to.equal(1);
    for (const failed of [dying, behind]) {
      const error = await failed.then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(CompressionWorkerError);
      expect((error as CompressionWorkerError).retriable).to.equal(true);
    }
    expect(pool.pending).to.equal(0);
    const after = await pool.compress(job(pool, 100, 3), 'lz4');
    expect(after[0]).to.equal(3);
  });

  it('close() ends the thread: a batch it held fails, later ones are refused, and close() resolves', async () => {
    pool = new CompressionPool();
    const encoder = new RecordBatchEncoder();
    const held = pool.compress(prepare(pool, encoder, recordsOf(2000, 1), { compression: 'lz4' }), 'lz4').then(() => null, (e: unknown) => e);
    await pool.close();
    const error = await held;
    // It may have answered before close() came: then it is a batch, else the error.
    if (error !== null) expect(error).to.be.instanceOf(CompressionWorkerError);
    expect(pool.pending).to.equal(0);
    const refused = await pool.compress(prepare(pool, encoder, recordsOf(1, 1), { compression: 'lz4' }), 'lz4').then(() => null, (e: unknown) => e);
    expect(refused).to.be.instanceOf(CompressionWorkerError);
    expect((refused as Error).message).to.match(/closed/);
  });

  it('hands the ArrayBuffers of answered jobs back for the next jobs to write into', async () => {
    pool = new CompressionPool(echoingWorker);
    const first = job(pool, 5000, 1);
    const buffer = first.buffer;
    await pool.compress(first, 'lz4');
    expect(buffer.byteLength, 'transferred away').to.equal(0);
    const reused = pool.workspace(4000);
    expect(reused.byteLength).to.equal(5000);
    expect(pool.workspace(4000)).to.not.equal(reused);
  });
});
