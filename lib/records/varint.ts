/**
 * Kafka's variable-length integers, the one place they are sized, written and read.
 *
 *   UNSIGNED_VARINT  LEB128: 7 bits a byte, least significant group first, 0x80 on every byte
 *                    but the last; at most 5 bytes (32 bits). Compact lengths, tagged fields.
 *   VARINT           zig-zag (n >= 0 -> 2n, n < 0 -> -2n-1) then LEB128; 32 bits, 5 bytes.
 *   VARLONG          the same over 64 bits, at most 10 bytes. Record timestamp deltas.
 *
 * Sizing and writing live side by side so a request's precomputed size and its bytes cannot
 * drift apart. Protocol and records both use this module, so it imports nothing but errors.
 * The writers take a buffer and a position and return the next position, with room checked by
 * the caller: the record encoder reserves a whole record at once and writes without a bounds
 * check per field, which is where the produce hot path spends its time.
 */
import { ProtocolError } from '../errors/index.js';

/** Most bytes of a VARINT or UNSIGNED_VARINT. */
export const MAX_VARINT_BYTES = 5;
/** Most bytes of a VARLONG. */
export const MAX_VARLONG_BYTES = 10;

/** Bytes of the UNSIGNED_VARINT of a 32-bit unsigned value. */
export function unsignedVarintSize(value: number): number {
  const v = value >>> 0;
  // Comparisons, not a shifting loop: this runs for every length in a request.
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes of the VARINT or VARLONG of a value in the safe-integer range. */
export function varintSize(value: number): number {
  const zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  // Comparisons, not a division loop: this runs several times per record.
  if (zigzag < 0x80) return 1;
  if (zigzag < 0x4000) return 2;
  if (zigzag < 0x200000) return 3;
  if (zigzag < 0x10000000) return 4;
  let size = 5;
  for (let rest = Math.floor(zigzag / 0x800000000); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** Writes the UNSIGNED_VARINT of a 32-bit value at p; returns the position after it. */
export function putUnsignedVarint(buf: Uint8Array, p: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

/** Writes the VARINT (zig-zag, 32-bit) of value at p; returns the position after it. */
export function putVarint(buf: Uint8Array, p: number, value: number): number {
  return putUnsignedVarint(buf, p, ((value << 1) ^ (value >> 31)) >>> 0);
}

/**
 * Writes the VARLONG (zig-zag, 64-bit) of value at p; returns the position after it. Numbers
 * whose zig-zag fits 31 bits take the 32-bit path, so the common timestamp delta allocates no BigInt.
 */
export function putVarlong(buf: Uint8Array, p: number, value: bigint | number): number {
  if (typeof value === 'number' && value >= -0x40000000 && value < 0x40000000) return putVarint(buf, p, value);
  const big = BigInt(value);
  let v = BigInt.asUintN(64, (big << 1n) ^ (big >> 63n));
  while (v >= 0x80n) {
    buf[p++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[p++] = Number(v);
  return p;
}

/** Bytes being read: the protocol Reader and the record decoder both are one. */
export interface ByteCursor {
  readonly buf: Uint8Array;
  /** Next byte to read; advanced past what is read. */
  pos: number;
  /** One past the last readable byte. */
  readonly end: number;
}

/** Reads an UNSIGNED_VARINT of at most 32 bits; truncated or longer input is a ProtocolError. */
export function readUnsignedVarint(cursor: ByteCursor): number {
  const { buf, end } = cursor;
  const start = cursor.pos;
  let pos = start;
  let result = 0;
  let multiplier = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos >= end) throw new ProtocolError(`truncated varint at offset ${start}`);
    const byte = buf[pos++];
    if (i === MAX_VARINT_BYTES - 1 && byte > 0x0f) throw new ProtocolError(`varint at offset ${start} exceeds 32 bits`);
    result += (byte & 0x7f) * multiplier;
    if (byte < 0x80) {
      cursor.pos = pos;
      return result;
    }
    multiplier *= 128;
  }
  throw new ProtocolError(`varint at offset ${start} is longer than ${MAX_VARINT_BYTES} bytes`);
}

/**
 * Reads a VARLONG (or, with maxBytes 5, a VARINT) as a number, exact over the safe-integer range:
 * kafka-rx's values (deltas, lengths, counts) stay within it. The low 28 bits are kept apart from
 * the rest so that undoing the zig-zag never rounds an odd value above 2^53.
 */
export function readVarlong(cursor: ByteCursor, maxBytes = MAX_VARLONG_BYTES): number {
  const { buf, end } = cursor;
  const start = cursor.pos;
  let pos = start;
  let low = 0;
  let high = 0;
  let highMultiplier = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= end) throw new ProtocolError(`truncated varint at offset ${start}`);
    const byte = buf[pos++];
    if (i < 4) low |= (byte & 0x7f) << (7 * i);
    else {
      high += (byte & 0x7f) * highMultiplier;
      highMultiplier *= 128;
    }
    if (byte < 0x80) {
      cursor.pos = pos;
      const magnitude = high * 0x8000000 + (low >>> 1);
      return (low & 1) === 0 ? magnitude : -magnitude - 1;
    }
  }
  throw new ProtocolError(`varint at offset ${start} is longer than ${maxBytes} bytes`);
}

/** Reads a VARINT (zig-zag, at most 5 bytes). */
export function readVarint(cursor: ByteCursor): number {
  return readVarlong(cursor, MAX_VARINT_BYTES);
}
