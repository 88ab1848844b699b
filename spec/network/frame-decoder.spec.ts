import { expect } from 'chai';
import { ProtocolError, TlsHandshakeError } from '../../lib/errors/index.js';
import { FrameDecoder } from '../../lib/network/frame-decoder.js';

function frame(body: string): Buffer {
  const bytes = Buffer.from(body);
  const size = Buffer.alloc(4);
  size.writeInt32BE(bytes.length);
  return Buffer.concat([size, bytes]);
}

describe('FrameDecoder', () => {
  it('names a TLS record (a TLS listener answering a plaintext client) instead of a huge frame', () => {
    // A TLS 1.2 alert record header: content type 0x15, version 3.3, length 2.
    const error = (() => { try { new FrameDecoder(1024).push(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])); } catch (e) { return e; } })();
    expect(error).to.be.instanceOf(TlsHandshakeError);
    expect((error as Error).message).to.match(/expects TLS/);
    // Any other oversized prefix stays a ProtocolError.
    expect(() => new FrameDecoder(1024).push(Buffer.from([0x7f, 0x03, 0x03, 0x00]))).to.throw(ProtocolError);
  });

  it('cuts several frames out of one chunk', () => {
    const decoder = new FrameDecoder(1024);
    const frames = decoder.push(Buffer.concat([frame('one'), frame(''), frame('three')]));
    expect(frames.map((f) => f.toString())).to.deep.equal(['one', '', 'three']);
    expect(decoder.pendingBytes).to.equal(0);
  });

  it('joins a frame split across chunks, even inside its size prefix', () => {
    const decoder = new FrameDecoder(1024);
    const bytes = Buffer.concat([frame('hello world'), frame('x')]);
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...decoder.push(bytes.subarray(i, i + 1)).map((f) => f.toString()));
    expect(out).to.deep.equal(['hello world', 'x']);
  });

  it('hands on a chunk that is exactly one frame, then goes on cutting the stream after it', () => {
    const decoder = new FrameDecoder(1024);
    expect(decoder.push(frame('whole')).map((f) => f.toString())).to.deep.equal(['whole']);
    expect(decoder.push(frame('')).map((f) => f.toString())).to.deep.equal(['']);
    // A frame and the start of the next, then its end exactly: not taken for one whole frame.
    const next = frame('second');
    expect(decoder.push(Buffer.concat([frame('first'), next.subarray(0, 6)])).map((f) => f.toString())).to.deep.equal(['first']);
    expect(decoder.push(next.subarray(6)).map((f) => f.toString())).to.deep.equal(['second']);
    expect(decoder.pendingBytes).to.equal(0);
    // A size prefix alone, then a body that looks like a whole frame itself: it is the body.
    const inner = frame('zz');
    const outer = Buffer.concat([Buffer.from([0, 0, 0, inner.length]), inner]);
    expect(decoder.push(outer.subarray(0, 4))).to.deep.equal([]);
    expect(decoder.push(outer.subarray(4))).to.deep.equal([inner]);
    // A whole chunk whose prefix is out of bounds is still refused.
    expect(() => new FrameDecoder(4).push(frame('12345'))).to.throw(ProtocolError);
  });

  it('refuses a 2 GB size prefix before allocating anything', () => {
    const decoder = new FrameDecoder(100 * 1024 * 1024);
    const prefix = Buffer.alloc(8);
    prefix.writeInt32BE(0x7ffffff0);
    expect(() => decoder.push(prefix)).to.throw(ProtocolError, '2147483632');
  });

  it('refuses a negative size', () => {
    expect(() => new FrameDecoder(1024).push(Buffer.from([0xff, 0xff, 0xff, 0xfe]))).to.throw(ProtocolError);
  });
});
