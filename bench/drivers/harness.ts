// The part every Node.js driver shares: the workload (payloads, keys, warm-up, pacing), the clock
// and the figures. A driver only says how its client sends one record and how it learns of the
// acknowledgement; everything that is measured is measured here, the same way for every client.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface DriverConfig {
  bootstrap: string;
  topic: string;
  /** pipelined: as many outstanding as the client allows; await-each: one at a time; rate: paced at `rate` records/s. */
  mode: 'pipelined' | 'await-each' | 'rate';
  records: number;
  size: number;
  keyed: boolean;
  acks: 1 | -1;
  compression: 'none' | 'lz4';
  warmup: number;
  rate?: number;
  /** Set for the TLS workload: `bootstrap` is then the SASL_SSL listener. */
  security?: BenchSecurity;
  /**
   * The multi-topic workload: record i goes to topics[i % topics.length] (topic is topics[0]),
   * all through one producer. Absent for the single-topic workloads.
   */
  topics?: string[];
}

/** The topic of record `id`: round-robin over the multi-topic workload's topics, else the one topic. */
export function topicOf(config: DriverConfig, id: number): string {
  const topics = config.topics;
  return topics === undefined ? config.topic : topics[id % topics.length];
}

/** SASL_SSL with SCRAM-SHA-256: the broker's certificate is checked against caFile. */
export interface BenchSecurity {
  mechanism: 'SCRAM-SHA-256';
  username: string;
  password: string;
  caFile: string;
}

export interface DriverResult {
  client: string;
  version: string;
  mode: DriverConfig['mode'];
  records: number;
  failed: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  latencyMs: { p50: number; p99: number; max: number } | null;
  /** rate mode: what was really offered (a client that cannot keep up offers less). */
  achievedRate?: number;
  peakRssMB: number;
  settings: Record<string, unknown>;
}

/** How one client sends. `send` must not block; the client calls `acked(id, failed)` once per record. */
export interface ClientAdapter {
  readonly client: string;
  readonly version: string;
  /** The settings used, written into the result (linger, batch size, in-flight bound, ...). */
  readonly settings: Record<string, unknown>;
  /** Most records outstanding in pipelined mode (the client's own bound), default PIPELINE_WINDOW. */
  readonly window?: number;
  /** Pipelined/rate sending. `id` is the record's index; `acked` must be called exactly once for it. */
  send(value: Buffer, key: Buffer | null, id: number): void;
  /** Batch-API clients hand over what they hold; others may ignore it. */
  flush(): void;
  /** One record, resolved on its acknowledgement (await-each). */
  sendAndWait(value: Buffer, key: Buffer | null): Promise<void>;
  close(): Promise<void>;
}

export type AckSink = (id: number, failed: boolean) => void;

/** Payloads are slices of one random block larger than any request, so no batch sees a repeat. */
const POOL_BYTES = 8 * 1024 * 1024;
const KEY_COUNT = 10_000;

export class Workload {
  readonly values: Buffer[];
  readonly keys: Buffer[] | null;

  constructor(readonly config: DriverConfig) {
    const block = randomBytes(POOL_BYTES + config.size);
    const count = Math.max(1, Math.floor(POOL_BYTES / config.size));
    this.values = Array.from({ length: count }, (_, i) => block.subarray(i * config.size, (i + 1) * config.size));
    this.keys = config.keyed ? Array.from({ length: KEY_COUNT }, (_, i) => Buffer.from(`key-${i}`)) : null;
  }

  value(i: number): Buffer {
    return this.values[i % this.values.length];
  }

  key(i: number): Buffer | null {
    return this.keys === null ? null : this.keys[i % KEY_COUNT];
  }
}

/** Outstanding records allowed by the harness in pipelined mode; each client also has its own bound. */
export const PIPELINE_WINDOW = 200_000;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Tracks acknowledgements of one pass and wakes the sender when room or completion arrives. */
class AckCounter {
  acked = 0;
  failed = 0;
  private waiter: (() => void) | null = null;
  private waitUntil = 0;
  readonly ackTimes: Float64Array | null;

  constructor(records: number, keepTimes: boolean) {
    this.ackTimes = keepTimes ? new Float64Array(records) : null;
  }

  readonly sink: AckSink = (id, failed) => {
    if (this.ackTimes !== null && id >= 0) this.ackTimes[id] = performance.now();
    this.acked++;
    if (failed) this.failed++;
    if (this.waiter !== null && this.acked >= this.waitUntil) {
      const wake = this.waiter;
      this.waiter = null;
      wake();
    }
  };

