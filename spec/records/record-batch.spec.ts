import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { KafkaRxError, ProtocolError } from '../../lib/errors/index.js';
import { codecs, zstdReady, type Compression } from '../../lib/records/codecs/index.js';
import {
  RECORD_BATCH_OVERHEAD,
  RecordBatchEncoder,
  decodeRecordBatches,
  encodeRecordBatch,
  recordSize,
  recordSizeBound,
  type BatchRecord,
  type DecodedBatch,
} from '../../lib/records/record-batch.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+|\/\/[^\n]*/g, ''), 'hex');

/** CRC-32C a bit at a time from the definition, independent of lib/records. */
function bitwiseCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** Rewrites a batch's CRC after a deliberate change to its bytes. */
function resealed(batch: Buffer): Buffer {
  const copy = Buffer.from(batch);
  copy.writeUInt32BE(bitwiseCrc32c(copy.subarray(21)), 17);
  return copy;
}

const T = 1_600_000_000_000; // 0x0000_0174_876E_8000

// The fixed input of the known-answer test: a keyed record with two headers (one null), a record
// with a null key and an empty value, and a tombstone with an empty key stamped before the first.
const fixedRecords: BatchRecord[] = [
  { key: Buffer.from('k'), value: Buffer.from('v1'), timestamp: T, headers: [{ key: 'h', value: Buffer.from('x') }, { key: 'n', value: null }] },
  { key: null, value: Buffer.alloc(0), timestamp: T + 5 },
  { key: Buffer.alloc(0), value: null, timestamp: T - 3, headers: [] },
];

// RecordBatch v2 as Kafka's protocol documentation lays it out ("Record Batch" and "Record" in
// the message-format section), written out field by field. Varints are zig-zag: n -> 2n or -2n-1.
const fixedBatch = hex(`
  0000000000000000   // baseOffset INT64: 0 (the broker assigns offsets)
  00000050           // batchLength INT32: 80 = 92 bytes in all - 12 (baseOffset and batchLength)
  ffffffff           // partitionLeaderEpoch INT32: -1 (producers send -1)
  02                 // magic INT8: 2
  b1792416           // crc UINT32: CRC-32C of every byte from attributes to the end
  0000               // attributes INT16: no compression (bits 0-2), CreateTime (bit 3), not transactional (4), not control (5)
  00000002           // lastOffsetDelta INT32: 2 (three records)
  000001748 76e8000  // baseTimestamp INT64: T, the first record's timestamp
  000001748 76e8005  // maxTimestamp INT64: T + 5, the latest of the three
  00000000000004d2   // producerId INT64: 1234
  0003               // producerEpoch INT16: 3
  0000002a           // baseSequence INT32: 42
  00000003           // records count INT32: 3

  // record 0: 16 bytes after its length
  20                 // length VARINT 16
  00                 // attributes INT8 (unused, 0)
  00                 // timestampDelta VARLONG 0
  00                 // offsetDelta VARINT 0
  02 6b              // keyLength VARINT 1, key "k"
  04 7631            // valueLength VARINT 2, value "v1"
  04                 // headers count VARINT 2
  02 68  02 78       //   header key length 1 "h", value length 1 "x"
  02 6e  01          //   header key length 1 "n", value length -1 (null)

  // record 1: 6 bytes after its length
  0c                 // length VARINT 6
  00                 // attributes
  0a                 // timestampDelta VARLONG 5
  02                 // offsetDelta VARINT 1
  01                 // keyLength VARINT -1: null key
  00                 // valueLength VARINT 0: empty value (no bytes follow)
  00                 // headers count VARINT 0

  // record 2: 6 bytes after its length
  0c                 // length VARINT 6
  00                 // attributes
  05                 // timestampDelta VARLONG -3 (earlier than the base timestamp)
  04                 // offsetDelta VARINT 2
  00                 // keyLength VARINT 0: empty key
  01                 // valueLength VARINT -1: null value, a tombstone
  00                 // headers count VARINT 0
`);

const fixedOptions = { producerId: 1234n, producerEpoch: 3, baseSequence: 42 };

const allCodecs: Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const codecIds: Record<Compression, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

