import { gunzipSync, gzipSync } from 'node:zlib';
import { ProtocolError } from '../../errors.js';
import type { Codec } from './codec.js';

export const gzip: Codec = {
  id: 1,
  compress: (data) => gzipSync(data),
  decompress(data) {
    try {
      return gunzipSync(data);
    } catch (error) {
      throw new ProtocolError(`gzip data does not decompress: ${(error as Error).message}`);
    }
  },
};
