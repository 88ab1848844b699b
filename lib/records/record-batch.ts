/**
 * RecordBatch v2 (magic 2), the only record format kafka-rx writes (every broker from 0.11 reads
 * it; Kafka 4 reads nothing else):
 *
 *   baseOffset INT64 | batchLength INT32 | partitionLeaderEpoch INT32 | magic INT8 (2)
 *   crc UINT32 (CRC-32C of attributes..end) | attributes INT16 (bits 0-2 codec, 3 timestamp type,
 *   4 transactional, 5 control) | lastOffsetDelta INT32 | baseTimestamp INT64 | maxTimestamp INT64
 *   producerId INT64 | producerEpoch INT16 | baseSequence INT32 | records count INT32 | records
 *
 *   record: length VARINT | attributes INT8 | timestampDelta VARLONG | offsetDelta VARINT
 *           keyLength VARINT (-1 null) | key | valueLength VARINT (-1 null) | value
 *           headers count VARINT | [keyLength VARINT | key UTF-8 | valueLength VARINT (-1 null) | value]
 *
 * A codec compresses the records section as one block.
 */
import { asProtocolError } from '../errors/convert.js';
import { KafkaRxError, ProtocolError } from '../errors/index.js';
import { SlabPool } from '../protocol/slab-pool.js';
import { Writer } from '../protocol/writer.js';
import { codecById, codecs, type Compression } from './codecs/index.js';
import { crc32c } from './crc32c.js';
import { MAX_VARINT_BYTES, MAX_VARLONG_BYTES, putVarint, readVarint, readVarlong, varintSize } from './varint.js';

export interface BatchRecordHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

export interface BatchRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly headers?: readonly BatchRecordHeader[];
}

export interface RecordBatchOptions {
  compression?: Compression;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  partitionLeaderEpoch?: number;
}

/** Bytes of a batch before its first record. */
export const RECORD_BATCH_OVERHEAD = 61;
const LENGTH_OFFSET = 8;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;

function headersSize(headers: readonly BatchRecordHeader[] | undefined): number {
  if (headers === undefined) return 1;
  let size = varintSize(headers.length);
  for (const header of headers) {
    const keyBytes = Buffer.byteLength(header.key);
    size += varintSize(keyBytes) + keyBytes;
    size += header.value === null ? 1 : varintSize(header.value.length) + header.value.length;
  }
  return size;
}

/** Key, value and headers of a record as it encodes them (lengths included). */
function fieldsSize(key: Buffer | null, value: Buffer | null, headers: readonly BatchRecordHeader[] | undefined): number {
  return (key === null ? 1 : varintSize(key.length) + key.length) + (value === null ? 1 : varintSize(value.length) + value.length) + headersSize(headers);
}

function bodySize(record: BatchRecord, offsetDelta: number, timestampDelta: number): number {
  return 1 + varintSize(timestampDelta) + varintSize(offsetDelta) + fieldsSize(record.key, record.value, record.headers);
}

/**
 * The most bytes a record can take inside an uncompressed batch, whatever its offset and timestamp
 * deltas (a varint of at most MAX_VARINT_BYTES and a varlong of at most MAX_VARLONG_BYTES), its length
 * prefix included.
 */
export function recordSizeBound(key: Buffer | null, value: Buffer | null, headers: readonly BatchRecordHeader[] | undefined): number {
  const body = 1 + MAX_VARLONG_BYTES + MAX_VARINT_BYTES + fieldsSize(key, value, headers);
  return varintSize(body) + body;
}

/** Exact bytes one record takes inside an uncompressed batch, its length prefix included. */
export function recordSize(record: BatchRecord, offsetDelta: number, timestampDelta: number): number {
  const body = bodySize(record, offsetDelta, timestampDelta);
  return varintSize(body) + body;
}

/** The slab a RecordBatchEncoder claims its batches from: a full request's worth at the default maxRequestSize. */
const ENCODER_SLAB_BYTES = 1 << 20;
/** Where a one-off encodeRecordBatch() starts: its writer doubles from there as the batch needs. */
const ONE_BATCH_START_BYTES = 1024;

function putBytes(buf: Buffer, p: number, bytes: Buffer | null): number {
  if (bytes === null) {
    buf[p] = 1; // zig-zag -1
    return p + 1;
  }
  p = putVarint(buf, p, bytes.length);
  buf.set(bytes, p);
  return p + bytes.length;
}

