import { expect } from 'chai';
import { Writer } from '../../lib/protocol/writer.js';
import { Reader } from '../../lib/protocol/reader.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../lib/records/record-batch.js';
import { ProtocolError } from '../../lib/errors/index.js';
import {
  MAX_VARINT_BYTES,
  MAX_VARLONG_BYTES,
  putUnsignedVarint,
  putVarint,
  putVarlong,
  readUnsignedVarint,
  readVarint,
  readVarlong,
  unsignedVarintSize,
  varintSize,
} from '../../lib/records/varint.js';

const bytesOf = (build: (w: Writer) => void): string => {
  const w = new Writer(2); // small on purpose: every write below has to grow it
  build(w);
  return w.toBuffer().toString('hex');
};

// Expected bytes worked out from the definitions: zig-zag maps n to 2n (n >= 0) or -2n-1 (n < 0),
// then LEB128 writes 7 bits at a time, least significant group first, 0x80 on every byte but the last.
describe('varints: zig-zag and unsigned, exact bytes', () => {
  const signed32: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [2, '04'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'], // zig-zag 128: the first value needing two bytes
    [-65, '8101'],
    [8191, 'fe7f'],
    [-8192, 'ff7f'],
    [8192, '808001'],
    [1073741823, 'feffffff07'],
    [-1073741824, 'ffffffff07'],
    [2147483647, 'feffffff0f'], // INT32 max: zig-zag 0xFFFFFFFE
    [-2147483648, 'ffffffff0f'], // INT32 min: zig-zag 0xFFFFFFFF
  ];

  for (const [value, hex] of signed32) {
    it(`VARINT ${value} is ${hex}`, () => {
      expect(bytesOf((w) => w.varint(value))).to.equal(hex);
    });
  }

  const signed64: Array<[bigint, string]> = [
    [0n, '00'],
    [-1n, '01'],
    [1n, '02'],
    [-2n, '03'],
    [2147483647n, 'feffffff0f'],
    [-2147483648n, 'ffffffff0f'],
    [1073741824n, '8080808008'], // just outside the range the writer handles without BigInt
    [-1073741825n, '8180808008'],
    [2147483648n, '8080808010'],
    [-2147483649n, '8180808010'],
    [1600000000000n, '8080f4f6905d'], // a timestamp in milliseconds
    [-1600000000000n, 'fffff3f6905d'],
    [9007199254740991n, 'feffffffffffff1f'], // Number.MAX_SAFE_INTEGER
    [-9007199254740991n, 'fdffffffffffff1f'],
    [9223372036854775807n, 'feffffffffffffffff01'], // INT64 max: ten bytes
    [-9223372036854775808n, 'ffffffffffffffffff01'], // INT64 min
  ];

  for (const [value, hex] of signed64) {
    it(`VARLONG ${value} is ${hex}`, () => {
      expect(bytesOf((w) => w.varlong(value))).to.equal(hex);
      // A number gives the same bytes as the BigInt wherever the number is exact.
      if (value >= -9007199254740991n && value <= 9007199254740991n) {
        expect(bytesOf((w) => w.varlong(Number(value)))).to.equal(hex);
      }
    });
  }

  const unsigned: Array<[number, string]> = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2097151, 'ffff7f'],
    [2097152, '80808001'],
    [268435455, 'ffffff7f'],
    [268435456, '8080808001'],
    [4294967295, 'ffffffff0f'],
  ];

  for (const [value, hex] of unsigned) {
    it(`UNSIGNED_VARINT ${value} is ${hex} and reads back`, () => {
      expect(bytesOf((w) => w.uvarint(value))).to.equal(hex);
      const reader = new Reader(Buffer.from(hex, 'hex'));
      expect(reader.uvarint()).to.equal(value);
      expect(reader.pos).to.equal(hex.length / 2);
    });
  }

  it('writes several varints back to back without gaps', () => {
    expect(bytesOf((w) => w.varint(-1).varint(64).uvarint(300).varlong(-2147483649n))).to.equal('01' + '8001' + 'ac02' + '8180808010');
  });

  it('the record decoder reads zig-zag varlongs back: timestamp deltas of every size and sign', () => {
    // The record decoder's varint reader is private to lib/records; a batch whose first record is
    // at time 0 carries each timestamp below as its record's timestamp delta (a VARLONG).
    const deltas = [0, -1, 1, -2, 2, 63, -64, 64, -65, 2147483647, -2147483648, 2147483648, -2147483649, 1_600_000_000_000, -(2 ** 50), 2 ** 50];
    const batch = encodeRecordBatch(deltas.map((timestamp) => ({ key: null, value: null, timestamp })));
    const [decoded] = decodeRecordBatches(batch);
    expect(decoded.records.map((r) => r.timestampDelta)).to.deep.equal(deltas);
    expect(decoded.records.map((r) => r.timestamp)).to.deep.equal(deltas);
    expect(decoded.maxTimestamp).to.equal(2 ** 50);
  });
});

