import { MAX_VARINT_BYTES, MAX_VARLONG_BYTES, putUnsignedVarint, putVarint, putVarlong } from '../records/varint.js';

/** Where a Writer's buffers come from, told of each piece claimed and each buffer left behind (see SlabPool). */
export interface BufferSource {
  take(size: number): Buffer;
  claimed(piece: Buffer): void;
  left(buffer: Buffer): void;
}

/**
 * A growable byte buffer for encoding Kafka requests and record batches.
 *
 * The buffer doubles when it runs out of room, so writing n bytes costs amortised O(n) and no
 * field allocates on its own. Length prefixes and CRCs that depend on later bytes are written as
 * placeholders and patched afterwards (`reserveInt32` / `patchInt32`), so nothing is encoded twice.
 */
export class Writer {
  protected buf: Buffer;
  protected pos = 0;
  /**
   * Where the current piece starts. Offsets, lengths and views are relative to it; claim() ends a
   * piece and starts the next after it, so one buffer serves many pieces handed out as views.
   */
  protected base = 0;

  /** With a `source`, buffers come from it and it hears of every piece claimed and buffer left (a SlabPool). */
  constructor(
    private readonly initialSize = 1024,
    private readonly source: BufferSource | null = null,
  ) {
    this.buf = source !== null ? source.take(initialSize) : Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.pos - this.base;
  }

  /** Byte fields of at least this length are referenced by raw() rather than copied (never, here). */
  get referencesFrom(): number {
    return Infinity;
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Only the current piece moves: earlier claimed pieces stay where they are, in the old buffer.
    const needed = this.pos - this.base + n;
    let size = Math.max(this.base > 0 ? this.initialSize : this.buf.length * 2, 1);
    while (size < needed) size *= 2;
    const grown = this.source !== null ? this.source.take(size) : Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, this.base, this.pos);
    this.source?.left(this.buf);
    this.buf = grown;
    this.pos -= this.base;
    this.base = 0;
  }

  int8(value: number): this {
    this.ensure(1);
    this.buf.writeInt8(value, this.pos);
    this.pos += 1;
    return this;
  }

  uint8(value: number): this {
    this.ensure(1);
    this.buf[this.pos++] = value;
    return this;
  }

  boolean(value: boolean): this {
    return this.uint8(value ? 1 : 0);
  }

  int16(value: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(value, this.pos);
    this.pos += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(value, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(value: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(value >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int64(value: bigint | number): this {
    this.ensure(8);
    if (typeof value === 'number') {
      // Fast path for safe integers: avoids a BigInt allocation per field.
      const high = Math.floor(value / 0x100000000);
      this.buf.writeInt32BE(high, this.pos);
      this.buf.writeUInt32BE(value - high * 0x100000000, this.pos + 4);
    } else {
      this.buf.writeBigInt64BE(value, this.pos);
    }
    this.pos += 8;
    return this;
  }

  uuid(value: Buffer): this {
    if (value.length !== 16) throw new RangeError('a UUID is 16 bytes');
    return this.raw(value);
  }

  /** Unsigned LEB128 varint, as Kafka's compact lengths and tagged-field counts use. */
  uvarint(value: number): this {
    this.ensure(MAX_VARINT_BYTES);
    this.pos = putUnsignedVarint(this.buf, this.pos, value);
    return this;
  }

  /** Zig-zag signed 32-bit varint, as record fields use. */
  varint(value: number): this {
    this.ensure(MAX_VARINT_BYTES);
    this.pos = putVarint(this.buf, this.pos, value);
    return this;
  }

  /** Zig-zag signed 64-bit varint. */
  varlong(value: bigint | number): this {
    // The common timestamp delta fits the 32-bit path; checking here saves a call level on it.
    if (typeof value === 'number' && value >= -0x40000000 && value < 0x40000000) return this.varint(value);
    this.ensure(MAX_VARLONG_BYTES);
    this.pos = putVarlong(this.buf, this.pos, value);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** INT16 length + UTF-8; -1 for null. */
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const len = Buffer.byteLength(value, 'utf8');
    this.int16(len);
    this.ensure(len);
    this.pos += this.buf.write(value, this.pos, len, 'utf8');
    return this;
  }

  /** UNSIGNED_VARINT (length + 1) + UTF-8; 0 for null. */
  compactString(value: string | null): this {
    if (value === null) return this.uvarint(0);
    const len = Buffer.byteLength(value, 'utf8');
    this.uvarint(len + 1);
    this.ensure(len);
    this.pos += this.buf.write(value, this.pos, len, 'utf8');
    return this;
  }

  /** INT32 length + bytes; -1 for null. */
  bytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1);
    this.int32(value.length);
    return this.raw(value);
  }

  /** UNSIGNED_VARINT (length + 1) + bytes; 0 for null. */
  compactBytes(value: Uint8Array | null): this {
    if (value === null) return this.uvarint(0);
    this.uvarint(value.length + 1);
    return this.raw(value);
  }

  /** Tagged fields: a count and, for each, tag, size and bytes. kafka-rx sends none unless asked. */
  taggedFields(fields: ReadonlyArray<{ tag: number; data: Uint8Array }> = []): this {
    this.uvarint(fields.length);
    for (const field of fields) {
      this.uvarint(field.tag);
      this.uvarint(field.data.length);
      this.raw(field.data);
    }
    return this;
  }

  /** Room for n bytes at the write position, to be filled in place and then advance()d over. */
  room(n: number): Buffer {
    this.ensure(n);
    return this.buf.subarray(this.pos, this.pos + n);
  }

  /**
   * For an encoder that fills n bytes in one go without a call per field: makes room and returns
   * the position in `buffer` to write at. Valid until the next write; then advance(n).
   */
  reserve(n: number): number {
    this.ensure(n);
    return this.pos;
  }

  /** The buffer behind reserve(); it changes when the writer grows. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Moves the write position over n bytes filled through room() or reserve(). */
  advance(n: number): this {
    this.pos += n;
    return this;
  }

  /** Writes a placeholder INT32 and returns its position, to be patched once the value is known. */
  reserveInt32(): number {
    const at = this.pos - this.base;
    this.int32(0);
    return at;
  }

  patchInt32(at: number, value: number): void {
    this.buf.writeInt32BE(value, this.base + at);
  }

  patchUInt32(at: number, value: number): void {
    this.buf.writeUInt32BE(value >>> 0, this.base + at);
  }

  /** A view of bytes written so far from `start` (no copy; valid until the next write). */
  view(start = 0, end = this.length): Buffer {
    return this.buf.subarray(this.base + start, this.base + end);
  }

  /** The encoded bytes, copied into a buffer of exactly the written length. */
  toBuffer(): Buffer {
    return Buffer.from(this.view());
  }

  /**
   * Hands out what was written as a view (no copy) that later writes never touch, and starts the
   * next piece right after it. Many pieces share one allocation, which stays alive while any of
   * them does: for pieces that are kept a while and then dropped together (record batches in flight).
   */
  claim(): Buffer {
    const piece = this.buf.subarray(this.base, this.pos);
    this.base = this.pos;
    if (this.source !== null && piece.length > 0) this.source.claimed(piece);
    return piece;
  }

  /** Forgets what was written since the last claim(), keeping the allocation for reuse. */
  reset(): this {
    this.pos = this.base;
    return this;
  }
}