function writeRecords(writer: Writer, records: readonly BatchRecord[], baseTimestamp: number): void {
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const timestampDelta = record.timestamp - baseTimestamp;
    const body = bodySize(record, i, timestampDelta);
    if (record.headers === undefined && timestampDelta >= -0x40000000 && timestampDelta < 0x40000000) {
      // The common record, written in one go: one bounds check instead of one per field.
      const size = varintSize(body) + body;
      let p = writer.reserve(size);
      const buf = writer.buffer;
      p = putVarint(buf, p, body);
      buf[p++] = 0;
      p = putVarint(buf, p, timestampDelta);
      p = putVarint(buf, p, i);
      p = putBytes(buf, p, record.key);
      p = putBytes(buf, p, record.value);
      buf[p] = 0; // no headers
      writer.advance(size);
      continue;
    }
    writer.varint(body);
    writer.int8(0);
    writer.varlong(timestampDelta);
    writer.varint(i);
    const { key, value, headers } = record;
    if (key === null) writer.varint(-1);
    else writer.varint(key.length).raw(key);
    if (value === null) writer.varint(-1);
    else writer.varint(value.length).raw(value);
    if (headers === undefined) {
      writer.varint(0);
    } else {
      writer.varint(headers.length);
      for (const header of headers) {
        writer.varint(Buffer.byteLength(header.key));
        writer.raw(Buffer.from(header.key, 'utf8'));
        if (header.value === null) writer.varint(-1);
        else writer.varint(header.value.length).raw(header.value);
      }
    }
  }
}

/**
 * Encodes record batches for one owner (a producer's request planner). Encoding is synchronous, so
 * the encoder's writers serve every batch: finished batches are claimed from the batch writer as
 * views of its current slab, not copied out, and a new slab starts when one is full (taken from the
 * encoder's SlabPool when it has one: see pooled()); a compressed batch's records are first written,
 * uncompressed, to a second writer reused each time.
 */
export class RecordBatchEncoder {
  private readonly batchWriter: Writer;
  private recordsWriter: Writer | null = null;

  /** With a pool, batches are claimed from its slabs, and a batch given back with release() lets its slab be reused. */
  constructor(
    private readonly slabBytes = ENCODER_SLAB_BYTES,
    private readonly pool: SlabPool | null = null,
  ) {
    this.batchWriter = pool !== null ? pool.writer() : new Writer(slabBytes);
  }

  /** An encoder whose slabs are reused once every batch claimed from one is given back (release()). */
  static pooled(): RecordBatchEncoder {
    return new RecordBatchEncoder(ENCODER_SLAB_BYTES, new SlabPool(ENCODER_SLAB_BYTES));
  }

  /** Gives back an encoded batch nobody will read again (its request was answered); without a pool, nothing to do. */
  release(batch: Buffer): void {
    this.pool?.release(batch);
  }

  /** Encodes records (at least one) as one RecordBatch v2 with base offset 0. */
  encode(records: readonly BatchRecord[], options: RecordBatchOptions = {}): Buffer {
    if (records.length === 0) throw new KafkaRxError('a record batch needs at least one record');
    const compression = options.compression ?? 'none';
    const baseTimestamp = records[0].timestamp;
    let maxTimestamp = baseTimestamp;
    for (let i = 1; i < records.length; i++) if (records[i].timestamp > maxTimestamp) maxTimestamp = records[i].timestamp;

    let attributes = 0;
    if (compression !== 'none') attributes |= codecs[compression].id;
    if (options.isTransactional) attributes |= 0x10;

    const writer = this.batchWriter.reset();
    writer.int64(0).int32(0).int32(options.partitionLeaderEpoch ?? -1).int8(2).uint32(0);
    writer.int16(attributes).int32(records.length - 1).int64(baseTimestamp).int64(maxTimestamp);
    writer.int64(options.producerId ?? -1n).int16(options.producerEpoch ?? -1).int32(options.baseSequence ?? -1);
    writer.int32(records.length);
    if (compression === 'none') {
      writeRecords(writer, records, baseTimestamp);
    } else {
      const plain = (this.recordsWriter ??= new Writer(this.slabBytes)).reset();
      writeRecords(plain, records, baseTimestamp);
      const codec = codecs[compression];
      if (codec.compressInto !== undefined) codec.compressInto(plain.view(), writer);
      else writer.raw(codec.compress(plain.view()));
    }
    writer.patchInt32(LENGTH_OFFSET, writer.length - 12);
    writer.patchUInt32(CRC_OFFSET, crc32c(writer.view(ATTRIBUTES_OFFSET)));
    return writer.claim();
  }
}

/** Encodes records (at least one) as one RecordBatch v2 with base offset 0, in a buffer of its own. */
export function encodeRecordBatch(records: readonly BatchRecord[], options: RecordBatchOptions = {}): Buffer {
  return new RecordBatchEncoder(ONE_BATCH_START_BYTES).encode(records, options);
}

