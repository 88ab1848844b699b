// Random, truncated and bit-flipped inputs through the record-batch decoder and the codecs'
// decompressors: the only error allowed out is ProtocolError; no TypeError or RangeError, no
// hang (mocha's timeout), no allocation out of proportion to the input (decoded sizes checked
// against the input, and the process's ArrayBuffer memory sampled as it goes).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { ProtocolError } from '../../lib/errors/index.js';
import { codecs, zstdReady, type Compression } from '../../lib/records/codecs/index.js';
import { crc32c } from '../../lib/records/crc32c.js';
import { RECORD_BATCH_OVERHEAD, decodeRecordBatches, encodeRecordBatch, type BatchRecord } from '../../lib/records/record-batch.js';
import { prng } from '../support/prng.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1);
const DECODER_INPUTS = 100_000;
const CODEC_INPUTS = 10_000;
const MAX_ARRAY_BUFFER_GROWTH = 256 * 1024 * 1024;

const compressions: Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

function corpus(random: () => number): Buffer[] {
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const text = (n: number) => Buffer.from('abcdefgh'.repeat(Math.ceil(n / 8)).slice(0, n));
  const sets: BatchRecord[][] = [
    [{ key: null, value: Buffer.from('v'), timestamp: 1 }],
    [
      { key: Buffer.from('k'), value: null, timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: null }, { key: 'x', value: Buffer.from('y') }] },
      { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: 1_700_000_000_005 },
      { key: bytes(20), value: bytes(50), timestamp: 1_699_999_999_000, headers: [{ key: 'é', value: Buffer.alloc(0) }] },
    ],
    Array.from({ length: 30 }, (_, i) => ({ key: text(i), value: i % 2 ? text(40 + i) : bytes(i), timestamp: 1000 + i * 37 })),
    [{ key: text(10), value: text(3000), timestamp: 5 }],
  ];
  const out: Buffer[] = [];
  for (const compression of compressions) {
    for (const records of sets) {
      out.push(encodeRecordBatch(records, { compression, producerId: 7n, producerEpoch: 1, baseSequence: 3 }));
    }
  }
  out.push(Buffer.concat([out[0], out[5], out[10]]));
  return out;
}

/** Gives the batch starting at `start` a correct CRC again, so mutations reach past the check. */
function reseal(buffer: Buffer, start = 0): void {
  if (buffer.length - start < RECORD_BATCH_OVERHEAD) return;
  const length = buffer.readInt32BE(start + 8);
  const end = Math.min(buffer.length, start + 12 + Math.max(length, 9));
  buffer.writeUInt32BE(crc32c(buffer.subarray(start + 21, end)), start + 17);
}

type Mutation = (valid: Buffer, random: () => number) => Buffer;

const int = (random: () => number, n: number) => Math.floor(random() * n);

const interesting = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000, 0x1000000];

const mutations: Record<string, Mutation> = {
  random(_, random) {
    const out = Buffer.alloc(int(random, 200));
    for (let i = 0; i < out.length; i++) out[i] = int(random, 256);
    return out;
  },
  randomAfterValidHeader(valid, random) {
    // A plausible header (its length fitting the buffer) over random records, CRC made right.
    const out = Buffer.from(valid);
    for (let i = RECORD_BATCH_OVERHEAD; i < out.length; i++) out[i] = int(random, 256);
    reseal(out);
    return out;
  },
  truncated(valid, random) {
    return valid.subarray(0, int(random, valid.length));
  },
  truncatedAndResealed(valid, random) {
    // Cut inside the records, the batch length shortened to match: the records end early.
    const cut = RECORD_BATCH_OVERHEAD + int(random, Math.max(1, valid.length - RECORD_BATCH_OVERHEAD));
    const out = Buffer.from(valid.subarray(0, cut));
    out.writeInt32BE(out.length - 12, 8);
    reseal(out);
    return out;
  },
  bitFlips(valid, random) {
    const out = Buffer.from(valid);
    for (let n = 1 + int(random, 4); n > 0; n--) {
      const bit = int(random, out.length * 8);
      out[bit >> 3] ^= 1 << (bit & 7);
    }
    return out;
  },
  bitFlipsResealed(valid, random) {
    // Flips after the CRC field, then a correct CRC: the decoder and decompressors see them.
    const out = Buffer.from(valid);
    for (let n = 1 + int(random, 4); n > 0; n--) {
      const bit = 21 * 8 + int(random, (out.length - 21) * 8);
      out[bit >> 3] ^= 1 << (bit & 7);
    }
    reseal(out);
    return out;
  },
  fieldOverwritten(valid, random) {
    // A header field (length, magic, attributes, count) set to an extreme, CRC made right.
    const out = Buffer.from(valid);
    const value = interesting[int(random, interesting.length)];
    const field = int(random, 4);
    if (field === 0) out.writeUInt32BE(value >>> 0, 8);
    else if (field === 1) out[16] = value & 0xff;
    else if (field === 2) out.writeUInt16BE(value & 0xffff, 21);
    else out.writeUInt32BE(value >>> 0, 57);
    reseal(out);
    return out;
  },
  varintOverwritten(valid, random) {
    // Bytes inside the (uncompressed) records replaced by varint-shaped runs, CRC made right.
    const out = Buffer.from(valid);
    if (out.length <= RECORD_BATCH_OVERHEAD) return out;
    const at = RECORD_BATCH_OVERHEAD + int(random, out.length - RECORD_BATCH_OVERHEAD);
    const run = 1 + int(random, 10);
    for (let i = 0; i < run && at + i < out.length; i++) out[at + i] = i === run - 1 ? int(random, 128) : 0x80 | int(random, 128);
    reseal(out);
    return out;
  },
  spliced(valid, random) {
    // Two valid batches cut and joined: a length that points into the next batch.
    const cut = int(random, valid.length);
    return Buffer.concat([valid.subarray(0, cut), valid.subarray(int(random, valid.length))]);
  },
};

