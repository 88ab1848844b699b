import type { Writer } from '../../protocol/writer.js';

/** A batch compression codec: Kafka compresses the records section of a batch as one block. */
export interface Codec {
  /** Value of the attributes' compression bits. */
  readonly id: number;
  compress(data: Buffer): Buffer;
  /** Compresses straight into a writer (the batch being encoded), saving a copy of the output. */
  compressInto?(data: Buffer, writer: Writer): void;
  decompress(data: Buffer): Buffer;
}
