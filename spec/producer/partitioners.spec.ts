import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { InvalidPartitionError, PartitionerError } from '../../lib/errors/index.js';
import {
  GroupHashingPartitioner,
  HashingPartitioner,
  MAX_PARTITIONER_TOPICS,
  Murmur2Partitioner,
  RandomPartitioner,
  StickyPartitioner,
  checkedPartition,
  murmur2,
} from '../../lib/producer/partitioners.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('partitioners', () => {
  it("RandomPartitioner is pykafka's round-robin starting at the second partition", () => {
    const partitioner = new RandomPartitioner();
    expect(Array.from({ length: 7 }, () => partitioner.partition(null, ids(3)))).to.deep.equal([1, 2, 0, 1, 2, 0, 1]);
  });

  it("HashingPartitioner gives pykafka's SHA-1 mapping", () => {
    const vectors: Array<[string, number, number]> = [
      ['foo', 3, 2], ['foo', 8, 3], ['foo', 16, 3],
      ['dummy', 3, 2], ['dummy', 5, 4], ['dummy', 16, 11],
      ['key1', 3, 1], ['key1', 8, 7],
      ['', 3, 1], ['', 16, 9],
      ['a', 5, 2], ['a', 16, 8],
    ];
    const partitioner = new HashingPartitioner();
    for (const [key, n, expected] of vectors) expect(partitioner.partition(Buffer.from(key), ids(n)), `${key} over ${n}`).to.equal(expected);
  });

  it('HashingPartitioner indexes partitions sorted by id, and refuses a null key', () => {
    expect(new HashingPartitioner().partition(Buffer.from('foo'), [10, 11, 12])).to.equal(12);
    expect(() => new HashingPartitioner().partition(null, ids(3))).to.throw(PartitionerError);
  });

  it('GroupHashingPartitioner adds an offset below groupSize and validates groupSize', () => {
    let next = 0;
    const offsets = [0, 0.5, 0.99];
    const partitioner = new GroupHashingPartitioner(2, undefined, () => offsets[next++]);
    // "foo" over 8 hashes to 3; offsets 0, 1, 1 give 3, 4, 4.
    expect([0, 1, 2].map(() => partitioner.partition(Buffer.from('foo'), ids(8)))).to.deep.equal([3, 4, 4]);
    expect(() => new GroupHashingPartitioner(0)).to.throw(PartitionerError);
    expect(() => new GroupHashingPartitioner(5).partition(Buffer.from('x'), ids(3))).to.throw(PartitionerError, 'groupSize');
  });

  describe('a user hash function returning negative numbers maps as pykafka does: abs(hash) % n', () => {
    // A signed 32-bit hash (the first 4 bytes of SHA-1); the expected indexes were worked out in
    // Python with pykafka's own expressions, `abs(h) % n` and `abs(h + offset) % n`.
    const signed32 = (key: Buffer) => createHash('sha1').update(key).digest().readInt32BE(0);
    const signed32n = (key: Buffer) => BigInt(signed32(key));

    it('HashingPartitioner', () => {
      const vectors: Array<[string, number, Record<number, number>]> = [
        ['dummy', -2103691260, { 3: 0, 6: 0, 7: 6, 16: 12 }],
        ['', -633756690, { 3: 0, 6: 0, 7: 0, 16: 2 }],
        ['a', -2030574537, { 3: 0, 6: 3, 7: 5, 16: 9 }],
        ['customer-7', -239533916, { 3: 2, 6: 2, 7: 6, 16: 12 }],
        ['foo', 200198069, { 3: 2, 6: 5, 7: 1, 16: 5 }],
      ];
      for (const hash of [signed32, signed32n]) {
        const partitioner = new HashingPartitioner(hash);
        for (const [key, h, byCount] of vectors) {
          expect(signed32(Buffer.from(key))).to.equal(h);
          for (const [n, expected] of Object.entries(byCount)) {
            expect(partitioner.partition(Buffer.from(key), ids(Number(n))), `${key} (${h}) over ${n}, ${typeof hash(Buffer.alloc(0))}`).to.equal(expected);
          }
        }
      }
    });

    it('GroupHashingPartitioner adds the offset before the absolute value', () => {
      // dummy: -2103691260 + 0, 1, 2 over 6 -> 0, 5, 4 (a floored modulo gives 0, 1, 2)
      // customer-7: -239533916 + 0, 1, 2 over 6 -> 2, 1, 0 (floored: 4, 5, 0)
      // constant -1: -1 + 0, 1, 2 over 6 -> 1, 0, 1 (floored: 5, 0, 1)
      const cases: Array<[(key: Buffer) => number | bigint, string, number[]]> = [
        [signed32, 'dummy', [0, 5, 4]],
        [signed32n, 'customer-7', [2, 1, 0]],
        [() => -1, 'any', [1, 0, 1]],
      ];
      for (const [hash, key, expected] of cases) {
        let next = 0;
        const offsets = [0, 1 / 3, 2 / 3];
        const partitioner = new GroupHashingPartitioner(3, hash, () => offsets[next++]);
        expect([0, 1, 2].map(() => partitioner.partition(Buffer.from(key), ids(6))), key).to.deep.equal(expected);
      }
    });
  });

  it("murmur2 matches the Java client's published vectors", () => {
    const vectors: Array<[Buffer, number]> = [
      [Buffer.from('21'), -973932308],
      [Buffer.from('foobar'), -790332482],
      [Buffer.from('a-little-bit-long-string'), -985981536],
      [Buffer.from('a-little-bit-longer-string'), -1486304829],
      [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
      [Buffer.from('abc'), 479470107],
    ];
    for (const [key, expected] of vectors) expect(murmur2(key), key.toString()).to.equal(expected);
  });

  it('Murmur2Partitioner places keys by toPositive(murmur2) % n and keyless messages round-robin', () => {
    const partitioner = new Murmur2Partitioner();
    expect(partitioner.partition(Buffer.from('foobar'), ids(6))).to.equal((-790332482 & 0x7fffffff) % 6);
    expect([0, 1, 2].map(() => partitioner.partition(null, ids(3)))).to.deep.equal([1, 2, 0]);
  });

  it('StickyPartitioner keeps keyless messages on one partition for a batch, then moves', () => {
    const partitioner = new StickyPartitioner(4);
    const chosen = Array.from({ length: 12 }, () => partitioner.partition(null, ids(6)));
    expect(new Set(chosen.slice(0, 4)).size).to.equal(1);
    expect(new Set(chosen.slice(4, 8)).size).to.equal(1);
    expect(chosen[4]).to.not.equal(chosen[3]);
    expect(partitioner.partition(Buffer.from('foobar'), ids(6))).to.equal(new Murmur2Partitioner().partition(Buffer.from('foobar'), ids(6)));
  });

  describe(`per-topic state is kept for the ${MAX_PARTITIONER_TOPICS} topics used most recently`, () => {
    const otherTopics = (count: number) => Array.from({ length: count }, (_, i) => `other-${i}`);

    it('RandomPartitioner: a topic keeps its cycle while fewer others come between, and starts afresh once more have', () => {
      const partitioner = new RandomPartitioner();
      const partitions = ids(6);
      expect([0, 1].map(() => partitioner.partition(null, partitions, 'kept'))).to.deep.equal([1, 2]);
      for (const topic of otherTopics(MAX_PARTITIONER_TOPICS - 1)) partitioner.partition(null, partitions, topic);
      expect(partitioner.partition(null, partitions, 'kept'), 'its cycle goes on').to.equal(3);
      for (const topic of otherTopics(MAX_PARTITIONER_TOPICS)) partitioner.partition(null, partitions, topic);
      expect(partitioner.partition(null, partitions, 'kept'), 'forgotten: a new cycle from the second partition').to.equal(1);
    });

    it('using a topic makes it the most recent: the least recently used one is forgotten first', () => {
      const partitioner = new RandomPartitioner();
      const partitions = ids(6);
      partitioner.partition(null, partitions, 'first');
      partitioner.partition(null, partitions, 'second');
      const others = otherTopics(MAX_PARTITIONER_TOPICS - 2);
      for (const topic of others) partitioner.partition(null, partitions, topic);
      partitioner.partition(null, partitions, 'first'); // index 2, and now the most recent
      partitioner.partition(null, partitions, 'newcomer'); // one topic too many: 'second' goes
      expect(partitioner.partition(null, partitions, 'first')).to.equal(3);
      expect(partitioner.partition(null, partitions, 'second')).to.equal(1);
    });

    it('StickyPartitioner: a topic keeps its partition while fewer others come between', () => {
      const partitioner = new StickyPartitioner(1000);
      const partitions = ids(64);
      const stuck = partitioner.partition(null, partitions, 'kept');
      for (const topic of otherTopics(MAX_PARTITIONER_TOPICS - 1)) partitioner.partition(null, partitions, topic);
      expect(partitioner.partition(null, partitions, 'kept')).to.equal(stuck);
    });
  });

  it('checkedPartition refuses a partition the topic does not have', () => {
    expect(checkedPartition(2, ids(3))).to.equal(2);
    expect(() => checkedPartition(3, ids(3))).to.throw(InvalidPartitionError);
    expect(() => checkedPartition('1', ids(3))).to.throw(InvalidPartitionError);
  });
});
