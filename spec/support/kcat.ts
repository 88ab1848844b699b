// kcat (Debian's, 1.7.x on librdkafka 2.x) as the independent reader and writer in tests: what
// kafka-rx writes is read back by a client that shares no code with it.
//
// Exact bytes: kcat's JSON envelope (-J) turns keys and values into JSON strings, which loses
// non-UTF-8 bytes. So records are read with a framed format instead:
//   "%p %o %T %K %S\n" + key bytes + value bytes + headers-as-text + TERMINATOR
// where %K/%S are the key/value lengths, -1 for NULL; the bytes are then cut by length, so any
// byte may occur in keys and values and NULL differs from empty. Headers have no length-framed
// form in kcat; when any record carries headers, a second pass with -J reads them, which is exact
// for UTF-8 header values and keeps null apart from empty.
// librdkafka is told to verify batch CRCs (check.crcs), so a bad CRC from kafka-rx fails the read.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { bootstrap as defaultBootstrap } from './broker.js';

export interface KcatHeader {
  key: string;
  value: Buffer | null;
}

export interface KcatRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** Milliseconds since the epoch, as stored in the record (CreateTime or LogAppendTime). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: KcatHeader[];
}

export interface ConsumeOptions {
  /** Default: KAFKA_BROKERS. */
  bootstrap?: string;
  /**
   * Wait until this many records were read (then stop, ignoring later ones); without it, read
   * what the topic holds now (up to each partition's end) and return.
   */
  count?: number;
  /** Only this partition. */
  partition?: number;
  /** Whole run budget; default 30 s. */
  timeoutMs?: number;
  /** false skips the header pass even when records carry headers (faster for large reads). */
  headers?: boolean;
  /** librdkafka properties (-X), e.g. security.protocol and sasl.* for a secured listener. */
  config?: Record<string, string>;
}

function configArgs(config: Record<string, string> | undefined): string[] {
  return Object.entries(config ?? {}).flatMap(([k, v]) => ['-X', `${k}=${v}`]);
}

const TERMINATOR = Buffer.from('\x1eKRX\x1f\n', 'latin1');
const FORMAT = '%p %o %T %K %S\\n%k%s%h\\x1eKRX\\x1f\\n';

/** All records of a topic (or partition), sorted by partition then offset. */
export async function consumeAll(topic: string, options: ConsumeOptions = {}): Promise<KcatRecord[]> {
  const boot = options.bootstrap ?? defaultBootstrap();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const args = ['-C', '-q', '-b', boot, '-t', topic, '-o', 'beginning', '-X', 'check.crcs=true', '-m', '10', ...configArgs(options.config)];
  if (options.partition !== undefined) args.push('-p', String(options.partition));
  if (options.count !== undefined) args.push('-c', String(options.count));
  else args.push('-e');

  const parser = new FrameParser(topic);
  let stderr = '';
  const timedOut = await runKcat([...args, '-f', FORMAT], timeoutMs, (chunk) => parser.push(chunk), (s) => { stderr += s; });
  const records = parser.records;
  if (timedOut.timedOut) {
    const want = options.count !== undefined ? `${options.count}` : 'all';
    throw new Error(`kcat read ${records.length} of ${want} records from ${topic} within ${timeoutMs} ms${stderr ? `: ${lastLine(stderr)}` : ''}`);
  }
  if (timedOut.code !== 0) throw new Error(`kcat could not read ${topic} (exit ${timedOut.code}): ${lastLine(stderr)}`);
  if (parser.pendingBytes() > 0) throw new Error(`kcat output for ${topic} ended inside a record`);

  if (parser.sawHeaders && options.headers !== false) await readHeaders(topic, boot, options, records);
  records.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  return records;
}

async function readHeaders(topic: string, boot: string, options: ConsumeOptions, records: KcatRecord[]): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const args = ['-C', '-q', '-J', '-e', '-b', boot, '-t', topic, '-o', 'beginning', '-m', '10', ...configArgs(options.config)];
  if (options.partition !== undefined) args.push('-p', String(options.partition));
  const byPosition = new Map<string, KcatHeader[]>();
  let rest = '';
  let stderr = '';
  const onLine = (line: string) => {
    if (!line) return;
    const m = JSON.parse(line) as { partition: number; offset: number; headers?: (string | null)[] };
    const headers: KcatHeader[] = [];
    const h = m.headers ?? [];
    for (let i = 0; i + 1 < h.length; i += 2) {
      headers.push({ key: String(h[i]), value: h[i + 1] === null ? null : Buffer.from(h[i + 1] as string, 'utf8') });
    }
    byPosition.set(`${m.partition}:${m.offset}`, headers);
  };
  const r = await runKcat(args, timeoutMs, (chunk) => {
    const text = rest + chunk.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  }, (s) => { stderr += s; });
  onLine(rest);
  if (r.timedOut || r.code !== 0) throw new Error(`kcat could not read the headers of ${topic}: ${lastLine(stderr) || 'timed out'}`);
  for (const rec of records) {
    const h = byPosition.get(`${rec.partition}:${rec.offset}`);
    if (!h) throw new Error(`kcat's header pass missed ${topic}[${rec.partition}]@${rec.offset}`);
    rec.headers = h;
  }
}

