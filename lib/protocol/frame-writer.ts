import { SlabPool } from './slab-pool.js';
import { Writer } from './writer.js';

/** Pooled frames' slab: a Produce request of the default maxRequestSize (1,000,012 bytes) fits in one. */
const FRAME_SLAB_BYTES = 1 << 20;

/** Byte fields at least this long are referenced rather than copied; below it a copy is cheaper than a write vector entry. */
const GATHER_FROM = 8 * 1024;

/**
 * A Writer for request frames that leaves large byte fields where they are: a Produce request's
 * record batches (most of its bytes) are not copied into the frame but handed to the socket
 * alongside it as further pieces of one vectored write. Kafka's frame bytes are the same either way.
 *
 * Only positions before the first referenced field may be patched (the frame's size prefix); a
 * patch after one would land in the wrong piece, so it throws.
 */
export class FrameWriter extends Writer {
  /** Referenced fields and where (relative to the piece) they sit between the written bytes. */
  private readonly holes: Array<{ at: number; bytes: Uint8Array }> = [];
  private heldBytes = 0;

  /**
   * With `slabs`, one writer serves every frame of a client: each frame is claimed from the pool's
   * slabs by frame(), and given back with release() once answered.
   */
  constructor(
    initialSize = 512,
    private readonly slabs: SlabPool | null = null,
  ) {
    super(slabs !== null ? slabs.slabBytes : initialSize, slabs);
  }

  /** A writer for every frame of a client, in reused slabs that each hold a request of the default maxRequestSize. */
  static pooled(): FrameWriter {
    return new FrameWriter(undefined, new SlabPool(FRAME_SLAB_BYTES));
  }

  /**
   * Ends the frame written since the last one: its pieces for one vectored write, and the claim to
   * give back with release() when nothing will read them again (with no pool, nothing to give back).
   */
  frame(): { pieces: Buffer[]; claim: Buffer | null } {
    const pieces = this.pieces();
    const claim = this.claim();
    this.holes.length = 0;
    this.heldBytes = 0;
    return { pieces, claim: this.slabs !== null ? claim : null };
  }

  /** Drops a frame left half-written (its encoding threw), so the next starts clean. */
  discard(): void {
    this.reset();
    this.holes.length = 0;
    this.heldBytes = 0;
  }

  /** Gives back a frame's claim (from frame()) once its request was answered or, without answer, written. */
  release(claim: Buffer | null): void {
    if (claim !== null) this.slabs?.release(claim);
  }

  override get length(): number {
    return this.pos - this.base + this.heldBytes;
  }

  override get referencesFrom(): number {
    return GATHER_FROM;
  }

  override raw(bytes: Uint8Array): this {
    if (bytes.length < GATHER_FROM) return super.raw(bytes);
    this.holes.push({ at: this.pos - this.base, bytes });
    this.heldBytes += bytes.length;
    return this;
  }

  override patchInt32(at: number, value: number): void {
    this.checkPatch(at);
    super.patchInt32(at, value);
  }

  override patchUInt32(at: number, value: number): void {
    this.checkPatch(at);
    super.patchUInt32(at, value);
  }

  override view(start = 0, end = this.length): Buffer {
    if (this.holes.length > 0) throw new RangeError('a frame with referenced fields has no single view: use pieces()');
    return super.view(start, end);
  }

  /** The frame as the pieces of one vectored write, in order. */
  pieces(): Buffer[] {
    const written = this.buf.subarray(this.base, this.pos);
    if (this.holes.length === 0) return [written];
    const pieces: Buffer[] = [];
    let from = 0;
    for (const { at, bytes } of this.holes) {
      if (at > from) pieces.push(written.subarray(from, at));
      pieces.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      from = at;
    }
    if (written.length > from) pieces.push(written.subarray(from));
    return pieces;
  }

  private checkPatch(at: number): void {
    if (this.holes.length > 0 && at + 4 > this.holes[0].at) throw new RangeError(`cannot patch position ${at} of a frame after a referenced field`);
  }
}
