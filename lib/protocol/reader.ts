/**
 * Decoding helpers for Kafka response bodies.
 *
 * Two tools, each used where it fits:
 *
 * - `FixedLayout` wraps a binary-parser `Parser` for parts whose layout is fixed once the version
 *   is known (a run of int16/int32/int64 fields, or an array of such structs whose byte length is
 *   known up front). binary-parser compiles such a layout into one straight-line function and
 *   states it declaratively.
 *
 * - `Reader` is a small bounds-checked cursor for everything binary-parser cannot express safely:
 *   unsigned varints (compact lengths, tagged-field headers), compact and nullable strings/arrays
 *   (length + 1, 0 or -1 meaning null), tagged-field sections to skip or decode, and above all the
 *   bounds checks. binary-parser trusts its length fields: a count of 2^31 would make it loop and
 *   allocate, and reading past the end raises a bare RangeError from DataView. So every length and
 *   count is read here, checked against the bytes that remain (a count is refused when even its
 *   smallest possible items could not fit), and only then is a fixed layout parsed, over a slice
 *   of exactly the size it needs.
 *
 * Where binary-parser is used, and where deliberately not: each `parse()` call makes a slice, a
 * DataView and a result object from which the generated code `delete`s its $parent/$root keys (which
 * leaves V8 a slow dictionary-mode object). For small per-item structs that costs more than the
 * reads: decoding a 10-partition Produce response took 1.7 us with the cursor and 5.5 us with a
 * binary-parser layout for each partition's fixed head (Node 20, measured while writing this). So
 * the hot paths (Produce, Metadata) read with the cursor, and binary-parser parses the layouts read
 * once per connection or producer: ApiVersions entries (the whole non-flexible array in one pass)
 * and the InitProducerId body.
 *
 * Every failure is a `ProtocolError`: truncated input, negative or oversized lengths and counts,
 * over-long varints, null where the grammar forbids it. No length field can make an allocation
 * larger than what the remaining input could really hold.
 */
// The package's "exports" map gives ESM resolution no typings for its root, so the ESM build
// (moduleResolution Bundler) could not type it; the CommonJS file with its .d.ts serves both builds.
import { Parser } from 'binary-parser/dist/binary_parser.js';
import { ProtocolError } from '../errors/index.js';
import { readUnsignedVarint } from '../records/varint.js';

const MINUS_ONE = -1n;
const ZERO = 0n;

export { Parser };

