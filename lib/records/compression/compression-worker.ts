/*
 * The compression worker thread: finishes record batches the producer's planner encoded
 * uncompressed (compressBatch), one job at a time, answering in the order the jobs came.
 */
import { parentPort } from 'node:worker_threads';
import { crc32cReady } from '../crc32c.js';
import { compressBatch } from '../record-batch.js';
import type { CompressionJob, CompressionResult } from './messages.js';

/** Below this a result shares Node's buffer pool: it is copied out rather than transferred. */
const POOLED_BELOW = 4096;

const port = parentPort;
if (port === null) throw new Error('compression-worker runs as a worker thread');

// Jobs wait in the port until the listener is on: after the native CRC-32C has loaded.
void crc32cReady.then(() => {
  port.on('message', (job: CompressionJob) => {
    const spent = job.prepared.buffer as ArrayBuffer;
    let batch: Buffer;
    try {
      batch = compressBatch(job.prepared, job.compression);
    } catch (error) {
      const failed: CompressionResult = { id: job.id, error: error instanceof Error ? error.message : String(error), spent };
      port.postMessage(failed, [spent]);
      return;
    }
    if (batch.length < POOLED_BELOW) {
      const small: CompressionResult = { id: job.id, batch: Uint8Array.prototype.slice.call(batch), spent };
      port.postMessage(small, [spent]);
    } else {
      const result: CompressionResult = { id: job.id, batch: new Uint8Array(batch.buffer, batch.byteOffset, batch.length), spent };
      port.postMessage(result, [batch.buffer as ArrayBuffer, spent]);
    }
  });
});