/** Incremental parser of the framed -f output; waits for whole records, never re-scans. */
class FrameParser {
  readonly records: KcatRecord[] = [];
  sawHeaders = false;
  private chunks: Buffer[] = [];
  private total = 0;
  private need = 1;

  constructor(private readonly topic: string) {}

  pendingBytes(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.total += chunk.length;
    if (this.total < this.need) return;
    const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.total);
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      if (nl < 0) { this.need = buf.length - pos + 1; break; }
      const fields = buf.toString('latin1', pos, nl).split(' ');
      if (fields.length !== 5) throw new Error(`unexpected kcat output line: ${JSON.stringify(buf.toString('latin1', pos, nl))}`);
      const keyLen = Number(fields[3]);
      const valueLen = Number(fields[4]);
      const keyStart = nl + 1;
      const valueStart = keyStart + Math.max(keyLen, 0);
      const headersStart = valueStart + Math.max(valueLen, 0);
      if (buf.length < headersStart + TERMINATOR.length) { this.need = headersStart + TERMINATOR.length - pos; break; }
      const end = buf.indexOf(TERMINATOR, headersStart);
      if (end < 0) { this.need = buf.length - pos + 1; break; }
      if (end > headersStart) this.sawHeaders = true;
      this.records.push({
        topic: this.topic,
        partition: Number(fields[0]),
        offset: BigInt(fields[1]),
        timestamp: Number(fields[2]),
        key: keyLen < 0 ? null : Buffer.from(buf.subarray(keyStart, valueStart)),
        value: valueLen < 0 ? null : Buffer.from(buf.subarray(valueStart, headersStart)),
        headers: [],
      });
      pos = end + TERMINATOR.length;
      this.need = 1;
    }
    const rest = buf.subarray(pos);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.total = rest.length;
  }
}

export interface KcatProduceRecord {
  /** Omitted or null: no key. */
  key?: Buffer | string | null;
  value: Buffer | string | null;
}

export interface ProduceOptions {
  bootstrap?: string;
  /** librdkafka's partitioner; murmur2_random places keyed records as the Java client does. */
  partitioner?: 'murmur2' | 'murmur2_random' | 'consistent' | 'consistent_random' | 'random' | 'fnv1a' | 'fnv1a_random';
  /** Every record to this partition (kcat -p). */
  partition?: number;
  /** The same headers on every record (kcat cannot vary them per record); null: a null value. */
  headers?: Record<string, string | null>;
  compression?: 'gzip' | 'snappy' | 'lz4' | 'zstd';
  timeoutMs?: number;
}

/**
 * Writes records with kcat -P (acks=all, delivery checked: kcat exits non-zero when a record
 * failed). kcat's own limits: an empty value with a null key and a null value with an empty key
 * cannot be expressed, and records are sent in runs that keep their order within each run.
 */
export async function produce(topic: string, records: readonly KcatProduceRecord[], options: ProduceOptions = {}): Promise<void> {
  const boot = options.bootstrap ?? defaultBootstrap();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const norm = records.map((r, i) => {
    const key = r.key === undefined || r.key === null ? null : Buffer.isBuffer(r.key) ? r.key : Buffer.from(r.key);
    const value = r.value === null ? null : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    if (key === null && value !== null && value.length === 0) throw new RangeError(`record ${i}: kcat cannot produce an empty value without a key`);
    if (value === null && key !== null && key.length === 0) throw new RangeError(`record ${i}: kcat cannot produce a null value with an empty key`);
    return { key, value };
  });
  const [msgDelim, keyDelim] = delimitersFor(norm);
  // -Z (empty means NULL) is needed for null values and forbidden for empty ones: consecutive runs.
  let i = 0;
  while (i < norm.length) {
    const nullMode = norm[i].value === null;
    const parts: Buffer[] = [];
    for (; i < norm.length && (norm[i].value === null) === nullMode; i++) {
      const { key, value } = norm[i];
      if (key !== null) parts.push(key, keyDelim);
      if (value !== null) parts.push(value);
      parts.push(msgDelim);
    }
    const args = ['-P', '-q', '-b', boot, '-t', topic, '-D', msgDelim.toString('latin1'), '-K', keyDelim.toString('latin1'),
      '-X', `topic.partitioner=${options.partitioner ?? 'murmur2_random'}`, '-X', 'acks=all', '-X', `message.timeout.ms=${timeoutMs}`,
      '-m', '10'];
    if (nullMode) args.push('-Z');
    if (options.partition !== undefined) args.push('-p', String(options.partition));
    if (options.compression) args.push('-z', options.compression);
    for (const [k, v] of Object.entries(options.headers ?? {})) args.push('-H', v === null ? k : `${k}=${v}`);
    let stderr = '';
    const r = await runKcat(args, timeoutMs + 10_000, () => {}, (s) => { stderr += s; }, Buffer.concat(parts));
    if (r.timedOut || r.code !== 0 || /Delivery failed|ERROR/.test(stderr)) {
      throw new Error(`kcat could not produce to ${topic}: ${lastLine(stderr) || (r.timedOut ? 'timed out' : `exit ${r.code}`)}`);
    }
  }
}

