// npm run bench:codec: how fast lib/records encodes and decodes RecordBatch v2, per codec, on one
// core (all of this is synchronous JavaScript on the main thread, plus the codecs' native/WASM
// code). Each figure is the median of several timed repetitions after a warm-up.
//
// Records: a null key and a JSON-like value of 100 bytes or 1 KiB (varied text, so the codecs have
// something realistic to compress), 1,000 records per batch, timestamps 1 ms apart, no headers.
// MB/s counts the uncompressed batch bytes (header + records) per second, for encoding and for
// decoding alike, so codecs compare on the same amount of work. MB = 10^6 bytes.
//
// Environment: BENCH_REPEATS (default 7), BENCH_MS per repetition (default 300).
import { cpus } from 'node:os';
import { crc32c } from '../lib/records/crc32c.js';
import { zstdReady, type Compression } from '../lib/records/codecs/index.js';
import { decodeRecordBatches, encodeRecordBatch, RecordBatchEncoder, type BatchRecord } from '../lib/records/record-batch.js';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 7);
const REPEAT_MS = Number(process.env.BENCH_MS ?? 300);
const RECORDS_PER_BATCH = 1000;
const compressions: Compression[] = ['none', 'lz4', 'gzip', 'snappy', 'zstd'];

/** Deterministic varied JSON-like text of exactly `size` bytes. */
function value(size: number, n: number): Buffer {
  const events = ['click', 'view', 'purchase', 'signup', 'logout', 'search'];
  let text = '';
  for (let i = 0; text.length < size; i++) {
    const k = (n * 7919 + i * 104729) % 1_000_003;
    text += `{"id":${n * 31 + i},"user":"user-${k % 5000}","event":"${events[k % events.length]}","amount":${(k % 10000) / 100},"ts":${1_700_000_000_000 + k}}`;
  }
  return Buffer.from(text.slice(0, size));
}

function batchOf(size: number): BatchRecord[] {
  return Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ key: null, value: value(size, i), timestamp: 1_700_000_000_000 + i }));
}

/** Runs `fn` repeatedly for about `ms`; returns calls per second. */
function rate(fn: () => void, ms: number): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (calls * 1000) / elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Calls per second: a warm-up, then the median of REPEATS timed runs (with min and max). */
function measure(fn: () => void): { median: number; min: number; max: number } {
  rate(fn, Math.max(200, REPEAT_MS)); // warm-up: lets V8 optimise the path being measured
  const runs = Array.from({ length: REPEATS }, () => rate(fn, REPEAT_MS));
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs) };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface Row {
  record: string;
  codec: string;
  op: string;
  recordsPerSec: string;
  mbPerSec: string;
  spread: string;
  ratio: string;
}

function printTable(rows: Row[]): void {
  const headers: Row = { record: 'record', codec: 'codec', op: 'op', recordsPerSec: 'records/s', mbPerSec: 'MB/s', spread: 'runs min..max rec/s', ratio: 'batch bytes (ratio)' };
  const keys = Object.keys(headers) as (keyof Row)[];
  const widths = keys.map((k) => Math.max(headers[k].length, ...rows.map((r) => r[k].length)));
  const line = (r: Row) => keys.map((k, i) => (i < 3 ? r[k].padEnd(widths[i]) : r[k].padStart(widths[i]))).join('  ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  await zstdReady();
  console.log(`kafka-rx codec benchmark: Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores visible (one used)`);
  console.log(`${RECORDS_PER_BATCH} records per batch, null keys, median of ${REPEATS} runs of ${REPEAT_MS} ms after a warm-up`);
  console.log('MB/s: uncompressed batch bytes (10^6) per second, for encode and decode alike; other load on the machine shows as a wide min..max\n');

  const rows: Row[] = [];
  // One encoder for every batch, as a producer's request planner keeps one.
  const encoder = new RecordBatchEncoder();
  for (const size of [100, 1024]) {
    const records = batchOf(size);
    const plainBytes = encodeRecordBatch(records).length;
    for (const compression of compressions) {
      const encoded = encodeRecordBatch(records, { compression });
      // Check once that what is measured round-trips.
      const check = decodeRecordBatches(encoded)[0].records;
      if (check.length !== RECORDS_PER_BATCH || !check[RECORDS_PER_BATCH - 1].value!.equals(records[RECORDS_PER_BATCH - 1].value!)) {
        throw new Error(`${compression} batch does not round-trip`);
      }
      const ratio = `${fmt(encoded.length)} (${(plainBytes / encoded.length).toFixed(2)}x)`;
      const label = size === 100 ? '100 B' : '1 KiB';
      for (const op of ['encode', 'decode'] as const) {
        const fn = op === 'encode' ? () => void encoder.encode(records, { compression }) : () => void decodeRecordBatches(encoded);
        const r = measure(fn);
        rows.push({
          record: label,
          codec: compression,
          op,
          recordsPerSec: fmt(r.median * RECORDS_PER_BATCH),
          mbPerSec: fmt((r.median * plainBytes) / 1e6, 1),
          spread: `${fmt(r.min * RECORDS_PER_BATCH)}..${fmt(r.max * RECORDS_PER_BATCH)}`,
          ratio,
        });
      }
    }
  }
  printTable(rows);

  console.log('');
  const crcRows: string[] = [];
  for (const size of [1 << 10, 64 << 10, 1 << 20]) {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 131 + (i >> 8)) & 0xff;
    const r = measure(() => void crc32c(data));
    crcRows.push(`CRC-32C over ${fmt(size)} bytes: ${fmt((r.median * size) / 1e6, 0)} MB/s (runs ${fmt((r.min * size) / 1e6)}..${fmt((r.max * size) / 1e6)})`);
  }
  for (const row of crcRows) console.log(row);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
