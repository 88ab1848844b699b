import snappyjs from 'snappyjs';
import { ProtocolError } from '../../errors.js';
import type { Codec } from './codec.js';

/*
 * Kafka's Java client writes snappy in xerial's framing (SnappyOutputStream), which librdkafka and
 * every broker read: a 16-byte header (0x82 "SNAPPY" 0x00, INT32 version 1, INT32 compatible 1)
 * then blocks of INT32 length + raw snappy. kafka-rx writes that framing and reads it or raw snappy.
 */
const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
const XERIAL_BLOCK = 32 * 1024;

export const snappy: Codec = {
  id: 2,
  compress(data) {
    const parts: Buffer[] = [XERIAL_HEADER];
    for (let offset = 0; offset < data.length || offset === 0; offset += XERIAL_BLOCK) {
      const block = Buffer.from(snappyjs.compress(data.subarray(offset, offset + XERIAL_BLOCK)));
      const length = Buffer.allocUnsafe(4);
      length.writeInt32BE(block.length, 0);
      parts.push(length, block);
      if (data.length === 0) break;
    }
    return Buffer.concat(parts);
  },
  decompress(data) {
    try {
      if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_HEADER.subarray(0, 8))) return Buffer.from(snappyjs.uncompress(data));
      const parts: Buffer[] = [];
      let offset = 16;
      while (offset < data.length) {
        if (offset + 4 > data.length) throw new ProtocolError('truncated xerial snappy block length');
        const length = data.readInt32BE(offset);
        offset += 4;
        if (length < 0 || offset + length > data.length) throw new ProtocolError('truncated xerial snappy block');
        parts.push(Buffer.from(snappyjs.uncompress(data.subarray(offset, offset + length))));
        offset += length;
      }
      return Buffer.concat(parts);
    } catch (error) {
      throw error instanceof ProtocolError ? error : new ProtocolError(`snappy data does not decompress: ${(error as Error).message}`);
    }
  },
};