// Random printable delimiters (kcat's -D/-K parse \xNN only in one-character form), checked
// against the data so no key or value can contain one.
function delimitersFor(records: { key: Buffer | null; value: Buffer | null }[]): [Buffer, Buffer] {
  for (;;) {
    const msg = Buffer.from(`KRXm${randomBytes(8).toString('hex')}`);
    const key = Buffer.from(`KRXk${randomBytes(8).toString('hex')}`);
    const clash = records.some((r) => [r.key, r.value].some((b) => b !== null && (b.includes(msg) || b.includes(key))));
    if (!clash) return [msg, key];
  }
}

export interface KcatPartition {
  partition: number;
  leader: number;
  replicas: number[];
  isrs: number[];
  error?: string;
}

export interface KcatTopic {
  topic: string;
  partitions: KcatPartition[];
  /** e.g. 'Broker: Unknown topic or partition' */
  error?: string;
}

export interface KcatMetadata {
  controllerId: number;
  brokers: { id: number; host: string; port: number }[];
  topics: KcatTopic[];
}

/** kcat -L -J: the cluster's brokers and topics (one topic when given). */
export async function metadata(options: { bootstrap?: string; topic?: string; timeoutMs?: number } = {}): Promise<KcatMetadata> {
  const boot = options.bootstrap ?? defaultBootstrap();
  const args = ['-L', '-J', '-b', boot, '-m', String(Math.ceil((options.timeoutMs ?? 10_000) / 1000))];
  if (options.topic) args.push('-t', options.topic);
  let out = '';
  let stderr = '';
  const r = await runKcat(args, (options.timeoutMs ?? 10_000) + 5_000, (c) => { out += c.toString('utf8'); }, (s) => { stderr += s; });
  if (r.timedOut || r.code !== 0) throw new Error(`kcat -L failed against ${boot}: ${lastLine(stderr) || 'timed out'}`);
  const raw = JSON.parse(out) as {
    controllerid: number;
    brokers: { id: number; name: string }[];
    topics: { topic: string; error?: string; partitions: { partition: number; leader: number; error?: string; replicas: { id: number }[]; isrs: { id: number }[] }[] }[];
  };
  return {
    controllerId: raw.controllerid,
    brokers: raw.brokers.map((b) => {
      const i = b.name.lastIndexOf(':');
      return { id: b.id, host: b.name.slice(0, i), port: Number(b.name.slice(i + 1)) };
    }),
    topics: raw.topics.map((t) => ({
      topic: t.topic,
      ...(t.error ? { error: t.error } : {}),
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        leader: p.leader,
        replicas: p.replicas.map((x) => x.id),
        isrs: p.isrs.map((x) => x.id),
        ...(p.error ? { error: p.error } : {}),
      })).sort((a, b) => a.partition - b.partition),
    })),
  };
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop() ?? '';
}

function runKcat(args: string[], timeoutMs: number, onStdout: (chunk: Buffer) => void, onStderr: (s: string) => void, stdin?: Buffer):
  Promise<{ code: number | null; timedOut: boolean }> {
  return new Promise((ok, fail) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let timedOut = false;
    let failure: unknown;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      if (failure) return;
      try { onStdout(c); } catch (e) { failure = e; child.kill('SIGKILL'); }
    });
    child.stderr.on('data', (c: Buffer) => onStderr(c.toString('utf8')));
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(e.code === 'ENOENT' ? new Error('kcat is not installed (apt-get install -y kcat)') : e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (failure) fail(failure);
      else ok({ code, timedOut });
    });
    child.stdin.on('error', () => { /* kcat exited early; its exit status tells why */ });
    if (stdin) child.stdin.end(stdin);
    else child.stdin.end();
  });
}
