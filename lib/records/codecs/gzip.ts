import { gunzipSync, gzipSync } from 'node:zlib';
import type { Codec } from './codec.js';

export const gzip: Codec = {
  id: 1,
  compress: (data) => gzipSync(data),
  decompress: (data) => gunzipSync(data),
};
