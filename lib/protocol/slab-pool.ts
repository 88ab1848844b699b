import { Writer, type BufferSource } from './writer.js';

/** What the pool knows of one slab: where the pieces out start, and whether a writer still fills it. */
interface SlabState {
  readonly slab: Buffer;
  /** Start offsets of the pieces handed out and not yet given back (pieces never overlap). */
  readonly out: Set<number>;
  filling: boolean;
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
 */
export class SlabPool implements BufferSource {
  private readonly free: Buffer[] = [];
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
    if (state === undefined || !state.out.delete(piece.byteOffset)) return;
    this.recycle(state);
  }

  /** Slabs waiting to be reused (for tests and stats). */
  get freeCount(): number {
    return this.free.length;
  }

  /** A slab for a writer to fill (BufferSource); another size is a plain buffer, not pooled. */
  take(size: number): Buffer {
    if (size !== this.slabBytes) return Buffer.allocUnsafe(size);
    // allocUnsafeSlow: a slab of its own, never a slice of Node's shared pool, whose other
    // slices belong to others.
    const slab = this.free.pop() ?? Buffer.allocUnsafeSlow(size);
    this.states.set(slab.buffer as ArrayBuffer, { slab, out: new Set(), filling: true });
    return slab;
  }

  /** A piece of a slab was handed out (BufferSource). */
  claimed(piece: Buffer): void {
    const state = this.states.get(piece.buffer as ArrayBuffer);
    if (state !== undefined) state.out.add(piece.byteOffset);
  }

  /** The writer moved on from the slab (BufferSource): it is reused once its pieces are back. */
  left(slab: Buffer): void {
    const state = this.states.get(slab.buffer as ArrayBuffer);
    if (state === undefined) return;
    state.filling = false;
    this.recycle(state);
  }

  private recycle(state: SlabState): void {
    if (state.out.size > 0 || state.filling) return;
    this.states.delete(state.slab.buffer as ArrayBuffer);
    if (this.free.length < this.maxFree) this.free.push(state.slab);
  }
}
