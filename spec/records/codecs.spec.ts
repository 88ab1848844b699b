import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import lz4js from 'lz4';
import { ProtocolError } from '../../lib/errors/index.js';
import { codecs, codecById, zstdReady } from '../../lib/records/codecs/index.js';

const { lz4 } = codecs;

/** Text-like bytes that compress, with some variety. */
function compressible(length: number): Buffer {
  const words = ['kafka', 'record', 'batch', 'lz4', 'frame', 'value', 'key', 'header'];
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const word = `${words[(i * 7) % words.length]}-${i % 1000} `;
    parts.push(word);
    size += word.length;
  }
  return Buffer.from(parts.join('')).subarray(0, length);
}

/** An LZ4 frame built by hand from the format description, blocks stored uncompressed. */
function handFrame(payload: Buffer, { blockChecksum = false, contentChecksum = false, contentSize = false } = {}): Buffer {
  const flg = 0x40 | 0x20 | (blockChecksum ? 0x10 : 0) | (contentSize ? 0x08 : 0) | (contentChecksum ? 0x04 : 0);
  const descriptor = Buffer.concat([Buffer.from([flg, 0x40]), contentSize ? Buffer.alloc(8) : Buffer.alloc(0)]);
  if (contentSize) descriptor.writeBigUInt64LE(BigInt(payload.length), 2);
  const parts: Buffer[] = [Buffer.from('04224d18', 'hex'), descriptor, Buffer.from([lz4js.utils.descriptorChecksum(descriptor)])];
  for (let i = 0; i < payload.length; i += 1000) {
    const block = payload.subarray(i, i + 1000);
    const size = Buffer.alloc(4);
    size.writeUInt32LE((0x80000000 | block.length) >>> 0);
    parts.push(size, block);
    if (blockChecksum) {
      const sum = Buffer.alloc(4);
      sum.writeUInt32LE(lz4js.utils.blockChecksum(block));
      parts.push(sum);
    }
  }
  parts.push(Buffer.alloc(4));
  if (contentChecksum) {
    const sum = Buffer.alloc(4);
    sum.writeUInt32LE(lz4js.utils.blockChecksum(payload));
    parts.push(sum);
  }
  return Buffer.concat(parts);
}

