import { expect } from 'chai';
import { InvalidPartitionError, PartitionerError } from '../../lib/errors.js';
import {
  GroupHashingPartitioner,
  HashingPartitioner,
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

  it('checkedPartition refuses a partition the topic does not have', () => {
    expect(checkedPartition(2, ids(3))).to.equal(2);
    expect(() => checkedPartition(3, ids(3))).to.throw(InvalidPartitionError);
    expect(() => checkedPartition('1', ids(3))).to.throw(InvalidPartitionError);
  });
});