export interface DecodedRecord {
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  timestamp: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

export interface DecodedBatch {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: Compression;
  timestampType: 'create' | 'logAppend';
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  records: DecodedRecord[];
}

const compressionNames: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** A bounds-checked cursor over record bytes: garbage ends in ProtocolError, never a RangeError. */
class RecordReader {
  pos = 0;
  readonly end: number;
  constructor(readonly buf: Buffer) {
    this.end = buf.length;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new ProtocolError(`record batch truncated: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  int8(): number { this.need(1); return this.buf.readInt8(this.pos++); }
  int16(): number { this.need(2); const v = this.buf.readInt16BE(this.pos); this.pos += 2; return v; }
  int32(): number { this.need(4); const v = this.buf.readInt32BE(this.pos); this.pos += 4; return v; }
  uint32(): number { this.need(4); const v = this.buf.readUInt32BE(this.pos); this.pos += 4; return v; }
  int64(): bigint { this.need(8); const v = this.buf.readBigInt64BE(this.pos); this.pos += 8; return v; }

  varlong(): number {
    return readVarlong(this);
  }

  varint(): number {
    return readVarint(this);
  }

  bytes(): Buffer | null {
    const length = this.varint();
    if (length === -1) return null;
    if (length < -1) throw new ProtocolError(`negative length ${length}`);
    this.need(length);
    const data = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return data;
  }
}

function decodeRecords(data: Buffer, count: number, baseOffset: bigint, baseTimestamp: number): DecodedRecord[] {
  const reader = new RecordReader(data);
  // Each record takes at least 7 bytes: a count beyond that cannot be real.
  if (count < 0 || count > data.length / 7 + 1) throw new ProtocolError(`record count ${count} does not fit in ${data.length} bytes`);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = reader.varint();
    if (length < 0) throw new ProtocolError(`negative record length ${length}`);
    reader.need(length);
    const end = reader.pos + length;
    const attributes = reader.int8();
    const timestampDelta = reader.varlong();
    const offsetDelta = reader.varint();
    const key = reader.bytes();
    const value = reader.bytes();
    const headerCount = reader.varint();
    if (headerCount < 0 || headerCount > length) throw new ProtocolError(`header count ${headerCount} does not fit`);
    const headers: DecodedRecord['headers'] = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = reader.bytes();
      if (headerKey === null) throw new ProtocolError('a header key cannot be null');
      headers.push({ key: headerKey.toString('utf8'), value: reader.bytes() });
    }
    if (reader.pos !== end) throw new ProtocolError(`record ${i} length ${length} does not match its fields`);
    records.push({ attributes, timestampDelta, offsetDelta, timestamp: baseTimestamp + timestampDelta, offset: baseOffset + BigInt(offsetDelta), key, value, headers });
  }
  if (reader.pos !== data.length) throw new ProtocolError('bytes left after the last record');
  return records;
}

/** Decodes record batches laid back to back (a Produce partition's records, a fetch response). */
export function decodeRecordBatches(buffer: Buffer): DecodedBatch[] {
  const batches: DecodedBatch[] = [];
  const reader = new RecordReader(buffer);
  while (reader.pos < buffer.length) {
    const start = reader.pos;
    const baseOffset = reader.int64();
    const batchLength = reader.int32();
    if (batchLength < RECORD_BATCH_OVERHEAD - 12) throw new ProtocolError(`batch length ${batchLength} is below the header size`);
    reader.need(batchLength);
    const end = reader.pos + batchLength;
    const partitionLeaderEpoch = reader.int32();
    const magic = reader.int8();
    if (magic !== 2) throw new ProtocolError(`record batch magic ${magic}: only magic 2 is supported`);
    const crc = reader.uint32();
    const computed = crc32c(buffer.subarray(start + ATTRIBUTES_OFFSET, end));
    if (computed !== crc) throw new ProtocolError(`record batch CRC mismatch: stored ${crc.toString(16)}, computed ${computed.toString(16)}`);
    const attributes = reader.int16();
    const lastOffsetDelta = reader.int32();
    const baseTimestamp = Number(reader.int64());
    const maxTimestamp = Number(reader.int64());
    const producerId = reader.int64();
    const producerEpoch = reader.int16();
    const baseSequence = reader.int32();
    const count = reader.int32();
    const codecId = attributes & 0x07;
    if (codecId > 4) throw new ProtocolError(`unknown compression codec ${codecId}`);
    let data = buffer.subarray(reader.pos, end);
    if (codecId !== 0) {
      try {
        data = codecById(codecId)!.decompress(data);
      } catch (error) {
        throw asProtocolError(error, 'records do not decompress');
      }
    }
    batches.push({
      baseOffset,
      batchLength,
      partitionLeaderEpoch,
      magic,
      crc,
      attributes,
      compression: compressionNames[codecId],
      timestampType: attributes & 0x08 ? 'logAppend' : 'create',
      isTransactional: (attributes & 0x10) !== 0,
      isControl: (attributes & 0x20) !== 0,
      lastOffsetDelta,
      baseTimestamp,
      maxTimestamp,
      producerId,
      producerEpoch,
      baseSequence,
      records: decodeRecords(data, count, baseOffset, baseTimestamp),
    });
    reader.pos = end;
  }
  return batches;
}