describe('compression codecs', () => {
  before(() => zstdReady());

  describe('lz4 frames', () => {
    it('writes the frame header Kafka clients write: 04 22 4D 18, independent 64 KB blocks, no checksums (60 40 82)', () => {
      const frame = lz4.compress(compressible(1000));
      expect(frame.subarray(0, 7).toString('hex')).to.equal('04224d18604082');
      expect(frame.readUInt32LE(frame.length - 4)).to.equal(0); // end mark, no content checksum after it
    });

    it('splits at 64 KB blocks, stores incompressible blocks raw, and round-trips every size', () => {
      for (const size of [0, 1, 100, 65_535, 65_536, 65_537, 200_000, 1 << 20]) {
        for (const data of [compressible(size), randomBytes(size)]) {
          const frame = lz4.compress(data);
          expect(lz4.decompress(frame).equals(data), `${size} bytes`).to.equal(true);
        }
      }
      // One random 100 KB input: two blocks (64 KB + 36 KB), both stored with the high bit set.
      const raw = lz4.compress(randomBytes(100_000));
      expect(raw.readUInt32LE(7)).to.equal((0x80000000 | 65_536) >>> 0);
      expect(raw.readUInt32LE(7 + 4 + 65_536)).to.equal((0x80000000 | 34_464) >>> 0);
      expect(raw).to.have.length(7 + 4 + 65_536 + 4 + 34_464 + 4);
    });

    it('reads frames the lz4 package writes itself (4 MB blocks, content checksum)', () => {
      for (const data of [compressible(10), compressible(300_000), randomBytes(5000)]) {
        const frame = lz4js.encode(data);
        expect(frame.subarray(4, 6).toString('hex')).to.equal('6470');
        expect(lz4.decompress(frame).equals(data)).to.equal(true);
      }
    });

    it('what it writes, the lz4 package reads', () => {
      const data = compressible(150_000);
      expect(lz4js.decode(lz4.compress(data)).equals(data)).to.equal(true);
    });

    it('reads block checksums, content checksums, a content size and frames back to back', () => {
      const data = randomBytes(3500);
      for (const options of [{ blockChecksum: true }, { contentChecksum: true }, { contentSize: true }, { blockChecksum: true, contentChecksum: true, contentSize: true }]) {
        expect(lz4.decompress(handFrame(data, options)).equals(data), JSON.stringify(options)).to.equal(true);
      }
      const two = Buffer.concat([lz4.compress(data.subarray(0, 100)), handFrame(data.subarray(100), { contentChecksum: true })]);
      expect(lz4.decompress(two).equals(data)).to.equal(true);
    });

    it('refuses wrong checksums, reserved bits, dictionaries and oversized blocks with ProtocolError', () => {
      const data = randomBytes(2500);
      const blockSum = handFrame(data, { blockChecksum: true });
      blockSum[blockSum.length - 5] ^= 1; // last block's checksum
      expect(() => lz4.decompress(blockSum)).to.throw(ProtocolError, /block checksum/);
      const contentSum = handFrame(data, { contentChecksum: true });
      contentSum[contentSum.length - 1] ^= 1;
      expect(() => lz4.decompress(contentSum)).to.throw(ProtocolError, /content checksum/);
      const header = lz4.compress(data);
      const flip = (at: number, value: number) => {
        const copy = Buffer.from(header);
        copy[at] = value;
        return copy;
      };
      expect(() => lz4.decompress(flip(6, header[6] ^ 1))).to.throw(ProtocolError, /descriptor checksum/);
      expect(() => lz4.decompress(flip(4, 0xa0))).to.throw(ProtocolError, /version/);
      expect(() => lz4.decompress(flip(4, 0x62))).to.throw(ProtocolError, /reserved/);
      expect(() => lz4.decompress(flip(5, 0x41))).to.throw(ProtocolError, /reserved/);
      expect(() => lz4.decompress(flip(4, 0x61))).to.throw(ProtocolError, /dictionar/);
      expect(() => lz4.decompress(flip(5, 0x30))).to.throw(ProtocolError);
      const oversized = Buffer.from(header);
      oversized.writeUInt32LE(65_537, 7);
      expect(() => lz4.decompress(oversized)).to.throw(ProtocolError, /above/);
    });

    it('a truncated frame is a ProtocolError at once, never a late uncaught exception', async () => {
      const uncaught: unknown[] = [];
      const onUncaught = (error: unknown) => uncaught.push(error);
      process.on('uncaughtException', onUncaught);
      try {
        for (const data of [compressible(5000), randomBytes(5000)]) {
          const frame = lz4.compress(data);
          for (let cut = 0; cut < frame.length; cut++) {
            expect(() => lz4.decompress(frame.subarray(0, cut)), `cut at ${cut}`).to.throw(ProtocolError);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        process.off('uncaughtException', onUncaught);
      }
      expect(uncaught).to.deep.equal([]);
    });

    it('a corrupt compressed block is a ProtocolError', () => {
      const frame = lz4.compress(compressible(20_000));
      let refused = 0;
      for (let at = 11; at < frame.length - 4; at++) {
        const copy = Buffer.from(frame);
        copy[at] ^= 0xff;
        try {
          lz4.decompress(copy);
        } catch (error) {
          expect(error).to.be.instanceOf(ProtocolError);
          refused++;
        }
      }
      expect(refused).to.be.above(0);
    });
  });

  describe('every codec', () => {
    for (const id of [1, 2, 3, 4]) {
      const codec = codecById(id)!;
      it(`codec ${id} round-trips and refuses garbage and truncation with ProtocolError`, () => {
        expect(codec.id).to.equal(id);
        const data = compressible(70_000);
        const packed = codec.compress(data);
        expect(codec.decompress(packed).equals(data)).to.equal(true);
        for (const bad of [Buffer.alloc(0), Buffer.from('not compressed at all'), randomBytes(64), packed.subarray(0, packed.length >> 1), packed.subarray(0, 5)]) {
          let result: Buffer | undefined;
          try {
            result = codec.decompress(bad);
          } catch (error) {
            expect(error, `codec ${id}, ${bad.length} bytes`).to.be.instanceOf(ProtocolError);
            continue;
          }
          // A few formats can read a prefix as valid data (e.g. raw snappy of an empty input);
          // then it must at least not be the original data.
          expect(result.equals(data), `codec ${id} accepted a truncated input as whole`).to.equal(false);
        }
      });
    }

    it('gzip and zstd keep their library\'s error as the ProtocolError\'s cause', () => {
      for (const codec of [codecs.gzip, codecs.zstd]) {
        const packed = codec.compress(compressible(1000));
        const error = caught(() => codec.decompress(packed.subarray(0, packed.length - 1)));
        expect(error, `codec ${codec.id}`).to.be.instanceOf(ProtocolError);
        expect((error as ProtocolError).message).to.match(/data does not decompress: /);
        expect((error as ProtocolError).cause, `codec ${codec.id}`).to.be.instanceOf(Error).and.not.be.instanceOf(ProtocolError);
      }
    });

    it('inputs at the formats\' densest still decompress (10 MB of zeros)', () => {
      const zeros = Buffer.alloc(10 << 20);
      for (const id of [1, 2, 3, 4]) {
        const codec = codecById(id)!;
        expect(codec.decompress(codec.compress(zeros)).equals(zeros), `codec ${id}`).to.equal(true);
      }
      expect(codecs.gzip.decompress(gzipSync(zeros, { level: 9 })).length).to.equal(zeros.length);
    });

    it('zstd: a frame header declaring more than its bytes could hold is refused before allocating', () => {
      const frame = codecs.zstd.compress(compressible(1000)); // single segment, 2-byte size field
      expect(frame[4] >> 6, 'content size field width flag').to.equal(1);
      const lying = Buffer.from(frame);
      lying[4] = (lying[4] & 0x3f) | 0x80; // a 4-byte content size field...
      const claimed = Buffer.concat([lying.subarray(0, 5), Buffer.from([0, 0, 0, 0x40]), lying.subarray(7)]); // ...of 1 GB
      expect(() => codecs.zstd.decompress(claimed)).to.throw(ProtocolError, /cannot hold the 1073741824 bytes/);
      expect(() => codecs.zstd.decompress(Buffer.from('28b52ffd', 'hex'))).to.throw(ProtocolError);
    });

    it('snappy: a block declaring more than 64/3 times its length is refused before allocating', () => {
      const block = Buffer.from(snappyBlockClaiming(0x0fffffff)); // 256 MB claimed by a 10-byte block
      expect(() => codecs.snappy.decompress(block)).to.throw(ProtocolError, /cannot hold the 268435455 bytes/);
      const framed = codecs.snappy.compress(compressible(100));
      const lying = Buffer.concat([framed.subarray(0, 16), Buffer.from([0, 0, 0, block.length]), block]);
      expect(() => codecs.snappy.decompress(lying)).to.throw(ProtocolError, /cannot hold/);
    });

    it('snappy: lengths and offsets are checked against the input and the declared output', () => {
      const cases: Array<[string, number[]]> = [
        // A literal whose 4-byte length has its top bit set (snappyjs walked its cursor back 2^31 bytes on it).
        ['literal length 2^31', [0x10, 0xfc, 0x00, 0x00, 0x00, 0x80, 0x61, 0x62]],
        ['literal beyond the input', [0x05, 0x10, 0x61]],
        ['copy before the start', [0x08, 0x00, 0x61, 0x0d, 0x05]],
        ['copy offset 0', [0x08, 0x00, 0x61, 0x0d, 0x00]],
        ['output longer than declared', [0x02, 0x08, 0x61, 0x62, 0x63]],
        ['output shorter than declared', [0x04, 0x04, 0x61, 0x62]],
        ['truncated copy', [0x08, 0x00, 0x61, 0x0e]],
        ['length over 32 bits', [0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
      ];
      for (const [label, bytes] of cases) {
        expect(() => codecs.snappy.decompress(Buffer.from(bytes)), label).to.throw(ProtocolError);
      }
      // The same shapes, correct: literal "a" then an overlapping copy of 7 (offset 1) gives 8 × "a".
      expect(codecs.snappy.decompress(Buffer.from([0x08, 0x00, 0x61, 0x0d, 0x01])).toString()).to.equal('aaaaaaaa');
      // A 2-byte-offset copy and a 4-byte-offset copy, each of 3 bytes from 3 back.
      expect(codecs.snappy.decompress(Buffer.from([0x09, 0x08, 0x61, 0x62, 0x63, 0x0a, 0x03, 0x00, 0x0b, 0x03, 0x00, 0x00, 0x00])).toString()).to.equal('abcabcabc');
    });

    it('gzip reads what other gzip writers produce (node zlib at level 9)', () => {
      const data = compressible(10_000);
      expect(codecs.gzip.decompress(gzipSync(data, { level: 9 })).equals(data)).to.equal(true);
    });
  });
});

/** A raw snappy block whose length header claims `length` bytes, followed by a few literal bytes. */
function snappyBlockClaiming(length: number): Uint8Array {
  const header: number[] = [];
  let v = length;
  while (v >= 0x80) {
    header.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  header.push(v);
  return Uint8Array.from([...header, 0x08, 0x61, 0x62, 0x63]); // literal of 3 bytes "abc"
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
