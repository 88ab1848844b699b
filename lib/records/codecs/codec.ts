/** A batch compression codec: Kafka compresses the records section of a batch as one block. */
export interface Codec {
  /** Value of the attributes' compression bits. */
  readonly id: number;
  compress(data: Buffer): Buffer;
  decompress(data: Buffer): Buffer;
}
