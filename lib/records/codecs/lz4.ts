import lz4js from 'lz4';
import { ProtocolError } from '../../errors/index.js';
import type { Writer } from '../../protocol/writer.js';
import type { Codec } from './codec.js';

/*
 * LZ4 frame format (magic 2 batches), framed here around the `lz4` package's block functions
 * (its native LZ4_compress_default / LZ4_decompress_safe). The package's own frame functions run a
 * Transform stream per call: that costs more than compressing a small batch, and its decoder
 * reports a truncated frame by throwing later, outside the caller (an uncaught exception), after
 * returning the bytes it had.
 *
 * Written as Kafka's Java client writes it: version 1, independent blocks of at most 64 KB, no
 * block or content checksums, so every frame starts 04 22 4D 18 60 40 82. Read: any valid frame
 * (block sizes 64 KB to 4 MB, optional content size, block and content checksums), frames back to
 * back; dictionaries are refused, as no Kafka client writes them.
 */
const MAGIC = 0x184d2204;
const FLG_VERSION_1_INDEPENDENT = 0x60;
const BD_64KB = 0x40;
const BLOCK_SIZE = 64 * 1024;
const HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, FLG_VERSION_1_INDEPENDENT, BD_64KB, 0]);
HEADER[6] = lz4js.utils.descriptorChecksum(HEADER.subarray(4, 6));
const UNCOMPRESSED_BIT = 0x80000000;
const BLOCK_BOUND = lz4js.encodeBound(BLOCK_SIZE);

function frameBound(data: Buffer): number {
  return HEADER.length + Math.ceil(data.length / BLOCK_SIZE) * (4 + BLOCK_BOUND) + 4;
}

/** Writes the frame of `data` into `out` from 0; returns its length. */
function writeFrame(data: Buffer, out: Buffer): number {
  HEADER.copy(out, 0);
  let pos = HEADER.length;
  for (let start = 0; start < data.length; start += BLOCK_SIZE) {
    const block = data.subarray(start, start + BLOCK_SIZE);
    const size = lz4js.encodeBlock(block, out.subarray(pos + 4, pos + 4 + BLOCK_BOUND));
    if (size > 0 && size < block.length) {
      out.writeUInt32LE(size, pos);
      pos += 4 + size;
    } else {
      // Incompressible: the block is stored as it is, flagged by the size's high bit.
      out.writeUInt32LE((UNCOMPRESSED_BIT | block.length) >>> 0, pos);
      block.copy(out, pos + 4);
      pos += 4 + block.length;
    }
  }
  out.writeUInt32LE(0, pos); // end mark
  return pos + 4;
}

function compress(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(frameBound(data));
  return out.subarray(0, writeFrame(data, out));
}

function compressInto(data: Buffer, writer: Writer): void {
  writer.advance(writeFrame(data, writer.room(frameBound(data))));
}

const BLOCK_MAX_SIZES: readonly number[] = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

function fail(reason: string, at: number): never {
  throw new ProtocolError(`lz4 data does not decompress: ${reason} at byte ${at}`);
}

function decompress(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > data.length) fail(`frame truncated (need ${n} more bytes)`, pos);
  };
  do {
    need(7);
    if (data.readUInt32LE(pos) !== MAGIC) fail('not an LZ4 frame (magic)', pos);
    const descriptorStart = pos + 4;
    const flg = data[descriptorStart];
    const bd = data[descriptorStart + 1];
    if (flg >> 6 !== 1) fail(`frame version ${flg >> 6}`, descriptorStart);
    if (flg & 0x02 || bd & 0x8f) fail('reserved descriptor bits set', descriptorStart);
    if (flg & 0x01) fail('preset dictionaries are not supported', descriptorStart);
    const blockMaxSize = BLOCK_MAX_SIZES[(bd >> 4) & 0x07];
    if (blockMaxSize === 0) fail(`block maximum size code ${(bd >> 4) & 0x07}`, descriptorStart + 1);
    const blockChecksums = (flg & 0x10) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    pos = descriptorStart + 2 + (flg & 0x08 ? 8 : 0); // the content size, if any, is not trusted
    need(1);
    if (lz4js.utils.descriptorChecksum(data.subarray(descriptorStart, pos)) !== data[pos]) fail('descriptor checksum', pos);
    pos += 1;
    const frameParts: Buffer[] = [];
    let scratch: Buffer | null = null;
    for (;;) {
      need(4);
      const word = data.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMaxSize) fail(`block of ${size} bytes above the frame's ${blockMaxSize}`, pos - 4);
      need(size + (blockChecksums ? 4 : 0));
      const block = data.subarray(pos, pos + size);
      pos += size;
      if (blockChecksums) {
        if (lz4js.utils.blockChecksum(block) !== data.readUInt32LE(pos)) fail('block checksum', pos);
        pos += 4;
      }
      if (word & UNCOMPRESSED_BIT) {
        frameParts.push(block);
      } else {
        scratch ??= Buffer.allocUnsafe(blockMaxSize);
        const decoded = lz4js.decodeBlock(block, scratch);
        if (decoded < 0) fail('corrupt block', pos - size);
        frameParts.push(Buffer.from(scratch.subarray(0, decoded)));
      }
    }
    if (contentChecksum) {
      need(4);
      const content = frameParts.length === 1 ? frameParts[0] : Buffer.concat(frameParts);
      if (lz4js.utils.blockChecksum(content) !== data.readUInt32LE(pos)) fail('content checksum', pos);
      pos += 4;
    }
    parts.push(...frameParts);
  } while (pos < data.length);
  return parts.length === 1 ? Buffer.from(parts[0]) : Buffer.concat(parts);
}

export const lz4: Codec = { id: 3, compress, compressInto, decompress };
