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
    try {
      return Buffer.from(zstdWasm.decompress(data));
    } catch (error) {
      throw new ProtocolError(`zstd data does not decompress: ${(error as Error).message}`);
    }
  },
};