export class Reader {
  readonly buf: Buffer;
  /** Next byte to read. */
  pos: number;
  /** One past the last readable byte (narrowed while a tagged field is decoded). */
  end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (offset < 0 || offset > end || end > buf.length) {
      throw new ProtocolError(`cannot read bytes ${offset}..${end} of a ${buf.length}-byte buffer`);
    }
    this.buf = buf;
    this.pos = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless n more bytes can be read. */
  need(n: number): void {
    if (n > this.end - this.pos) {
      throw new ProtocolError(`truncated data: needed ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  boolean(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }

  int16(): number {
    this.need(2);
    const value = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  int64(): bigint {
    this.need(8);
    const { buf, pos } = this;
    this.pos += 8;
    // -1 and 0 fill most int64 fields of an answer (a Produce answer's log append time and log
    // start offset): the same bigint for them, where reading one builds several intermediate ones.
    const high = buf.readInt32BE(pos);
    if (high === -1 && buf.readInt32BE(pos + 4) === -1) return MINUS_ONE;
    if (high === 0 && buf.readInt32BE(pos + 4) === 0) return ZERO;
    return buf.readBigInt64BE(pos);
  }

  /** A 16-byte UUID, copied so it does not pin the whole response in memory. */
  uuid(): Buffer {
    this.need(16);
    const value = Buffer.from(this.buf.subarray(this.pos, this.pos + 16));
    this.pos += 16;
    return value;
  }

  /**
   * A 16-byte UUID as a view of the response, for answers read and dropped at once (a Produce
   * answer's topic ids, compared with the request's and let go): no copy per answer. An id kept
   * for later (metadata) takes uuid(), which does not pin the response.
   */
  uuidView(): Buffer {
    this.need(16);
    const value = this.buf.subarray(this.pos, this.pos + 16);
    this.pos += 16;
    return value;
  }

  /** Unsigned LEB128 varint of at most 32 bits (5 bytes). */
  uvarint(): number {
    return readUnsignedVarint(this);
  }

  /** Length of a string or bytes field; -1 for null. Checked against the bytes that remain. */
  private length(compact: boolean, wide: boolean): number {
    let len: number;
    if (compact) len = this.uvarint() - 1;
    else if (wide) len = this.int32();
    else len = this.int16();
    if (len < -1) throw new ProtocolError(`negative length ${len} at offset ${this.pos}`);
    if (len > this.end - this.pos) {
      throw new ProtocolError(`length ${len} at offset ${this.pos} exceeds the ${this.end - this.pos} bytes left`);
    }
    return len;
  }

  /** A STRING / COMPACT_STRING that may not be null. */
  string(compact: boolean): string {
    const value = this.nullableString(compact);
    if (value === null) throw new ProtocolError(`null where a string is required (offset ${this.pos})`);
    return value;
  }

  /** A NULLABLE_STRING / COMPACT_NULLABLE_STRING. */
  nullableString(compact: boolean): string | null {
    const len = this.length(compact, false);
    if (len === -1) return null;
    const value = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return value;
  }

  /** NULLABLE_BYTES / COMPACT_NULLABLE_BYTES, as a view into the input (no copy). */
  nullableBytes(compact: boolean): Buffer | null {
    const len = this.length(compact, true);
    if (len === -1) return null;
    const value = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return value;
  }

  /**
   * An array's item count, -1 for null. `minItemSize` is the fewest bytes one item can take, so a
   * count that the remaining bytes cannot hold is refused before anything is allocated for it.
   */
  nullableArrayLength(compact: boolean, minItemSize: number): number {
    const count = compact ? this.uvarint() - 1 : this.int32();
    if (count < -1) throw new ProtocolError(`negative array length ${count} at offset ${this.pos}`);
    if (count > 0 && count * minItemSize > this.end - this.pos) {
      throw new ProtocolError(`array of ${count} items at offset ${this.pos} cannot fit in the ${this.end - this.pos} bytes left`);
    }
    return count;
  }

  /** An array's item count where the grammar does not allow null. */
  arrayLength(compact: boolean, minItemSize: number): number {
    const count = this.nullableArrayLength(compact, minItemSize);
    if (count === -1) throw new ProtocolError(`null where an array is required (offset ${this.pos})`);
    return count;
  }

  /** An array of INT32 (broker ids, replica lists). */
  int32Array(compact: boolean): number[] {
    const count = this.arrayLength(compact, 4);
    const items = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      items[i] = this.buf.readInt32BE(this.pos);
      this.pos += 4;
    }
    return items;
  }

  /**
   * A tagged-field section. Each field's size is checked; `onTag` (a module-level function, so no
   * closure is made per call) sees the reader narrowed to that field, and whatever it leaves unread
   * is skipped, as are tags it does not know, which keeps decoding forward compatible.
   */
  taggedFields<T>(onTag?: (tag: number, reader: Reader, target: T) => void, target?: T): void {
    const count = this.uvarint();
    // Each field takes at least two bytes (tag and size).
    if (count * 2 > this.end - this.pos) {
      throw new ProtocolError(`${count} tagged fields at offset ${this.pos} cannot fit in the ${this.end - this.pos} bytes left`);
    }
    let lastTag = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= lastTag) throw new ProtocolError(`tagged field ${tag} out of order at offset ${this.pos}`);
      lastTag = tag;
      const size = this.uvarint();
      this.need(size);
      const fieldEnd = this.pos + size;
      if (onTag !== undefined) {
        const outerEnd = this.end;
        this.end = fieldEnd;
        try {
          onTag(tag, this, target as T);
        } finally {
          this.end = outerEnd;
        }
      }
      this.pos = fieldEnd;
    }
  }

  /** Decodes a fixed layout at the cursor and moves past it. */
  fixed<T>(layout: FixedLayout<T>): T {
    return layout.readFrom(this);
  }
}

/**
 * A fixed-size binary-parser layout: the parser's own `sizeOf()` gives the bytes it reads, which
 * the cursor checks before handing it a slice of exactly that size.
 */
export class FixedLayout<T> {
  readonly size: number;
  private readonly parser: Parser;
  private readonly itemsParser: Parser;

  constructor(parser: Parser) {
    this.parser = parser;
    this.size = parser.sizeOf();
    if (!Number.isInteger(this.size) || this.size <= 0) throw new TypeError('a FixedLayout needs a fixed-size parser');
    // The array form reads a slice of exactly count * size bytes, so 'eof' is its item count.
    this.itemsParser = new Parser().array('items', { type: parser, readUntil: 'eof' });
  }

  readFrom(reader: Reader): T {
    reader.need(this.size);
    const start = reader.pos;
    reader.pos += this.size;
    return this.parser.parse(reader.buf.subarray(start, start + this.size)) as T;
  }

  /** `count` consecutive items, decoded in one pass (the count is already bounds-checked or not). */
  readItems(reader: Reader, count: number): T[] {
    if (count <= 0) return [];
    const bytes = count * this.size;
    reader.need(bytes);
    const start = reader.pos;
    reader.pos += bytes;
    return (this.itemsParser.parse(reader.buf.subarray(start, start + bytes)) as { items: T[] }).items;
  }
}
