import { ProtocolError, TlsHandshakeError } from '../errors/index.js';
import { youngArrayOf } from '../young-array.js';

/**
 * Cuts a TCP byte stream into Kafka frames (INT32 size + that many bytes). Chunks are kept in a
 * list and joined once per frame, so a large response arriving in many chunks costs one copy, not
 * one per chunk; a size beyond maxFrameSize (a 2 GB prefix from a faulty peer) is refused before
 * anything is allocated for it.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;

  constructor(private readonly maxFrameSize: number) {}

  /** Feeds a chunk; returns the frames it completed (without their size prefix). */
  push(chunk: Buffer): Buffer[] {
    // The common case, one answer per read (one request at a time): nothing buffered and the
    // chunk exactly one frame, handed on without the list and the copies of its front.
    if (this.expected < 0 && this.buffered === 0 && chunk.length >= 4) {
      const size = chunk.readInt32BE(0);
      if (size >= 0 && size <= this.maxFrameSize && chunk.length === size + 4) return youngArrayOf(chunk.subarray(4));
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) break;
        const size = this.peekInt32();
        if (size < 0 || size > this.maxFrameSize) {
          // A TLS record (handshake 0x16 or alert 0x15, version 3.x): a TLS listener answering plaintext.
          const contentType = size >>> 24;
          if ((contentType === 0x15 || contentType === 0x16) && ((size >>> 16) & 0xff) === 0x03) {
            throw new TlsHandshakeError('the broker answered with a TLS record: this listener expects TLS (set the client option tls)', { code: 'TLS_EXPECTED' });
          }
          throw new ProtocolError(`a frame of ${size} bytes is outside 0..${this.maxFrameSize}: the stream is not Kafka's or is corrupt`);
        }
        this.consume(4);
        this.expected = size;
      }
      if (this.buffered < this.expected) break;
      frames.push(this.consume(this.expected));
      this.expected = -1;
    }
    return frames;
  }

  get pendingBytes(): number {
    return this.buffered;
  }

  private peekInt32(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readInt32BE(0);
    return Buffer.concat(this.chunks, 4).readInt32BE(0);
  }

  /** Takes n bytes off the front, copying only when they span chunks. */
  private consume(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      const taken = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return taken;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const take = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, take);
      filled += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
    return out;
  }
}
