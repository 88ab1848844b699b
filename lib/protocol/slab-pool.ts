import { Writer, type BufferSource } from './writer.js';

/**
 * What the pool knows of one slab: the pieces handed out, and whether a writer still fills it.
 * Kept with its slab while the slab is pooled, so a slab's reuse allocates nothing.
 */
class SlabState {
  /**
   * Start offsets of the pieces claimed since the slab last had none out, in claim order, which is
   * offset order (a writer moves forward through its slab). A piece given back is stored as
   * -1 - offset: the order is kept, and a second release finds it already given back.
   */
  private readonly offsets: number[] = [];
  private claimedCount = 0;
  /** Pieces claimed and not given back. */
  out = 0;
  filling = true;

  constructor(readonly slab: Buffer) {}

  claim(offset: number): void {
    this.offsets[this.claimedCount++] = offset;
    this.out++;
  }

  /** Marks the piece at `offset` given back; false if it was not out (never claimed here, or given back already). */
  giveBack(offset: number): boolean {
    const { offsets } = this;
    let low = 0;
    let high = this.claimedCount - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const stored = offsets[middle];
      const at = stored < 0 ? -1 - stored : stored;
      if (at < offset) low = middle + 1;
      else if (at > offset) high = middle - 1;
      else {
        if (stored < 0) return false;
        offsets[middle] = -1 - offset;
        // With nothing out, nothing is left to look up: the list starts again (it stays short).
        if (--this.out === 0) this.claimedCount = 0;
        return true;
      }
    }
    return false;
  }

  /** The slab goes back to the pool: as new. */
  reset(): void {
    this.claimedCount = 0;
    this.out = 0;
    this.filling = true;
  }
}

/**
 * Slabs of one size, for record batches and request frames, taken back once nothing reads them.
 * A pipelined pass writes a slab's worth of bytes per request; mapping a fresh slab each time costs
 * a page fault per 4 KiB touched and an unmap when the slab is collected, where a few slabs reused
 * do the same work (bench/PROFILE.md).
 *
 * A slab is reused only when every piece claimed from it was given back with release(), and only
 * the owner of a piece may give it back, when no one will read it again (the broker answered the
 * request that carried it). A piece never given back only keeps its slab out of the pool; the
 * garbage collector frees it as before.
 *
 * The pieces out are a list of offsets per slab, not a Set: one record at a time claims and gives
 * back a piece per request, and a Set's table was reallocated as it filled with deleted entries
 * (~260 bytes per awaited record: bench/PROFILE.md).
 */
export class SlabPool implements BufferSource {
  private readonly free: SlabState[] = [];
  private readonly states = new WeakMap<ArrayBuffer, SlabState>();

  constructor(
    readonly slabBytes: number,
    /** Slabs kept for reuse at most: more would be memory held for a burst that is over. */
    private readonly maxFree = 4,
  ) {}

  /** A writer whose slabs come from this pool: a slab it fills up returns once its pieces are released. */
  writer(): Writer {
    return new Writer(this.slabBytes, this);
  }

  /** Gives back a piece claimed by one of this pool's writers; pieces of other buffers are ignored. */
  release(piece: Uint8Array): void {
    if (piece.length === 0) return;
    const state = this.states.get(piece.buffer as ArrayBuffer);
    // A piece given back twice counts once: a second count could free a slab another piece still holds.
    if (state === undefined || !state.giveBack(piece.byteOffset)) return;
    this.recycle(state);
  }

  /** Slabs waiting to be reused (for tests and stats). */
  get freeCount(): number {
    return this.free.length;
  }

  /** A slab for a writer to fill (BufferSource); another size is a plain buffer, not pooled. */
  take(size: number): Buffer {
    if (size !== this.slabBytes) return Buffer.allocUnsafe(size);
    const reused = this.free.pop();
    if (reused !== undefined) {
      reused.reset();
      this.states.set(reused.slab.buffer as ArrayBuffer, reused);
      return reused.slab;
    }
    // allocUnsafeSlow: a slab of its own, never a slice of Node's shared pool, whose other
    // slices belong to others.
    const slab = Buffer.allocUnsafeSlow(size);
    this.states.set(slab.buffer as ArrayBuffer, new SlabState(slab));
    return slab;
  }

  /** A piece of a slab was handed out (BufferSource). */
  claimed(piece: Buffer): void {
    this.states.get(piece.buffer as ArrayBuffer)?.claim(piece.byteOffset);
  }

  /** The writer moved on from the slab (BufferSource): it is reused once its pieces are back. */
  left(slab: Buffer): void {
    const state = this.states.get(slab.buffer as ArrayBuffer);
    if (state === undefined) return;
    state.filling = false;
    this.recycle(state);
  }

  private recycle(state: SlabState): void {
    if (state.out > 0 || state.filling) return;
    // Out of use until take() hands it out again: a late release or left() for it must find nothing.
    this.states.delete(state.slab.buffer as ArrayBuffer);
    if (this.free.length < this.maxFree) this.free.push(state);
  }
}
