import * as zstdWasm from '@bokuweb/zstd-wasm';
import { KafkaRxError, ProtocolError } from '../../errors.js';
import type { Codec } from './codec.js';

/*
 * zstd through WebAssembly (@bokuweb/zstd-wasm): no native build and no download at install time.
 * Its module loads asynchronously once; the producer awaits zstdReady() before using the codec.
 */
let ready = false;
let loading: Promise<void> | null = null;

export function zstdReady(): Promise<void> {
  loading ??= zstdWasm.init().then(() => {
    ready = true;
  });
  return loading;
}

function assertReady(): void {
  if (!ready) throw new KafkaRxError('the zstd codec is still loading: await zstdReady() first');
}

export const zstd: Codec = {
  id: 4,
  compress(data) {
    assertReady();
    return Buffer.from(zstdWasm.compress(data, 3));
  },
  decompress(data) {
    assertReady();
    const size = declaredContentSize(data);
    try {
      return Buffer.from(zstdWasm.decompress(data, { defaultHeapSize: size ?? Math.min(maxContentSize(data), UNKNOWN_SIZE_HEAP) }));
    } catch (error) {
      throw new ProtocolError(`zstd data does not decompress: ${(error as Error).message}`);
    }
  },
};

/*
 * The package allocates the output from the frame's declared content size, unchecked: a corrupt
 * header claiming gigabytes grows the WebAssembly memory to match. The declared size is read here
 * first and refused beyond what the input could hold (an RLE block, the densest zstd has, turns
 * 4 bytes into at most 128 KB). Frames without a declared size (kafka-rx always writes one)
 * decompress into at most UNKNOWN_SIZE_HEAP bytes.
 */
const ZSTD_MAGIC = 0xfd2fb528;
const UNKNOWN_SIZE_HEAP = 32 * 1024 * 1024;

function maxContentSize(data: Buffer): number {
  return Math.min(data.length * 32 * 1024, 0x7fffffff);
}

/** The first frame's content size, null when it declares none. */
function declaredContentSize(data: Buffer): number | null {
  if (data.length < 5 || data.readUInt32LE(0) !== ZSTD_MAGIC) throw new ProtocolError('zstd data does not decompress: not a zstd frame (magic)');
  const descriptor = data[4];
  const sizeFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  let at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 0x03];
  const width = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag];
  if (width === 0) return null;
  if (at + width > data.length) throw new ProtocolError('zstd data does not decompress: frame header truncated');
  let size = 0;
  for (let i = width - 1; i >= 0; i--) size = size * 256 + data[at + i];
  if (width === 2) size += 256;
  if (size > maxContentSize(data)) {
    throw new ProtocolError(`zstd data does not decompress: a frame of ${data.length} bytes cannot hold the ${size} bytes it declares`);
  }
  return size;
}
