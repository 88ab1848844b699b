// Kafka's own Java producer through its benchmark tool, org.apache.kafka.tools.ProducerPerformance,
// from the jars scripts/kafka keeps in .cache (the broker's own version). The tool sends keyless
// records of a fixed size (its payload: random letters A-Z) and prints its own figures, which are
// read here; it has no key option, no await-each mode and no warm-up phase of its own.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaVersion } from '../../spec/support/kafka-version.js';
import type { DriverConfig, DriverResult } from './harness.js';

const KAFKA_SCRIPT = join(__dirname, '..', '..', 'scripts', 'kafka');
/** Settings the Kafka documentation's throughput advice points to; the others stay at their defaults. */
const THROUGHPUT_PROPS = { 'linger.ms': '10', 'batch.size': '131072', 'max.in.flight.requests.per.connection': '5' };


/** VmHWM (peak resident set) of a live process, in KiB; 0 once it is gone. */
function peakRssKiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as DriverConfig;
  if (config.mode === 'await-each' || config.keyed) {
    throw new Error(`ProducerPerformance cannot run ${config.keyed ? 'keyed records' : 'await-each'}`);
  }
  const props: Record<string, string> = {
    'bootstrap.servers': config.bootstrap,
    acks: config.acks === -1 ? 'all' : '1',
    'compression.type': config.compression,
    ...THROUGHPUT_PROPS,
  };
  const args = ['run-class', 'org.apache.kafka.tools.ProducerPerformance', '--topic', config.topic,
    '--num-records', String(config.records), '--record-size', String(config.size),
    '--throughput', config.mode === 'rate' ? String(config.rate ?? 50_000) : '-1',
    '--producer-props', ...Object.entries(props).map(([k, v]) => `${k}=${v}`)];
  // run-class execs the JVM, so this pid is the JVM's own.
  const child = spawn(KAFKA_SCRIPT, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let peak = 0;
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const poll = setInterval(() => (peak = Math.max(peak, peakRssKiB(child.pid!))), 50);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(poll);
  // "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, ..."
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(out);
  if (code !== 0 || !m) throw new Error(`ProducerPerformance failed (exit ${code}):\n${out.slice(-2000)}`);
  const recordsPerSec = Number(m[2]);
  const result: DriverResult = {
    client: 'java-perf',
    version: kafkaVersion(),
    mode: config.mode,
    records: Number(m[1]),
    failed: config.records - Number(m[1]),
    seconds: Math.round((Number(m[1]) / recordsPerSec) * 1e4) / 1e4,
    recordsPerSec,
    mbPerSec: Math.round(((recordsPerSec * config.size) / 1_048_576) * 1e3) / 1e3,
    latencyMs: config.mode === 'rate' ? { p50: Number(m[6]), p99: Number(m[8]), max: Number(m[5]) } : null,
    ...(config.mode === 'rate' ? { achievedRate: recordsPerSec } : {}),
    peakRssMB: Math.round((peak / 1024) * 10) / 10,
    settings: {
      api: 'org.apache.kafka.tools.ProducerPerformance',
      ...THROUGHPUT_PROPS,
      acks: props.acks,
      'compression.type': config.compression,
      'enable.idempotence': config.acks === -1 ? 'true (default with acks=all)' : 'false (default with acks=1)',
      partitioner: 'built-in (sticky for keyless records)',
      payload: 'random letters A-Z (the tool\'s own)',
      warmup: 'none: the tool times from its first send (JVM start-up excluded, JIT and first metadata fetch included)',
      heap: '-Xmx512m (scripts/kafka run-class)',
    },
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
