import { constants } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import { asProtocolError } from '../../errors/convert.js';
import type { Codec } from './codec.js';

const MAX_LENGTH = constants.MAX_LENGTH;

export const gzip: Codec = {
  id: 1,
  compress: (data) => gzipSync(data),
  decompress(data) {
    try {
      // Deflate expands at most 1032 times: a longer output cannot come from valid data.
      return gunzipSync(data, { maxOutputLength: Math.min(data.length * 1032 + 1024, MAX_LENGTH) });
    } catch (error) {
      throw asProtocolError(error, 'gzip data does not decompress');
    }
  },
};
