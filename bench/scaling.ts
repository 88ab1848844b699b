// npm run bench:scaling — does the cost per record stay flat as N grows? Each case runs N records
// of 100 B through a fresh producer against a real broker, in a process of its own (so one case's
// heap does not colour the next one's RSS), and prints wall time, time per record, peak RSS and
// RSS growth per record for every N. Linear cost shows as a flat µs/record column.
//
// Cases:
//   produce          N produce() calls made at once without awaiting any, on a fresh producer
//                    (they wait first for metadata, then for room in maxQueuedMessages)
//   toKafka-error    range(0, N) through toKafka with overflow 'error' (the default): it must fail
//                    with BackpressureOverflowError after reading at most maxInFlight + maxBuffered + 1
//                    values, in time and memory independent of N
//   toKafka-buffer   range(0, N) through toKafka with overflow 'buffer': every value held, all delivered
//   lazyFrom         lazyFrom(generator of N) through toKafka: read only as the budget allows
//
// Uses KAFKA_BROKERS when set, else starts a one-node broker of its own (and stops it after).
// Knobs (environment): BENCH_SIZES (100000,500000,1000000,2000000,5000000), BENCH_CASES (all four),
// BENCH_MAX_HELD (2000000): produce and toKafka-buffer hold every record in memory by design (about
// 1.3-1.9 KB each, 5M would take 7-9 GB), so sizes above this are left out of those two cases, and
// said so in the output.

import { spawn } from 'node:child_process';
import { lastValueFrom, range, tap } from 'rxjs';
import { BackpressureOverflowError, KafkaClient, type Producer } from '../lib/index.js';
import { lazyFrom, toKafka } from '../operators/index.js';
import { ensureBroker } from '../spec/support/broker.js';

const CASES = ['produce', 'toKafka-error', 'toKafka-buffer', 'lazyFrom'] as const;
type Case = (typeof CASES)[number];
const VALUE_BYTES = 100;
const MB = 1024 * 1024;

interface Result {
  ms: number;
  peakRss: number;
  baselineRss: number;
  /** Source values read (toKafka cases) or produce() calls made. */
  read: number;
  acknowledged: number;
  failed: number;
  outcome: string;
}

function valueFor(n: number): Buffer {
  const value = Buffer.allocUnsafe(VALUE_BYTES);
  value.fill(0x61);
  value.writeUInt32BE(n >>> 0, 0);
  return value;
}