interface Tally {
  inputs: number;
  decoded: number;
  refused: number;
}

describe('records fuzz: only ProtocolError comes out', function () {
  this.timeout(120_000);

  before(() => zstdReady());

  // What the decoder keeps, not the garbage a collection has not reached yet: whether a 256 MiB
  // window holds the garbage of 5,000 inputs depends on the V8 release's collection heuristics.
  // ArrayBuffer backing stores are freed by a background sweeper unless told otherwise, and on a
  // loaded machine it lags behind the collection that found them dead.
  const collectGarbage = (() => {
    setFlagsFromString('--expose-gc');
    setFlagsFromString('--no-concurrent-array-buffer-sweeping');
    return runInNewContext('gc') as () => void;
  })();

  function checkMemory(baseline: number, where: string): void {
    collectGarbage();
    const grown = process.memoryUsage().arrayBuffers - baseline;
    expect(grown, `ArrayBuffer memory grew by ${grown} bytes (${where})`).to.be.below(MAX_ARRAY_BUFFER_GROWTH);
  }

  it(`${DECODER_INPUTS.toLocaleString('en')} random, truncated and bit-flipped batches through decodeRecordBatches`, () => {
    const random = prng(SEED);
    const valid = corpus(random);
    const kinds = Object.entries(mutations);
    const tally: Record<string, Tally> = Object.fromEntries(kinds.map(([name]) => [name, { inputs: 0, decoded: 0, refused: 0 }]));
    collectGarbage();
    const baseline = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < DECODER_INPUTS; i++) {
      const [name, mutate] = kinds[i % kinds.length];
      const input = mutate(valid[int(random, valid.length)], random);
      const t = tally[name];
      t.inputs++;
      try {
        const batches = decodeRecordBatches(input);
        t.decoded++;
        // Whatever decodes must be in proportion to its input: no record can hold more bytes
        // than the largest decompression of the input could produce.
        let bytes = 0;
        for (const batch of batches) for (const r of batch.records) bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
        expect(bytes, `${name} #${i}`).to.be.at.most(input.length * 32 * 1024);
      } catch (error) {
        if (!(error instanceof ProtocolError)) {
          throw new Error(`input #${i} (${name}, seed ${SEED}) raised ${(error as Error)?.name}: ${(error as Error)?.message}\n` + `input: ${input.subarray(0, 200).toString('hex')}`, { cause: error });
        }
        t.refused++;
      }
      if (i % 5000 === 0) checkMemory(baseline, `decoder input #${i}`);
    }
    checkMemory(baseline, 'after the decoder run');
    const total = Object.values(tally).reduce((sum, t) => sum + t.inputs, 0);
    console.log(`      ${total} decoder inputs: ${Object.entries(tally).map(([n, t]) => `${n} ${t.inputs} (${t.refused} refused)`).join(', ')}`);
    expect(total).to.equal(DECODER_INPUTS);
    // The mutations reach past the CRC check: some resealed inputs must decode, some must not.
    expect(tally.bitFlipsResealed.decoded).to.be.above(0);
    expect(tally.bitFlipsResealed.refused).to.be.above(0);
  });

  it(`${CODEC_INPUTS.toLocaleString('en')} random, truncated and bit-flipped inputs through each codec's decompressor`, () => {
    const random = prng(SEED + 1);
    const plain = [Buffer.from('x'), Buffer.from('kafka record batch '.repeat(200)), Buffer.alloc(5000), Buffer.from(Array.from({ length: 3000 }, () => int(random, 256)))];
    collectGarbage();
    const baseline = process.memoryUsage().arrayBuffers;
    const counts: string[] = [];
    for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const codec = codecs[name];
      const packed = plain.map((p) => codec.compress(p));
      let refused = 0;
      for (let i = 0; i < CODEC_INPUTS; i++) {
        const source = packed[int(random, packed.length)];
        let input: Buffer;
        const kind = i % 4;
        if (kind === 0) input = mutations.random(source, random);
        else if (kind === 1) input = source.subarray(0, int(random, source.length));
        else if (kind === 2) input = mutations.bitFlips(source, random);
        else {
          // Flips confined to the first bytes, where frame headers and declared sizes sit.
          input = Buffer.from(source);
          const bit = int(random, Math.min(input.length, 24) * 8);
          input[bit >> 3] ^= 1 << (bit & 7);
        }
        try {
          const out = codec.decompress(input);
          expect(out.length, `${name} #${i}`).to.be.at.most(input.length * 32 * 1024 + 64 * 1024);
        } catch (error) {
          if (!(error instanceof ProtocolError)) {
            throw new Error(`${name} input #${i} (seed ${SEED + 1}) raised ${(error as Error)?.name}: ${(error as Error)?.message}\n` + `input: ${input.subarray(0, 200).toString('hex')}`, { cause: error });
          }
          refused++;
        }
        if (i % 5000 === 0) checkMemory(baseline, `${name} input #${i}`);
      }
      counts.push(`${name} ${CODEC_INPUTS} (${refused} refused)`);
    }
    checkMemory(baseline, 'after the codec run');
    console.log(`      ${CODEC_INPUTS * 4} codec inputs: ${counts.join(', ')}`);
  });
});
