/**
 * A minimal uncompressed record batch (magic 2) for the protocol integration spec, so Produce can be
 * checked against a real broker (which verifies the CRC) independently of lib/records. Test-only:
 * the library's encoder is lib/records.
 */
import { Writer } from '../../../lib/protocol/writer.js';

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32c(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** One batch holding `values` as records without keys or headers, all stamped `timestamp`. */
export function tinyRecordBatch(values: readonly string[], timestamp: number): Buffer {
  const w = new Writer(256);
  w.int64(0); // base offset (the broker assigns the real one)
  const lengthAt = w.reserveInt32();
  w.int32(-1).int8(2); // partition leader epoch, magic
  const crcAt = w.reserveInt32();
  const crcFrom = w.length;
  w.int16(0).int32(values.length - 1).int64(timestamp).int64(timestamp);
  w.int64(-1).int16(-1).int32(-1); // no producer id, epoch, sequence
  w.int32(values.length);
  values.forEach((value, i) => {
    const record = new Writer(64);
    const bytes = Buffer.from(value);
    record.int8(0).varlong(0).varint(i).varint(-1).varint(bytes.length).raw(bytes).varint(0);
    w.varint(record.length).raw(record.view());
  });
  w.patchInt32(lengthAt, w.length - lengthAt - 4);
  w.patchUInt32(crcAt, crc32c(w.view(crcFrom)));
  return w.toBuffer();
}