function expectRecordsEqual(decoded: DecodedBatch, records: readonly BatchRecord[]): void {
  expect(decoded.records).to.have.length(records.length);
  records.forEach((record, i) => {
    const got = decoded.records[i];
    const where = `record ${i}`;
    expect(got.offsetDelta, where).to.equal(i);
    expect(got.offset, where).to.equal(BigInt(i));
    expect(got.timestamp, where).to.equal(record.timestamp);
    expect(got.attributes, where).to.equal(0);
    if (record.key === null) expect(got.key, where).to.equal(null);
    else expect(got.key !== null && got.key.equals(record.key), `${where} key`).to.equal(true);
    if (record.value === null) expect(got.value, where).to.equal(null);
    else expect(got.value !== null && got.value.equals(record.value), `${where} value`).to.equal(true);
    const headers = record.headers ?? [];
    expect(got.headers.map((h) => h.key), where).to.deep.equal(headers.map((h) => h.key));
    headers.forEach((h, j) => {
      if (h.value === null) expect(got.headers[j].value, `${where} header ${j}`).to.equal(null);
      else expect(got.headers[j].value?.equals(h.value), `${where} header ${j}`).to.equal(true);
    });
  });
}

describe('RecordBatch v2', function () {
  this.timeout(60_000);

  before(() => zstdReady());

  describe('exact bytes', () => {
    it('the worked-out batch carries a valid CRC-32C (checked bit by bit, not with lib/records)', () => {
      expect(fixedBatch).to.have.length(92);
      expect(fixedBatch.readUInt32BE(17)).to.equal(bitwiseCrc32c(fixedBatch.subarray(21)));
    });

    it('encodes the fixed input to exactly those bytes', () => {
      expect(encodeRecordBatch(fixedRecords, fixedOptions).toString('hex')).to.equal(fixedBatch.toString('hex'));
    });

    it('decodes those bytes field for field', () => {
      const [batch, ...rest] = decodeRecordBatches(fixedBatch);
      expect(rest).to.deep.equal([]);
      const { records, ...header } = batch;
      expect(header).to.deep.equal({
        baseOffset: 0n,
        batchLength: 80,
        partitionLeaderEpoch: -1,
        magic: 2,
        crc: 0xb1792416,
        attributes: 0,
        compression: 'none',
        timestampType: 'create',
        isTransactional: false,
        isControl: false,
        lastOffsetDelta: 2,
        baseTimestamp: T,
        maxTimestamp: T + 5,
        producerId: 1234n,
        producerEpoch: 3,
        baseSequence: 42,
      });
      expect(records.map((r) => r.timestampDelta)).to.deep.equal([0, 5, -3]);
      expectRecordsEqual(batch, fixedRecords);
    });

    it('writes -1 for producer id, epoch, sequence and leader epoch when none are given', () => {
      const batch = encodeRecordBatch([{ key: null, value: Buffer.from('a'), timestamp: T }]);
      expect(batch.subarray(43, 57).toString('hex')).to.equal('ffffffffffffffff' + 'ffff' + 'ffffffff');
      expect(batch.readInt32BE(12)).to.equal(-1);
      const [decoded] = decodeRecordBatches(batch);
      expect([decoded.producerId, decoded.producerEpoch, decoded.baseSequence, decoded.partitionLeaderEpoch]).to.deep.equal([-1n, -1, -1, -1]);
    });

    it('writes a given partition leader epoch, and bit 4 for a transactional batch', () => {
      const batch = encodeRecordBatch(fixedRecords, { ...fixedOptions, partitionLeaderEpoch: 9, isTransactional: true });
      expect(batch.readInt32BE(12)).to.equal(9);
      expect(batch.readInt16BE(21)).to.equal(0x10);
      // Only those two fields and the CRC differ from the fixed batch.
      const expected = Buffer.from(fixedBatch);
      expected.writeInt32BE(9, 12);
      expected.writeInt16BE(0x10, 21);
      expect(batch.toString('hex')).to.equal(resealed(expected).toString('hex'));
      const [decoded] = decodeRecordBatches(batch);
      expect(decoded.isTransactional).to.equal(true);
      expect(decoded.isControl).to.equal(false);
    });

    it('reads the timestamp type (bit 3) and the control flag (bit 5) from the attributes', () => {
      const logAppend = Buffer.from(fixedBatch);
      logAppend.writeInt16BE(0x08, 21);
      expect(decodeRecordBatches(resealed(logAppend))[0].timestampType).to.equal('logAppend');
      const control = Buffer.from(fixedBatch);
      control.writeInt16BE(0x20, 21);
      expect(decodeRecordBatches(resealed(control))[0].isControl).to.equal(true);
    });

    it('recordSize gives the exact bytes of each record', () => {
      const records: BatchRecord[] = [
        ...fixedRecords,
        { key: Buffer.alloc(200), value: Buffer.alloc(70_000), timestamp: T + 100_000, headers: [{ key: 'é'.repeat(70), value: Buffer.alloc(130) }] },
      ];
      let total = RECORD_BATCH_OVERHEAD;
      records.forEach((r, i) => (total += recordSize(r, i, r.timestamp - T)));
      expect(encodeRecordBatch(records)).to.have.length(total);
      expect(recordSize(fixedRecords[0], 0, 0)).to.equal(17);
      expect(recordSize(fixedRecords[1], 1, 5)).to.equal(7);
    });

    it('recordSizeBound is at least the record\'s size at any offset and timestamp delta, and reached at the largest', () => {
      const records: BatchRecord[] = [
        ...fixedRecords,
        { key: null, value: null, timestamp: T },
        { key: Buffer.alloc(200), value: Buffer.alloc(70_000), timestamp: T, headers: [{ key: 'é'.repeat(70), value: Buffer.alloc(130) }, { key: '', value: null }] },
      ];
      for (const r of records) {
        const bound = recordSizeBound(r.key, r.value, r.headers);
        for (const offsetDelta of [0, 1, 127, 128, 2 ** 31 - 1]) {
          for (const timestampDelta of [0, -1, 63, 1e6, -1e12, 2 ** 62]) expect(recordSize(r, offsetDelta, timestampDelta)).to.be.at.most(bound);
        }
        // Offset delta 2^31-1 (5 bytes) and timestamp delta -2^62 (10 bytes) take the most room.
        expect(recordSize(r, 2 ** 31 - 1, -(2 ** 62))).to.equal(bound);
      }
    });

    it('refuses an empty batch with a typed error', () => {
      expect(() => encodeRecordBatch([])).to.throw(KafkaRxError);
    });
  });

  describe('compressed batches', () => {
    const records: BatchRecord[] = Array.from({ length: 50 }, (_, i) => ({
      key: i % 3 === 0 ? null : Buffer.from(`key-${i}`),
      value: Buffer.from(`value ${i} `.repeat(i % 7)),
      timestamp: T + i,
      headers: i % 2 ? [{ key: 'trace', value: Buffer.from(String(i)) }] : undefined,
    }));
    const plain = encodeRecordBatch(records, fixedOptions);
    const plainRecords = plain.subarray(RECORD_BATCH_OVERHEAD);

    for (const compression of allCodecs.filter((c) => c !== 'none')) {
      it(`${compression}: codec id ${codecIds[compression]} in bits 0-2, header otherwise as uncompressed, records section is the compressed plain records`, () => {
        const batch = encodeRecordBatch(records, { ...fixedOptions, compression });
        expect(batch.readInt16BE(21)).to.equal(codecIds[compression]);
        expect(batch.readInt32BE(8)).to.equal(batch.length - 12);
        expect(batch.readUInt32BE(17)).to.equal(bitwiseCrc32c(batch.subarray(21)));
        // lastOffsetDelta .. record count match the uncompressed batch.
        expect(batch.subarray(23, RECORD_BATCH_OVERHEAD).equals(plain.subarray(23, RECORD_BATCH_OVERHEAD))).to.equal(true);
        const section = batch.subarray(RECORD_BATCH_OVERHEAD);
        const inflated = compression === 'gzip' ? gunzipSync(section) : codecs[compression].decompress(section);
        expect(inflated.equals(plainRecords)).to.equal(true);
      });
    }

    it('gzip output is a gzip member (magic 1f 8b, deflate)', () => {
      const batch = encodeRecordBatch(records, { compression: 'gzip' });
      expect(batch.subarray(RECORD_BATCH_OVERHEAD, RECORD_BATCH_OVERHEAD + 3).toString('hex')).to.equal('1f8b08');
    });

    it('lz4 output is an LZ4 frame (magic 04 22 4d 18, version 01)', () => {
      const batch = encodeRecordBatch(records, { compression: 'lz4' });
      expect(batch.subarray(RECORD_BATCH_OVERHEAD, RECORD_BATCH_OVERHEAD + 4).toString('hex')).to.equal('04224d18');
      expect(batch[RECORD_BATCH_OVERHEAD + 4] >> 6).to.equal(1);
    });

    it('snappy output uses the xerial framing Kafka clients write', () => {
      const batch = encodeRecordBatch(records, { compression: 'snappy' });
      expect(batch.subarray(RECORD_BATCH_OVERHEAD, RECORD_BATCH_OVERHEAD + 16).toString('hex')).to.equal('82534e4150505900' + '00000001' + '00000001');
    });

    it('zstd output is a zstd frame (magic 28 b5 2f fd)', () => {
      const batch = encodeRecordBatch(records, { compression: 'zstd' });
      expect(batch.subarray(RECORD_BATCH_OVERHEAD, RECORD_BATCH_OVERHEAD + 4).toString('hex')).to.equal('28b52ffd');
    });
  });

  describe('round trips in every codec', () => {
    const mb = randomBytes(1 << 20);
    const cases: Record<string, BatchRecord[]> = {
      'null key vs empty key, null value (tombstone) vs empty value': [
        { key: null, value: Buffer.from('a'), timestamp: T },
        { key: Buffer.alloc(0), value: Buffer.from('b'), timestamp: T },
        { key: Buffer.from('k'), value: null, timestamp: T },
        { key: Buffer.from('k'), value: Buffer.alloc(0), timestamp: T },
        { key: null, value: null, timestamp: T },
        { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T },
      ],
      'headers: null and empty values, repeated and non-ASCII keys, binary values': [
        {
          key: Buffer.from('h'),
          value: Buffer.from('v'),
          timestamp: T,
          headers: [
            { key: 'null', value: null },
            { key: 'empty', value: Buffer.alloc(0) },
            { key: 'dup', value: Buffer.from('1') },
            { key: 'dup', value: Buffer.from('2') },
            { key: 'clé-ключ-鍵', value: Buffer.from([0, 0xff, 0x80, 0x7f]) },
            { key: '', value: Buffer.from('empty key') },
          ],
        },
      ],
      '1 MB values (random, and one of zeros)': [
        { key: Buffer.from('random'), value: mb, timestamp: T },
        { key: Buffer.from('zeros'), value: Buffer.alloc(1 << 20), timestamp: T + 1 },
      ],
      '10,000 records with timestamps going back and forth': Array.from({ length: 10_000 }, (_, i) => ({
        key: i % 10 === 0 ? null : Buffer.from(`k${i}`),
        value: i % 13 === 0 ? null : randomBytes(i % 200),
        timestamp: T + ((i * 7919) % 100_000) - 50_000,
      })),
      'binary keys and values with every byte value': [{ key: Buffer.from(Array.from({ length: 256 }, (_, i) => i)), value: Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)), timestamp: T }],
    };

    for (const compression of allCodecs) {
      for (const [label, records] of Object.entries(cases)) {
        it(`${compression}: ${label}`, () => {
          const batch = encodeRecordBatch(records, { ...fixedOptions, compression });
          const [decoded, ...rest] = decodeRecordBatches(batch);
          expect(rest).to.have.length(0);
          expect(decoded.compression).to.equal(compression);
          expect(decoded.attributes & 0x07).to.equal(codecIds[compression]);
          expect(decoded.timestampType).to.equal('create');
          expect(decoded.batchLength).to.equal(batch.length - 12);
          expect(decoded.lastOffsetDelta).to.equal(records.length - 1);
          expect(decoded.baseTimestamp).to.equal(records[0].timestamp);
          expect(decoded.maxTimestamp).to.equal(Math.max(...records.map((r) => r.timestamp)));
          expect([decoded.producerId, decoded.producerEpoch, decoded.baseSequence]).to.deep.equal([1234n, 3, 42]);
          expectRecordsEqual(decoded, records);
        });
      }
    }

    it('decodes batches laid back to back, in every codec, with their base offsets', () => {
      const batches = allCodecs.map((compression, i) => {
        const batch = encodeRecordBatch([{ key: null, value: Buffer.from(compression), timestamp: T + i }], { compression });
        batch.writeBigInt64BE(BigInt(100 + i), 0); // outside the CRC, as a broker sets it
        return batch;
      });
      const decoded = decodeRecordBatches(Buffer.concat(batches));
      expect(decoded.map((b) => b.compression)).to.deep.equal(allCodecs);
      expect(decoded.map((b) => b.records[0].offset)).to.deep.equal([100n, 101n, 102n, 103n, 104n]);
      expect(decoded.map((b) => b.records[0].value!.toString())).to.deep.equal(allCodecs);
    });

    it('a batch returned earlier is not changed by later encodes of its encoder (its writers are reused)', () => {
      const encoder = new RecordBatchEncoder();
      for (const compression of allCodecs) {
        const first = encoder.encode(fixedRecords, { ...fixedOptions, compression });
        const copy = Buffer.from(first);
        encoder.encode([{ key: Buffer.alloc(5000, 1), value: Buffer.alloc(5000, 2), timestamp: 1 }], { compression });
        expect(first.equals(copy), compression).to.equal(true);
        expect(first.equals(encodeRecordBatch(fixedRecords, { ...fixedOptions, compression })), `${compression}: as a one-off encode`).to.equal(true);
      }
    });

    it('an encoder\'s batches are views of its own slab, shared with no other encoder', () => {
      const one = new RecordBatchEncoder();
      const other = new RecordBatchEncoder();
      const [first, second] = [one.encode(fixedRecords, fixedOptions), one.encode(fixedRecords, fixedOptions)];
      const elsewhere = other.encode(fixedRecords, fixedOptions);
      expect(second.buffer, 'one slab holds consecutive batches').to.equal(first.buffer);
      expect(second.byteOffset).to.equal(first.byteOffset + first.length);
      expect(elsewhere.buffer).to.not.equal(first.buffer);
      expect(elsewhere.equals(first)).to.equal(true);
    });
  });

  describe('corruption', () => {
    it('a flipped byte in any field after the CRC is a CRC mismatch (ProtocolError)', () => {
      for (let at = 21; at < fixedBatch.length; at++) {
        const corrupt = Buffer.from(fixedBatch);
        corrupt[at] ^= 0x01;
        expect(() => decodeRecordBatches(corrupt), `byte ${at}`).to.throw(ProtocolError, /CRC mismatch/);
      }
    });

    it('a wrong stored CRC is a CRC mismatch, in every codec', () => {
      for (const compression of allCodecs) {
        const batch = encodeRecordBatch(fixedRecords, { compression });
        batch.writeUInt32BE((batch.readUInt32BE(17) ^ 0x80000000) >>> 0, 17);
        expect(() => decodeRecordBatches(batch), compression).to.throw(ProtocolError, /CRC mismatch/);
      }
    });

    it('a flipped bit inside compressed records is caught before decompression', () => {
      for (const compression of allCodecs) {
        const batch = encodeRecordBatch(fixedRecords, { compression });
        batch[batch.length - 2] ^= 0x10;
        expect(() => decodeRecordBatches(batch), compression).to.throw(ProtocolError, /CRC mismatch/);
      }
    });

    it('refuses other magic values, unknown codecs and lengths that do not fit, with ProtocolError', () => {
      const magic1 = Buffer.from(fixedBatch);
      magic1[16] = 1;
      expect(() => decodeRecordBatches(magic1)).to.throw(ProtocolError, /magic 1/);
      const codec5 = Buffer.from(fixedBatch);
      codec5.writeInt16BE(5, 21);
      expect(() => decodeRecordBatches(resealed(codec5))).to.throw(ProtocolError, /codec 5/);
      const tooLong = Buffer.from(fixedBatch);
      tooLong.writeInt32BE(81, 8);
      expect(() => decodeRecordBatches(tooLong)).to.throw(ProtocolError);
      const tooShort = Buffer.from(fixedBatch);
      tooShort.writeInt32BE(10, 8);
      expect(() => decodeRecordBatches(tooShort)).to.throw(ProtocolError);
      for (let cut = 1; cut < fixedBatch.length; cut++) {
        expect(() => decodeRecordBatches(fixedBatch.subarray(0, cut)), `cut at ${cut}`).to.throw(ProtocolError);
      }
    });

    it('refuses a record count that disagrees with the records, even under a valid CRC', () => {
      const more = Buffer.from(fixedBatch);
      more.writeInt32BE(4, 57);
      expect(() => decodeRecordBatches(resealed(more))).to.throw(ProtocolError);
      const fewer = Buffer.from(fixedBatch);
      fewer.writeInt32BE(2, 57);
      expect(() => decodeRecordBatches(resealed(fewer))).to.throw(ProtocolError, /bytes left/);
      const huge = Buffer.from(fixedBatch);
      huge.writeInt32BE(0x7fffffff, 57);
      expect(() => decodeRecordBatches(resealed(huge))).to.throw(ProtocolError, /record count/);
    });

    it('refuses a record length that disagrees with its fields, even under a valid CRC', () => {
      const longer = Buffer.from(fixedBatch);
      longer[61] = 0x22; // record 0 claims 17 bytes instead of 16
      expect(() => decodeRecordBatches(resealed(longer))).to.throw(ProtocolError);
    });
  });
});