// lib/records/varint.ts is the one module that sizes, writes and reads them; the request and
// record encoders reserve exactly what the size functions say, so a size that disagreed with the
// bytes written would corrupt the frame.
describe('lib/records/varint.ts: sizes agree with the bytes written, and reads invert writes', () => {
  const boundaries = (limit: number): number[] => {
    const values = [0, 1, limit];
    for (let bits = 7; 2 ** bits <= limit; bits += 7) values.push(2 ** bits - 1, 2 ** bits, 2 ** bits + 1);
    return values;
  };

  it('unsignedVarintSize is the length putUnsignedVarint writes, and readUnsignedVarint reads it back', () => {
    const buf = Buffer.alloc(MAX_VARINT_BYTES);
    for (const value of boundaries(0xffffffff)) {
      const end = putUnsignedVarint(buf, 0, value);
      expect(unsignedVarintSize(value), `size of ${value}`).to.equal(end);
      const cursor = { buf, pos: 0, end };
      expect(readUnsignedVarint(cursor)).to.equal(value);
      expect(cursor.pos).to.equal(end);
    }
  });

  it('varintSize is the length putVarint / putVarlong write, and readVarint / readVarlong read them back', () => {
    const buf = Buffer.alloc(MAX_VARLONG_BYTES);
    const values = boundaries(Number.MAX_SAFE_INTEGER).flatMap((v) => [v, -v, -v - 1]).filter(Number.isSafeInteger);
    for (const value of values) {
      const end = putVarlong(buf, 0, value);
      expect(varintSize(value), `size of ${value}`).to.equal(end);
      expect(buf.subarray(0, end).toString('hex'), `bytes of ${value}`).to.equal(bytesOf((w) => w.varlong(BigInt(value))));
      const cursor = { buf, pos: 0, end };
      expect(readVarlong(cursor)).to.equal(value);
      expect(cursor.pos).to.equal(end);
      if (value >= -(2 ** 31) && value < 2 ** 31) {
        expect(putVarint(buf, 0, value)).to.equal(end);
        expect(readVarint({ buf, pos: 0, end })).to.equal(value);
      }
    }
  });

  it('refuses truncated and over-long input with a ProtocolError, leaving the cursor where it was', () => {
    const cases: Array<[string, (cursor: { buf: Buffer; pos: number; end: number }) => number]> = [
      ['8080', readUnsignedVarint], // truncated
      ['ffffffff10', readUnsignedVarint], // 33 bits
      ['ffffffffff01', readUnsignedVarint], // six bytes
      ['ffffffffff', readVarint], // a VARINT past five bytes
      ['ffffffffffffffffffff01', readVarlong], // a VARLONG past ten bytes
    ];
    for (const [hex, read] of cases) {
      const cursor = { buf: Buffer.from(hex, 'hex'), pos: 0, end: hex.length / 2 };
      expect(() => read(cursor), hex).to.throw(ProtocolError);
      expect(cursor.pos, hex).to.equal(0);
    }
  });
});
