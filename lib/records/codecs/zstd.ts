import * as zstdWasm from '@bokuweb/zstd-wasm';
import { asProtocolError } from '../../errors/convert.js';
import { KafkaRxError, ProtocolError } from '../../errors/index.js';
import type { Codec } from './codec.js';

/*
 * zstd through WebAssembly (@bokuweb/zstd-wasm): no native build and no download at install time.
 * Its module loads asynchronously once; the producer awaits zstdReady() before using the codec.
 *
 * The package keeps one WebAssembly instance per copy of the package in the process, and its
 * init() must run only once per copy: a second init() instantiates a new instance and points the
 * package's memory views (HEAP8, HEAPU8) at its memory, while the exported functions already
 * called stay bound to the first instance. Input is then copied into one memory, compressed in
 * the other, and the output read back from the first: bytes that are no zstd frame. Two copies of
 * kafka-rx in one process (the CommonJS and ES module builds, or two installed versions) share the
 * package's copy through Node's module cache, and each used to call init(). So the one init() per
 * copy of the package is kept process-wide, keyed by that copy's init function (two installed
 * versions of the package are two copies, each initialised once). An application that calls the
 * package's init() itself, after kafka-rx did, still breaks both: that is the package's to fix.
 */
const INITS = Symbol.for('kafka-rx.zstd-wasm.init');

// This module's view of that one initialisation: set once, never reset (the WebAssembly instance
// lives as long as the process), so process-wide like the instance itself.
let ready = false;
let loading: Promise<void> | null = null;

function initOnce(): Promise<void> {
  const shared = globalThis as typeof globalThis & { [INITS]?: WeakMap<object, Promise<void>> };
  const inits = (shared[INITS] ??= new WeakMap());
  let init = inits.get(zstdWasm.init);
  if (init === undefined) {
    init = zstdWasm.init();
    inits.set(zstdWasm.init, init);
  }
  return init;
}

export function zstdReady(): Promise<void> {
  loading ??= initOnce().then(() => {
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
      throw asProtocolError(error, 'zstd data does not decompress');
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