/** One case at one N, in this process; prints its Result as JSON on the last line. */
async function child(kind: Case, count: number, bootstrap: string, topic: string): Promise<void> {
  const client = new KafkaClient({ brokers: bootstrap, clientId: 'kafka-rx-bench-scaling' });
  const producer: Producer = client.producer(topic, { lingerMs: 10 });
  let acknowledged = 0;
  let failed = 0;
  let allReported: () => void = () => {};
  const reported = new Promise<void>((resolve) => (allReported = resolve));
  const expected = count;
  producer.deliveryReports$.subscribe((report) => {
    if (report.error) failed++;
    else acknowledged++;
    if (acknowledged + failed === expected) allReported();
  });
  global.gc?.();
  const baselineRss = process.memoryUsage().rss;
  let peakRss = baselineRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const started = performance.now();
  let read = 0;
  let outcome = 'completed';
  if (kind === 'produce') {
    let refused = 0;
    const onRefused = () => {
      refused++;
      if (acknowledged + failed + refused === expected) allReported();
    };
    for (let i = 0; i < count; i++) {
      read++;
      producer.produce(valueFor(i), null).then(undefined, onRefused);
    }
    await reported;
    if (refused > 0) outcome = `${refused} produce() calls rejected`;
  } else {
    const toRecord = (n: number) => ({ value: valueFor(n) });
    // Counted inside the generator: a pipe() around lazyFrom() would make it an ordinary push source.
    const source = kind === 'lazyFrom'
      ? lazyFrom((function* () { for (let i = 0; i < count; i++, read++) yield i; })())
      : range(0, count).pipe(tap(() => read++));
    // Records handed to the producer, and those it refused outright (no report on deliveryReports$).
    let handed = 0;
    let refused = 0;
    const counting = {
      topic: producer.topic,
      send: (...args: Parameters<Producer['send']>) => {
        handed++;
        return producer.send(...args).catch((error: unknown) => {
          refused++;
          throw error;
        });
      },
    };
    const reports = source.pipe(toKafka(counting, { toRecord, overflow: kind === 'toKafka-buffer' ? 'buffer' : 'error' }));
    try {
      await lastValueFrom(reports);
    } catch (error) {
      outcome = error instanceof BackpressureOverflowError ? 'BackpressureOverflowError' : `error: ${String(error)}`;
    }
    // After an overflow, what was handed over before it still gets its reports.
    await producer.flush();
    const deadline = Date.now() + 120_000;
    while (acknowledged + failed + refused < handed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (refused > 0) outcome += `, ${refused} refused`;
    if (acknowledged + failed + refused < handed) outcome += `, ${handed - acknowledged - failed - refused} handed over without an outcome`;
  }
  const ms = performance.now() - started;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  await producer.stop();
  await client.close();
  const result: Result = { ms, peakRss, baselineRss, read, acknowledged, failed, outcome };
  console.log(JSON.stringify(result));
}

function runChild(kind: Case, count: number, bootstrap: string, topic: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, '--expose-gc', '--max-old-space-size=12288', __filename, '--child', kind, String(count), bootstrap, topic], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${kind} N=${count} exited with ${code}: ${out.slice(-500)}`));
      resolve(JSON.parse(last) as Result);
    });
  });
}

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? '100000,500000,1000000,2000000,5000000').split(',').map(Number);
  const cases = (process.env.BENCH_CASES?.split(',') ?? CASES) as Case[];
  for (const kind of cases) if (!CASES.includes(kind)) throw new RangeError(`BENCH_CASES: unknown case ${kind} (known: ${CASES.join(', ')})`);
  const broker = await ensureBroker();
  // A broker this run started is stopped on Ctrl-C or a timeout's SIGTERM too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void broker.stop().finally(() => process.exit(130)));
  }
  const admin = new KafkaClient({ brokers: broker.bootstrap, clientId: 'kafka-rx-bench-scaling-admin' });
  try {
    console.log(`bench:scaling  ${VALUE_BYTES} B records, default producer options but lingerMs 10, default toKafka budget; sizes ${sizes.map((n) => n.toLocaleString('en')).join(', ')}`);
    console.log('case             N            time      µs/record  peak RSS   RSS growth  bytes/record  read        acknowledged  failed  outcome');
    const maxHeld = Number(process.env.BENCH_MAX_HELD ?? 2_000_000);
    for (const kind of cases) {
      for (const count of sizes) {
        if ((kind === 'produce' || kind === 'toKafka-buffer') && count > maxHeld) {
          console.log(`${kind.padEnd(16)} ${count.toLocaleString('en').padStart(9)}  left out: holds every record in memory, above BENCH_MAX_HELD (${maxHeld.toLocaleString('en')})`);
          continue;
        }
        const topic = `bench-scaling-${kind}-${count}-${Date.now().toString(36)}`;
        await admin.createTopics([{ name: topic, numPartitions: 3, replicationFactor: 1 }]);
        const r = await runChild(kind, count, broker.bootstrap, topic);
        const growth = r.peakRss - r.baselineRss;
        console.log(
          `${kind.padEnd(16)} ${count.toLocaleString('en').padStart(9)}  ${(r.ms / 1000).toFixed(2).padStart(8)} s  ${((r.ms * 1000) / count).toFixed(3).padStart(9)}  ` +
          `${(r.peakRss / MB).toFixed(0).padStart(6)} MB  ${(growth / MB).toFixed(0).padStart(7)} MB  ${(growth / count).toFixed(0).padStart(12)}  ` +
          `${r.read.toLocaleString('en').padStart(9)}  ${r.acknowledged.toLocaleString('en').padStart(12)}  ${String(r.failed).padStart(6)}  ${r.outcome}`,
        );
        await admin.deleteTopics([topic]).catch(() => undefined);
      }
    }
  } finally {
    await admin.close();
    await broker.stop();
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as Case, Number(process.argv[4]), process.argv[5], process.argv[6]).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
