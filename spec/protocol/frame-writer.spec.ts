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
