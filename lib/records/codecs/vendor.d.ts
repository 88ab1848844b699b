// The two codec packages ship no typings; only the calls kafka-rx makes are declared.
declare module 'lz4' {
  const lz4: {
    encode(data: Buffer): Buffer;
    decode(data: Buffer): Buffer;
    /** LZ4 block compression into `output`; the compressed size, 0 when it does not fit. */
    encodeBlock(input: Uint8Array, output: Uint8Array): number;
    /** LZ4 block decompression into `output`; the decoded size, negative for a corrupt block. */
    decodeBlock(input: Uint8Array, output: Uint8Array): number;
    /** Largest compressed size of `size` input bytes. */
    encodeBound(size: number): number;
    utils: {
      /** The frame descriptor's HC byte: second byte of its xxHash32. */
      descriptorChecksum(descriptor: Uint8Array): number;
      /** xxHash32 (seed 0), unsigned. */
      blockChecksum(data: Uint8Array): number;
    };
  };
  export default lz4;
}
declare module 'snappyjs' {
  const snappyjs: { compress(data: Uint8Array): Uint8Array; uncompress(data: Uint8Array): Uint8Array };
  export default snappyjs;
}
