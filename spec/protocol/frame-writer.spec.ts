import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { FrameWriter } from '../../lib/protocol/frame-writer.js';
import { writeRequestFrame } from '../../lib/protocol/header.js';
import { Produce, type ProduceRequest } from '../../lib/protocol/produce.js';
import { Writer } from '../../lib/protocol/writer.js';

function produceRequest(sizes: number[]): ProduceRequest {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topics: [{ name: 'frames', partitions: sizes.map((size, index) => ({ index, records: randomBytes(size) })) }],
  };
}

describe('FrameWriter (request frames as pieces of one vectored write)', () => {
  for (const version of [3, 8, 9, 11]) {
    it(`gives Produce v${version} the same bytes as a copied frame, large record batches referenced, not copied`, () => {
      const request = produceRequest([100, 8 * 1024, 200_000, 3, 70_000]);
      const copied = new Writer(64);
      writeRequestFrame(copied, Produce, version, 7, 'client', request);
      const gathered = new FrameWriter();
      writeRequestFrame(gathered, Produce, version, 7, 'client', request);
      const pieces = gathered.pieces();
      expect(Buffer.concat(pieces).equals(copied.view())).to.equal(true);
      expect(gathered.length).to.equal(copied.length);
      // The three batches of 8 KiB and more are the caller's own buffers, between the written pieces.
      const batches = request.topics[0].partitions.map((p) => p.records!);
      for (const at of [1, 2, 4]) expect(pieces.some((piece) => piece === batches[at])).to.equal(true, `batch ${at}`);
      expect(pieces.some((piece) => piece === batches[0] || piece === batches[3])).to.equal(false);
      expect(Buffer.concat(pieces).readInt32BE(0)).to.equal(gathered.length - 4);
    });
  }

  it('does not reserve room for the record batches it references (a Produce frame of ~1 MB allocates KBs, not MBs)', () => {
    const request = produceRequest([900_000, 100_000, 300]);
    const writer = new FrameWriter();
    writeRequestFrame(writer, Produce, 9, 1, 'client', request);
    const pieces = writer.pieces();
    expect(Buffer.concat(pieces).length).to.equal(writer.length);
    // The written pieces (header, the 300-byte batch) share one buffer sized for them (a pool slab
    // when pooled: 65,536 bytes on Node.js 22/24, 65,600 on 26), not for the 1 MB referenced.
    const written = pieces.filter((piece) => piece !== request.topics[0].partitions[0].records && piece !== request.topics[0].partitions[1].records);
    for (const piece of written) expect(piece.buffer.byteLength).to.be.at.most(256 * 1024);
  });

  it('is one piece when nothing is large enough to reference', () => {
    const writer = new FrameWriter();
    writeRequestFrame(writer, Produce, 9, 1, null, produceRequest([10, 20]));
    expect(writer.pieces()).to.have.length(1);
    expect(writer.view().length).to.equal(writer.length);
  });

  it('refuses a patch behind a referenced field, which would land in the wrong piece', () => {
    const writer = new FrameWriter();
    const before = writer.reserveInt32();
    writer.bytes(randomBytes(10_000));
    const after = writer.reserveInt32();
    expect(() => writer.patchInt32(after, 1)).to.throw(RangeError);
    expect(() => writer.view()).to.throw(RangeError);
    writer.patchInt32(before, 42);
    expect(writer.pieces()[0].readInt32BE(0)).to.equal(42);
  });
});

describe('FrameWriter.pooled (one writer for every frame of a client)', () => {
  it('writes frame after frame, each the same bytes as a frame of its own, and reuses a slab once its frames are given back', () => {
    const writer = FrameWriter.pooled();
    const claims: Buffer[] = [];
    const expected: Buffer[] = [];
    const got: Buffer[] = [];
    // About 2.6 MiB of frames with small batches (copied into the frame): the writer crosses slabs.
    for (let i = 0; i < 40; i++) {
      const request = produceRequest(Array.from({ length: 12 }, () => 5_000));
      const own = new FrameWriter();
      writeRequestFrame(own, Produce, 9, i, 'client', request);
      expected.push(Buffer.concat(own.pieces()));
      writeRequestFrame(writer, Produce, 9, i, 'client', request);
      const { pieces, claim } = writer.frame();
      got.push(Buffer.concat(pieces));
      claims.push(claim!);
    }
    for (let i = 0; i < 40; i++) expect(got[i].equals(expected[i]), `frame ${i}`).to.equal(true);
    const firstSlab = claims[0].buffer;
    expect(claims.filter((c) => c.buffer === firstSlab).length).to.be.greaterThan(1);
    // Every frame of the first slab answered: the slab is written over by the next frames.
    for (const claim of claims) if (claim.buffer === firstSlab) writer.release(claim);
    const kept = Buffer.from(claims[claims.length - 1]);
    let reused = false;
    for (let i = 0; i < 40 && !reused; i++) {
      writeRequestFrame(writer, Produce, 9, 100 + i, 'client', produceRequest(Array.from({ length: 12 }, () => 5_000)));
      reused = writer.frame().claim!.buffer === firstSlab;
    }
    expect(reused, 'the first slab came back').to.equal(true);
    expect(claims[claims.length - 1].equals(kept), 'a frame not given back is never written over').to.equal(true);
  });

  it('starts clean after a frame whose encoding threw', () => {
    const writer = FrameWriter.pooled();
    writer.int32(0);
    writer.bytes(randomBytes(20_000));
    writer.discard();
    const request = produceRequest([10, 20]);
    writeRequestFrame(writer, Produce, 9, 1, 'client', request);
    const own = new FrameWriter();
    writeRequestFrame(own, Produce, 9, 1, 'client', request);
    const { pieces } = writer.frame();
    expect(pieces).to.have.length(1);
    expect(pieces[0].equals(own.view())).to.equal(true);
  });
});
