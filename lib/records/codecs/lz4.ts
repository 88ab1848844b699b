import lz4js from 'lz4';
import { ProtocolError } from '../../errors.js';
import type { Codec } from './codec.js';

/** LZ4 frame format (magic 2 batches), from the `lz4` package; it runs as pure JavaScript here. */
export const lz4: Codec = {
  id: 3,
  compress: (data) => lz4js.encode(data),
  decompress(data) {
    try {
      return lz4js.decode(data);
    } catch (error) {
      throw new ProtocolError(`lz4 data does not decompress: ${(error as Error).message}`);
    }
  },
};
