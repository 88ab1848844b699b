// npm run bench:tracing: what the trace-context hook costs per record, as CPU time of the producing
// process (user + system, process.cpuUsage()) per record produced to the real broker and
// acknowledged, and records/s. CPU time rather than throughput alone because the figure to find is
// a few nanoseconds in about a microsecond per record, which the wall clock of a shared machine
// hides. Compare builds and setups by running this once per variant, alternating, e.g.:
//
//   BENCH_BUILD=/tmp/dist-without-hook/cjs/lib/index.js npx tsx bench/tracing-overhead.ts
//   npx tsx bench/tracing-overhead.ts                     (dist/, @opentelemetry/api installed, no SDK)
//   BENCH_OTEL_SDK=1 npx tsx bench/tracing-overhead.ts    (an SDK registered: spans recorded and exported)
//
// To measure "not installed", move node_modules/@opentelemetry aside for that run.
// Environment: KAFKA_BROKERS (required), BENCH_BUILD (default dist/cjs/lib/index.js), BENCH_RECORDS
// (default 500000), BENCH_WARMUP (default 100000). Prints one JSON line.
import { join } from 'node:path';
import type * as KafkaRx from '../lib/index.js';

async function registerSdk(): Promise<void> {
  const { trace, context, propagation } = await import('@opentelemetry/api');
  const { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = await import('@opentelemetry/sdk-trace-base');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
  const exporter = new InMemorySpanExporter();
  // Spans are dropped as they are exported, so memory does not grow with the run.
  exporter.export = (_spans, done) => done({ code: 0 });
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

async function main(): Promise<void> {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: start a broker (scripts/kafka start) and set KAFKA_BROKERS=host:port');
  const build = process.env.BENCH_BUILD ?? join(__dirname, '..', 'dist', 'cjs', 'lib', 'index.js');
  const records = Number(process.env.BENCH_RECORDS ?? 500_000);
  const warmup = Number(process.env.BENCH_WARMUP ?? 100_000);
  let otel = 'not installed';
  try {
    require.resolve('@opentelemetry/api', { paths: [build] });
    otel = process.env.BENCH_OTEL_SDK ? 'installed, SDK registered' : 'installed, no SDK';
  } catch {
    // measured without the package
  }
  if (process.env.BENCH_OTEL_SDK) await registerSdk();
  const { KafkaClient } = require(build) as typeof KafkaRx;
  const client = new KafkaClient({ brokers, clientId: 'bench-tracing' });
  const topic = `bench-tracing-${Date.now().toString(36)}-${process.pid}`;
  await client.createTopics([{ name: topic, numPartitions: 6, replicationFactor: 1 }]);
  const producer = client.producer(topic, { lingerMs: 10, minQueuedMessages: 70_000, maxQueuedMessages: 20_000 });
  let failed = 0;
  producer.deliveryReports$.subscribe((report) => {
    if (report.error !== undefined) failed++;
  });
  const value = Buffer.alloc(100, 'x');
  const run = async (count: number) => {
    let last: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < count; i++) {
      last = producer.produce(value);
      // Yield now and then so acknowledgements are read while the loop runs.
      if ((i & 4095) === 4095) await last;
    }
    await last;
    await producer.flush();
  };
  await run(warmup);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await run(records);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await producer.stop();
  await client.close();
  console.log(JSON.stringify({
    build, otel, records, failed,
    cpuMicrosPerRecord: Number(((cpu.user + cpu.system) / records).toFixed(3)),
    recordsPerSec: Math.round(records / seconds),
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