  until(count: number): Promise<void> {
    if (this.acked >= count) return Promise.resolve();
    this.waitUntil = count;
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

let currentSink: AckSink = () => {
  throw new Error('an acknowledgement arrived outside a measured pass');
};

/** What adapters call for each acknowledged (or failed) record. */
export const acked: AckSink = (id, failed) => currentSink(id, failed);

/**
 * For clients whose send() takes an array of records: gathers records into arrays of `size` (or
 * fewer on flush) and acknowledges each array's record ids by the outcome of its send.
 */
export function chunkedSender<M>(size: number, sendMany: (messages: M[]) => Promise<unknown>): { add(message: M, id: number): void; flush(): void } {
  let chunk: M[] = [];
  let firstId = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    const messages = chunk;
    const start = firstId;
    chunk = [];
    sendMany(messages).then(
      () => { for (let i = 0; i < messages.length; i++) acked(start + i, false); },
      () => { for (let i = 0; i < messages.length; i++) acked(start + i, true); },
    );
  };
  return {
    add(message, id) {
      if (chunk.length === 0) firstId = id;
      chunk.push(message);
      if (chunk.length >= size) flush();
    },
    flush,
  };
}

async function pipelined(adapter: ClientAdapter, workload: Workload, records: number): Promise<{ seconds: number; failed: number }> {
  const counter = new AckCounter(records, false);
  currentSink = counter.sink;
  const started = performance.now();
  const window = Number(process.env.BENCH_WINDOW ?? 0) || (adapter.window ?? PIPELINE_WINDOW);
  let sent = 0;
  while (sent < records) {
    const limit = Math.min(records, counter.acked + window);
    while (sent < limit) {
      adapter.send(workload.value(sent), workload.key(sent), sent);
      sent++;
    }
    adapter.flush();
    // Refill once a quarter of the window is acknowledged, so the client never runs dry.
    if (sent < records) await counter.until(sent - window + Math.max(1, Math.floor(window / 4)));
  }
  await counter.until(records);
  return { seconds: (performance.now() - started) / 1000, failed: counter.failed };
}

async function paced(adapter: ClientAdapter, workload: Workload, records: number, rate: number) {
  const counter = new AckCounter(records, true);
  currentSink = counter.sink;
  const sentAt = new Float64Array(records);
  const started = performance.now();
  let sent = 0;
  while (sent < records) {
    const due = Math.min(records, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due) {
      sentAt[sent] = performance.now();
      adapter.send(workload.value(sent), workload.key(sent), sent);
      sent++;
    }
    adapter.flush();
    // A 1 ms tick keeps the offered rate even; Node's timers cannot pace finer.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const offeredSeconds = (performance.now() - started) / 1000;
  await counter.until(records);
  const seconds = (performance.now() - started) / 1000;
  const latencies = new Float64Array(records);
  for (let i = 0; i < records; i++) latencies[i] = counter.ackTimes![i] - sentAt[i];
  dumpLatencies(latencies);
  latencies.sort();
  return { seconds, failed: counter.failed, latencies, achievedRate: records / offeredSeconds };
}

async function awaitEach(adapter: ClientAdapter, workload: Workload, records: number, measured = false) {
  const latencies = new Float64Array(records);
  let failed = 0;
  const started = performance.now();
  for (let i = 0; i < records; i++) {
    const t0 = performance.now();
    try {
      await adapter.sendAndWait(workload.value(i), workload.key(i));
    } catch {
      failed++;
    }
    latencies[i] = performance.now() - t0;
  }
  const seconds = (performance.now() - started) / 1000;
  if (measured) dumpLatencies(latencies);
  latencies.sort();
  return { seconds, failed, latencies };
}

/**
 * BENCH_LATENCIES=FILE: the measured pass's latencies in send order (ms, one per line), to see
 * whether the slow records cluster in time (a timer, a GC, the broker) or are spread out.
 */
function dumpLatencies(latencies: Float64Array): void {
  const dump = process.env.BENCH_LATENCIES;
  if (dump !== undefined) writeFileSync(dump, Array.from(latencies, (l) => l.toFixed(4)).join('\n') + '\n');
}

/** Runs the configured pass after the same warm-up every client gets, and prints one JSON line. */
export async function runDriver(makeAdapter: (config: DriverConfig) => Promise<ClientAdapter>): Promise<void> {
  // A rejected send nobody awaited is a failed run, never a silently smaller figure.
  process.on('unhandledRejection', (error) => {
    console.error('bench driver: unhandled rejection:', error);
    process.exit(1);
  });
  const config = JSON.parse(process.argv[2] ?? '') as DriverConfig;
  const workload = new Workload(config);
  const adapter = await makeAdapter(config);
  try {
    // Warm-up: connections, metadata, JIT. Await-each warms up one at a time, as it then measures.
    if (config.warmup > 0) {
      if (config.mode === 'await-each') await awaitEach(adapter, workload, config.warmup);
      else await pipelined(adapter, workload, config.warmup);
    }
    const profiler = await startProfiling();
    let seconds: number;
    let failed: number;
    let latencies: Float64Array | null = null;
    let achievedRate: number | undefined;
    if (config.mode === 'pipelined') {
      ({ seconds, failed } = await pipelined(adapter, workload, config.records));
    } else if (config.mode === 'rate') {
      ({ seconds, failed, latencies, achievedRate } = await paced(adapter, workload, config.records, config.rate ?? 50_000));
    } else {
      ({ seconds, failed, latencies } = await awaitEach(adapter, workload, config.records, true));
    }
    await profiler?.stop();
    const result: DriverResult = {
      client: adapter.client,
      version: adapter.version,
      mode: config.mode,
      records: config.records,
      failed,
      seconds: round(seconds, 4),
      recordsPerSec: round(config.records / seconds, 1),
      mbPerSec: round((config.records * config.size) / seconds / 1_048_576, 3),
      latencyMs: latencies === null ? null : { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies[latencies.length - 1]) },
      ...(achievedRate !== undefined ? { achievedRate: round(achievedRate, 1) } : {}),
      peakRssMB: round(process.resourceUsage().maxRSS / 1024, 1),
      settings: adapter.settings,
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } finally {
    await adapter.close();
  }
  // Some clients keep timers or sockets after close(); the result is out, so leave now.
  process.exit(0);
}

/**
 * BENCH_CPU_PROFILE=FILE: a V8 CPU profile of the measured pass only (warm-up and start-up left
 * out), and the pass's garbage collections by kind on stderr; with BENCH_HEAP_PROFILE=FILE also a
 * sampling heap profile (where the pass allocates). For bench/PROFILE.md.
 */
async function startProfiling(): Promise<{ stop(): Promise<void> } | null> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  const gc = new Map<string, { count: number; ms: number }>();
  const kinds: Record<number, string> = { 1: 'minor (scavenge)', 2: 'major (mark-compact)', 4: 'incremental marking', 8: 'weak callbacks' };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      const sum = gc.get(kind) ?? { count: 0, ms: 0 };
      sum.count++;
      sum.ms += entry.duration;
      gc.set(kind, sum);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const heapFile = process.env.BENCH_HEAP_PROFILE;
  // BENCH_HEAP_SURVIVORS=1 leaves out what minor GCs collected: what is left is what outlived a
  // scavenge (promoted, the cost of a slow scavenge) or is still live.
  const survivorsOnly = process.env.BENCH_HEAP_SURVIVORS === '1';
  if (heapFile) await session.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !survivorsOnly } as object);
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      if (heapFile) writeFileSync(heapFile, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
      observer.disconnect();
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      const lines = [...gc].map(([kind, { count, ms }]) => `${kind}: ${count} collections, ${ms.toFixed(0)} ms`);
      console.error(`bench profile: ${file}\nbench GC during the pass: ${lines.join('; ') || 'none'}`);
    },
  };
}

/** bench/node_modules, where the peers are installed (npm ci --prefix bench). */
export const PEERS_DIR = join(__dirname, '..', 'node_modules');

/** The installed version of a package under `modulesDir` (read from its package.json, which `exports` may hide). */
export function packageVersion(name: string, modulesDir = PEERS_DIR): string {
  return (JSON.parse(readFileSync(join(modulesDir, name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Loads a peer from `modulesDir` by path, so the root project never resolves (or type-checks) it. */
export async function loadPeer<T>(name: string, modulesDir = PEERS_DIR): Promise<T> {
  const require = createRequire(join(modulesDir, 'noop.js'));
  return (await import(pathToFileURL(require.resolve(name)).href)) as T;
}
