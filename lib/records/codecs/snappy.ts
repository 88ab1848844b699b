import snappyjs from 'snappyjs';
import { asProtocolError } from '../../errors/convert.js';
import { ProtocolError } from '../../errors/index.js';
import { readUnsignedVarint, type ByteCursor } from '../varint.js';
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
      if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_HEADER.subarray(0, 8))) return uncompressBlock(data);
      const parts: Buffer[] = [];
      let offset = 16;
      while (offset < data.length) {
        if (offset + 4 > data.length) throw new ProtocolError('truncated xerial snappy block length');
        const length = data.readInt32BE(offset);
        offset += 4;
        if (length < 0 || offset + length > data.length) throw new ProtocolError('truncated xerial snappy block');
        parts.push(uncompressBlock(data.subarray(offset, offset + length)));
        offset += length;
      }
      return Buffer.concat(parts);
    } catch (error) {
      throw asProtocolError(error, 'snappy data does not decompress');
    }
  },
};

/*
 * Raw snappy blocks are decoded here rather than by snappyjs, whose decoder trusts its input: a
 * literal length with the top bit set walks its cursor back two billion bytes and then forward one
 * byte at a time (seconds of CPU for a 100-byte input), and it allocates whatever length a block
 * declares. This one checks every length and offset against the input and the declared output,
 * and refuses a declared length above what the block could hold: no snappy element expands more
 * than 64/3 times (a 3-byte copy of 64 bytes).
 */
function fail(reason: string, at: number): never {
  throw new ProtocolError(`snappy data does not decompress: ${reason} at byte ${at}`);
}

function uncompressBlock(block: Uint8Array): Buffer {
  // The block's uncompressed length: snappy's preamble is the same 32-bit LEB128 as Kafka's.
  const preamble: ByteCursor = { buf: block, pos: 0, end: block.length };
  const length = readUnsignedVarint(preamble);
  let pos = preamble.pos;
  if (length > Math.ceil((block.length * 64) / 3)) fail(`a block of ${block.length} bytes cannot hold the ${length} bytes it declares`, 0);
  const out = Buffer.allocUnsafe(length);
  let outPos = 0;
  while (pos < block.length) {
    const tag = block[pos++];
    let len: number;
    let offset: number;
    switch (tag & 0x03) {
      case 0: {
        len = (tag >>> 2) + 1;
        if (len > 60) {
          const bytes = len - 60;
          if (pos + bytes > block.length) fail('truncated literal length', pos);
          len = 0;
          for (let i = bytes - 1; i >= 0; i--) len = len * 256 + block[pos + i];
          len += 1;
          pos += bytes;
        }
        if (pos + len > block.length) fail('literal beyond the input', pos);
        if (outPos + len > length) fail('output longer than declared', pos);
        if (len < 32) {
          // Short literals are most of them: a loop beats making a subarray to copy from.
          for (let i = 0; i < len; i++) out[outPos + i] = block[pos + i];
        } else {
          out.set(block.subarray(pos, pos + len), outPos);
        }
        pos += len;
        outPos += len;
        continue;
      }
      case 1:
        if (pos + 1 > block.length) fail('truncated copy', pos);
        len = ((tag >>> 2) & 0x07) + 4;
        offset = ((tag >>> 5) << 8) | block[pos];
        pos += 1;
        break;
      case 2:
        if (pos + 2 > block.length) fail('truncated copy', pos);
        len = (tag >>> 2) + 1;
        offset = block[pos] | (block[pos + 1] << 8);
        pos += 2;
        break;
      default:
        if (pos + 4 > block.length) fail('truncated copy', pos);
        len = (tag >>> 2) + 1;
        offset = (block[pos] | (block[pos + 1] << 8) | (block[pos + 2] << 16)) + block[pos + 3] * 0x1000000;
        pos += 4;
    }
    if (offset === 0 || offset > outPos) fail(`copy offset ${offset} outside the ${outPos} bytes written`, pos);
    if (outPos + len > length) fail('output longer than declared', pos);
    // At most 64 bytes, possibly overlapping (then repeating the last `offset` bytes): in order.
    for (const stop = outPos + len; outPos < stop; outPos++) out[outPos] = out[outPos - offset];
  }
  if (outPos !== length) fail(`${outPos} bytes decoded, ${length} declared`, pos);
  return out;
}
