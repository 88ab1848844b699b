import { crc32cReady } from '../crc32c.js';
import type { Codec } from './codec.js';
import { gzip } from './gzip.js';
import { lz4 } from './lz4.js';
import { snappy } from './snappy.js';
import { zstd, zstdReady } from './zstd.js';

export type { Codec } from './codec.js';
export { zstdReady };

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export const codecs: Readonly<Record<Exclude<Compression, 'none'>, Codec>> = { gzip, snappy, lz4, zstd };

/** The codec behind a batch's compression bits (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
export function codecById(id: number): Codec | undefined {
  return [undefined, gzip, snappy, lz4, zstd][id];
}

/** Makes the codec usable (zstd loads its WebAssembly once). */
export async function prepareCodec(compression: Compression): Promise<void> {
  await crc32cReady;
  if (compression === 'zstd') await zstdReady();
}
