// npm run bench:memory — is the producer's memory bounded when the broker is slower than the
// source? 5,000,000 messages go through a producer with maxQueuedMessages 100,000 and
// blockOnQueueFull, to a real broker behind the fault proxy, which adds latency and caps the
// bandwidth; RSS and heap are sampled throughout, and the peaks printed.
//
// Uses KAFKA_BROKERS when set, else starts a one-node broker of its own (and stops it after).
// Knobs (environment): BENCH_MESSAGES (5000000), BENCH_VALUE_BYTES (100), BENCH_DELAY_MS (5),
// BENCH_BYTES_PER_SECOND (8000000, per connection and direction), BENCH_MAX_QUEUED (100000).
import { KafkaClient } from '../lib/index.js';
import { ensureBroker } from '../spec/support/broker.js';
import { startFaultProxy } from '../spec/support/fault-proxy.js';

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

const MESSAGES = numberFromEnv('BENCH_MESSAGES', 5_000_000);
const VALUE_BYTES = numberFromEnv('BENCH_VALUE_BYTES', 100);
const DELAY_MS = numberFromEnv('BENCH_DELAY_MS', 5);
const BYTES_PER_SECOND = numberFromEnv('BENCH_BYTES_PER_SECOND', 8_000_000);
const MAX_QUEUED = numberFromEnv('BENCH_MAX_QUEUED', 100_000);
const MB = 1024 * 1024;

interface Peaks { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number; pending: number; queued: number }

async function main(): Promise<void> {
  const broker = await ensureBroker();
  const admin = new KafkaClient({ brokers: broker.bootstrap, clientId: 'kafka-rx-bench-memory-admin' });
  const proxy = await startFaultProxy({ target: broker.bootstrap.split(',')[0] });
  const client = new KafkaClient({ brokers: proxy.address, clientId: 'kafka-rx-bench-memory' });
  try {
    const topic = `bench-memory-${Date.now().toString(36)}`;
    await admin.createTopics([{ name: topic, numPartitions: 3, replicationFactor: 1 }]);
    const producer = client.producer(topic, { maxQueuedMessages: MAX_QUEUED, blockOnQueueFull: true, requiredAcks: 1, lingerMs: 50 });
    let acknowledged = 0;
    let failed = 0;
    const failures = new Map<string, number>();
    producer.deliveryReports$.subscribe((report) => {
      if (report.error) {
        failed++;
        failures.set(report.error.constructor.name, (failures.get(report.error.constructor.name) ?? 0) + 1);
      } else acknowledged++;
    });
    // The first message opens the connection and fetches metadata before the proxy slows things.
    await producer.produce(Buffer.alloc(VALUE_BYTES), null);
    await producer.flush();
    proxy.delay(DELAY_MS, { bytesPerSecond: BYTES_PER_SECOND });

    global.gc?.();
    const baseline = process.memoryUsage();
    const peaks: Peaks = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0, pending: 0, queued: 0 };
    const sample = () => {
      const m = process.memoryUsage();
      peaks.rss = Math.max(peaks.rss, m.rss);
      peaks.heapUsed = Math.max(peaks.heapUsed, m.heapUsed);
      peaks.heapTotal = Math.max(peaks.heapTotal, m.heapTotal);
      peaks.external = Math.max(peaks.external, m.external);
      peaks.arrayBuffers = Math.max(peaks.arrayBuffers, m.arrayBuffers);
      const s = producer.statsSnapshot();
      peaks.pending = Math.max(peaks.pending, s.pending);
      peaks.queued = Math.max(peaks.queued, s.queued);
      return m;
    };
    const sampler = setInterval(sample, 100);
    const progressEvery = Math.max(1, Math.floor(MESSAGES / 10));
    console.log(`bench:memory  ${MESSAGES.toLocaleString('en')} messages of ${VALUE_BYTES} B, maxQueuedMessages ${MAX_QUEUED.toLocaleString('en')}, blockOnQueueFull, ` +
      `broker behind the fault proxy (+${DELAY_MS} ms per frame, ${(BYTES_PER_SECOND / 1e6).toFixed(1)} MB/s per direction)`);
    console.log(`baseline      rss ${(baseline.rss / MB).toFixed(1)} MB, heapUsed ${(baseline.heapUsed / MB).toFixed(1)} MB`);
    const started = Date.now();
    for (let i = 0; i < MESSAGES; i++) {
      const value = Buffer.allocUnsafe(VALUE_BYTES);
      value.writeUInt32BE(i, 0);
      await producer.produce(value, null);
      if ((i + 1) % progressEvery === 0) {
        const m = sample();
        const s = producer.statsSnapshot();
        console.log(`  ${String(Math.round(((i + 1) / MESSAGES) * 100)).padStart(3)}%  ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ` +
          `rss ${(m.rss / MB).toFixed(1).padStart(6)} MB  heapUsed ${(m.heapUsed / MB).toFixed(1).padStart(6)} MB  ` +
          `pending ${String(s.pending).padStart(7)}  queued ${String(s.queued).padStart(7)}  acknowledged ${acknowledged}`);
      }
    }
    await producer.flush();
    const durationMs = Date.now() - started;
    sample();
    clearInterval(sampler);
    await producer.stop();
    const end = process.memoryUsage();
    const produced = MESSAGES + 1;
    console.log('');
    console.log(`messages      produced ${produced.toLocaleString('en')}, acknowledged ${acknowledged.toLocaleString('en')}, failed ${failed}` +
      (failures.size ? ` (${[...failures].map(([k, v]) => `${k} ${v}`).join(', ')})` : ''));
    console.log(`duration      ${(durationMs / 1000).toFixed(1)} s, ${Math.round(MESSAGES / (durationMs / 1000)).toLocaleString('en')} msg/s`);
    console.log(`peak RSS      ${(peaks.rss / MB).toFixed(1)} MB (baseline ${(baseline.rss / MB).toFixed(1)} MB, growth ${((peaks.rss - baseline.rss) / MB).toFixed(1)} MB; end ${(end.rss / MB).toFixed(1)} MB)`);
    console.log(`peak heap     used ${(peaks.heapUsed / MB).toFixed(1)} MB, total ${(peaks.heapTotal / MB).toFixed(1)} MB; external ${(peaks.external / MB).toFixed(1)} MB, arrayBuffers ${(peaks.arrayBuffers / MB).toFixed(1)} MB`);
    console.log(`peak queue    pending ${peaks.pending.toLocaleString('en')} messages, queued ${peaks.queued.toLocaleString('en')} (bound: maxQueuedMessages ${MAX_QUEUED.toLocaleString('en')} per broker)`);
    if (acknowledged + failed !== produced) {
      process.exitCode = 1;
      console.error(`error: ${produced - acknowledged - failed} messages without an outcome`);
    }
  } finally {
    await client.close();
    await admin.close();
    await proxy.close();
    await broker.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
