import { expect } from 'chai';
import { SlabPool } from '../../lib/protocol/slab-pool.js';
import { RecordBatchEncoder, decodeRecordBatches, type BatchRecord } from '../../lib/records/record-batch.js';

/** Writes `bytes` bytes of `fill` and claims them as one piece. */
function piece(writer: ReturnType<SlabPool['writer']>, bytes: number, fill: number): Buffer {
  for (let i = 0; i < bytes; i++) writer.uint8(fill);
  return writer.claim();
}

describe('SlabPool', () => {
  it('reuses a slab only once the writer has left it and every piece claimed from it is given back', () => {
    const pool = new SlabPool(64);
    const writer = pool.writer();
    const a = piece(writer, 30, 1);
    const b = piece(writer, 30, 2);
    const first = a.buffer;
    expect(b.buffer).to.equal(first);
    // 30 more bytes do not fit: the writer moves to a second slab.
    const c = piece(writer, 30, 3);
    expect(c.buffer).to.not.equal(first);
    expect(pool.freeCount).to.equal(0);
    pool.release(a);
    expect(pool.freeCount, 'b still holds the first slab').to.equal(0);
    pool.release(b);
    expect(pool.freeCount).to.equal(1);
    // The third slab is the first one again, and only now are a's and b's bytes overwritten.
    piece(writer, 30, 4);
    const e = piece(writer, 30, 5);
    expect(e.buffer).to.equal(first);
    expect(c.every((byte) => byte === 3), 'a piece not given back is never overwritten').to.equal(true);
  });

  it('keeps the slab a writer is still filling, even with every piece given back', () => {
    const pool = new SlabPool(64);
    const writer = pool.writer();
    const a = piece(writer, 10, 1);
    pool.release(a);
    expect(pool.freeCount).to.equal(0);
    const b = piece(writer, 10, 2);
    expect(b.buffer).to.equal(a.buffer);
  });

  it('ignores pieces it did not hand out, empty pieces and a piece given back twice', () => {
    const pool = new SlabPool(64);
    const writer = pool.writer();
    const a = piece(writer, 20, 1);
    const b = piece(writer, 20, 2);
    pool.release(Buffer.alloc(64));
    pool.release(writer.claim());
    pool.release(a);
    pool.release(a);
    piece(writer, 30, 3); // moves on: the first slab still has b out
    expect(pool.freeCount, 'a second release of a must not count for b').to.equal(0);
    pool.release(b);
    expect(pool.freeCount).to.equal(1);
  });

  it('frees a slab whatever order its pieces come back in, each counted once', () => {
    const pool = new SlabPool(256);
    const writer = pool.writer();
    const pieces = [7, 1, 30, 12, 5, 40, 9].map((bytes, i) => piece(writer, bytes, i));
    piece(writer, 200, 9); // moves on: the first slab is left with seven pieces out
    const first = pieces[0].buffer;
    for (const at of [3, 0, 6, 3, 1, 5, 0, 2]) pool.release(pieces[at]);
    expect(pool.freeCount, 'piece 4 is still out').to.equal(0);
    pool.release(pieces[4]);
    expect(pool.freeCount).to.equal(1);
    // Reused, it starts with nothing out: a piece of its earlier life given back again changes nothing.
    piece(writer, 100, 10);
    const again = piece(writer, 100, 11);
    expect(again.buffer).to.equal(first);
    piece(writer, 20, 12);
    pool.release(pieces[6]);
    piece(writer, 200, 13); // moves on again, with `held` and again's neighbours out
    expect(pool.freeCount).to.equal(0);
  });

  it('keeps counting once every piece was back while the writer still fills the slab', () => {
    const pool = new SlabPool(64);
    const writer = pool.writer();
    const a = piece(writer, 10, 1);
    pool.release(a);
    const b = piece(writer, 10, 2);
    pool.release(a); // given back already: must not count for b
    piece(writer, 60, 3); // moves on with b out
    expect(pool.freeCount).to.equal(0);
    pool.release(b);
    expect(pool.freeCount).to.equal(1);
  });

  it('does not pool buffers of another size (a batch larger than a slab)', () => {
    const pool = new SlabPool(64);
    const writer = pool.writer();
    piece(writer, 10, 1);
    const big = piece(writer, 200, 2);
    expect(big.buffer.byteLength).to.not.equal(64);
    const before = pool.freeCount;
    pool.release(big);
    expect(pool.freeCount).to.equal(before);
  });

  it('keeps at most maxFree slabs for reuse', () => {
    const pool = new SlabPool(64, 2);
    const writer = pool.writer();
    const pieces: Buffer[] = [];
    for (let i = 0; i < 5; i++) pieces.push(piece(writer, 40, i));
    for (const p of pieces) pool.release(p);
    expect(pool.freeCount).to.equal(2);
  });
});

describe('RecordBatchEncoder.pooled', () => {
  const records = (n: number, tag: string): BatchRecord[] =>
    Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${tag}-${i}-`.padEnd(100, 'x')), timestamp: 1_700_000_000_000 + i }));

  it('encodes into reused slabs once batches are given back, and a batch kept is never overwritten', () => {
    const encoder = RecordBatchEncoder.pooled();
    const kept = encoder.encode(records(50, 'kept'));
    const keptCopy = Buffer.from(kept);
    // About 1.2 MiB of batches given back as they go: more than one slab, so slabs cycle.
    for (let round = 0; round < 120; round++) encoder.release(encoder.encode(records(80, `r${round}`)));
    expect(kept.equals(keptCopy)).to.equal(true);
    const [decoded] = decodeRecordBatches(kept);
    expect(decoded.records.map((r) => r.value!.toString().split('-')[0])).to.deep.equal(Array(50).fill('kept'));
    const last = encoder.encode(records(3, 'last'));
    expect(decodeRecordBatches(last)[0].records).to.have.length(3);
  });
});
