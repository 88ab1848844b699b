import { Worker } from 'node:worker_threads';
import { CompressionWorkerError } from '../../errors/index.js';
import type { Compression } from '../codecs/index.js';
import type { CompressionJob, CompressionResult } from './messages.js';
import { compressionWorkerUrl } from './worker-location.js';

/**
 * ArrayBuffers kept for jobs to be written into, as many as jobs are usually under way: a new one
 * per job costs the main thread fresh pages (page faults, zeroing) at every batch.
 */
const SPARE_BUFFERS = 8;

interface Waiting {
  resolve(batch: Buffer): void;
  reject(error: CompressionWorkerError): void;
}

/**
 * One worker thread compressing record batches for one producer, so that its main thread encodes
 * and sends while the second core compresses. Jobs are answered in the order they were given.
 * The thread starts at the first job and again at the next job after it died (its jobs then fail
 * with a retriable CompressionWorkerError); close() ends it and fails what it still held. It keeps
 * the process alive only while it holds jobs.
 */
export class CompressionPool {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private readonly spares: ArrayBuffer[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly workerUrl: URL = compressionWorkerUrl) {}

  /** An ArrayBuffer for the next job to be written into (RecordBatchEncoder.encodeForCompression()). */
  workspace(bytes: number): ArrayBuffer {
    const { spares } = this;
    for (let i = spares.length - 1; i >= 0; i--) {
      if (spares[i].byteLength >= bytes) {
        const spare = spares[i];
        spares[i] = spares[spares.length - 1];
        spares.pop();
        return spare;
      }
    }
    return new ArrayBuffer(bytes);
  }

  /**
   * Compresses a batch from RecordBatchEncoder.encodeForCompression(). Its ArrayBuffer (which must
   * hold nothing else: not a slice of Node's buffer pool) is transferred, unusable here after.
   */
  compress(prepared: Uint8Array, compression: Exclude<Compression, 'none'>): Promise<Buffer> {
    if (this.closed) return Promise.reject(new CompressionWorkerError('the compression worker is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    if (this.waiting.size === 0) worker.ref();
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const job: CompressionJob = { id, compression, prepared };
      worker.postMessage(job, [prepared.buffer as ArrayBuffer]);
    });
  }

  /** Jobs given and not yet answered. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Ends the thread; jobs it still held fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === null) return;
    this.lost(worker, new CompressionWorkerError('the compression worker was closed before it answered'));
    await worker.terminate();
  }

  private start(): Worker {
    const worker = new Worker(this.workerUrl);
    this.worker = worker;
    worker.on('message', (result: CompressionResult) => this.answered(worker, result));
    worker.on('error', (error) => this.lost(worker, new CompressionWorkerError('the compression worker failed', { retriable: true, cause: error })));
    worker.on('exit', (code) => this.lost(worker, new CompressionWorkerError(`the compression worker exited (code ${code})`, { retriable: true })));
    return worker;
  }

  private answered(worker: Worker, result: CompressionResult): void {
    const waiting = this.waiting.get(result.id);
    if (waiting === undefined) return;
    this.waiting.delete(result.id);
    if (this.waiting.size === 0) worker.unref();
    if (this.spares.length < SPARE_BUFFERS) this.spares.push(result.spent);
    if ('error' in result) waiting.reject(new CompressionWorkerError(`compressing a record batch failed: ${result.error}`));
    else waiting.resolve(Buffer.from(result.batch.buffer, result.batch.byteOffset, result.batch.length));
  }

  /** The thread is gone (died, or closed): what it held fails, and the next job starts another. */
  private lost(worker: Worker, failure: CompressionWorkerError): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const { reject } of waiting) reject(failure);
  }
}
