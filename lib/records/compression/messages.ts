import type { Compression } from '../codecs/index.js';

/** A batch from RecordBatchEncoder.encodeForCompression(), its ArrayBuffer transferred with it. */
export interface CompressionJob {
  id: number;
  compression: Exclude<Compression, 'none'>;
  prepared: Uint8Array;
}

/**
 * The finished batch (its ArrayBuffer transferred back), or why compressing it failed; with the
 * job's own ArrayBuffer back, for the next job to write into.
 */
export type CompressionResult = { id: number; batch: Uint8Array; spent: ArrayBuffer } | { id: number; error: string; spent: ArrayBuffer };
