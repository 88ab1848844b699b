// npm run bench [-- options]: kafka-rx and its peers side by side against the same local broker.
// Each pass is one client in its own process on a fresh 6-partition topic; clients alternate
// within each round, ratios to kafka-rx are taken within a round, and medians are reported.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { KafkaClient } from '../lib/index.js';
import { ensureBroker, startCluster, type SecuredEndpoints } from '../spec/support/broker.js';
import { kafkaVersion } from '../spec/support/kafka-version.js';
import { uniqueTopic } from '../spec/support/topics.js';
import type { BenchSecurity, DriverConfig, DriverResult } from './drivers/harness.js';
import { throughputSvg } from './runner/chart.js';
import { CLIENT_ALIASES, CLIENTS, ROOT, confluentBuilt, type ClientSpec } from './runner/clients.js';
import { markdownTable, summarise, textTable, tlsRatios, type Pass } from './runner/summary.js';
import { BenchUsageError } from './runner/usage-error.js';
import { lineUp } from './runner/line-up.js';
import { parseWorkloads, type Workload } from './runner/workloads.js';

const USAGE = `npm run bench -- [options]
  --quick                 small N, 4 workloads, 1 round (under two minutes; skips an unbuilt confluent)
  --clients a,b,...       kafka-rx, kafkajs, platformatic, confluent, pykafka, java (KafkaProducer),
                          java-perf (Kafka's ProducerPerformance tool) (default: all)
  --workloads SPEC        default | quick | all | comma list of 100, 100-keyed, 100-all, 100-lz4, 1k,
                          1k-keyed-all-lz4 (size, then optional -keyed -all -lz4), 100-tls,
                          100-topics (100 B over 20 topics, one producer), latency, await-each
  --records N             records per pipelined pass (default 1000000; --quick 20000)
  --rounds R              rounds of alternation (default 3; --quick 1)
  --seed S                seed of the line-up shuffle (default: drawn at start; the report records it)
  --warmup W              warm-up records before each measured pass (default min(N, 50000))
  --rate R                offered rate of the latency workload, records/s (default 50000)
  --latency-seconds S     length of the paced latency pass (default 5; --quick 1)
  --await-records M       records of the await-each pass (default 10000; --quick 200): its p99 is then
                          the 100th slowest record, not the 20th
  --await-warmup W        records sent one at a time before the await-each pass (default min(W, 5000);
                          --quick 200): until the JIT (client and broker) has settled, await-each
                          measures warm-up, not per-record latency
  --out DIR               where results go (default bench/results)
Set KAFKA_BROKERS=host:port to use a running broker instead of starting one.`;

interface Options {
  quick: boolean;
  clients: string[];
  workloads: Workload[];
  records: number;
  rounds: number;
  seed: number;
  warmup: number;
  rate: number;
  latencySeconds: number;
  awaitRecords: number;
  awaitWarmup: number;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const flags = new Map<string, string>();
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg === '--quick') { quick = true; continue; }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new BenchUsageError(`unexpected argument "${arg}"\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new BenchUsageError(`--${m[1]} needs a value\n${USAGE}`);
    flags.set(m[1], value);
  }
  const known = new Set(['clients', 'workloads', 'records', 'rounds', 'seed', 'warmup', 'rate', 'latency-seconds', 'await-records', 'await-warmup', 'out']);
  for (const k of flags.keys()) if (!known.has(k)) throw new BenchUsageError(`unknown option --${k}\n${USAGE}`);
  const int = (name: string, fallback: number, min = 1) => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new BenchUsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
    return n;
  };
  const records = int('records', quick ? 20_000 : 1_000_000);
  const warmup = int('warmup', Math.min(records, quick ? 5_000 : 50_000), 0);
  const rate = int('rate', 50_000);
  let clients = CLIENTS.map((c) => c.name);
  if (flags.has('clients')) {
    clients = flags.get('clients')!.split(',').map((c) => {
      const name = CLIENT_ALIASES[c.trim()];
      if (!name) throw new BenchUsageError(`unknown client "${c}" (known: ${Object.keys(CLIENT_ALIASES).join(', ')})`);
      return name;
    });
  } else if (quick && !confluentBuilt()) {
    clients = clients.filter((c) => c !== '@confluentinc/kafka-javascript');
  }
  return {
    quick,
    clients: [...new Set(clients)],
    workloads: parseWorkloads(flags.get('workloads') ?? (quick ? 'quick' : 'default'), rate),
    records,
    rounds: int('rounds', quick ? 1 : 3),
    seed: int('seed', Math.floor(Math.random() * 2 ** 31), 0),
    warmup,
    rate,
    latencySeconds: int('latency-seconds', quick ? 1 : 5),
    awaitRecords: int('await-records', quick ? 200 : 10_000),
    awaitWarmup: int('await-warmup', Math.min(warmup, quick ? 200 : AWAIT_EACH_WARMUP), 0),
    out: flags.get('out') ?? join(ROOT, 'bench', 'results'),
  };
}

/**
 * Records sent one at a time before an await-each pass, by default. After 200 (the figure used
 * until 2026-11-25) every Node.js client still ran at half its later rate, p99 near 3 ms from JIT
 * compilation on the cores the broker shares; after 3,000, p99 was 0.3 ms.
 */
const AWAIT_EACH_WARMUP = 5_000;

function warmupFor(workload: Workload, options: Options): number {
  return workload.mode === 'await-each' ? options.awaitWarmup : options.warmup;
}

function recordsFor(workload: Workload, options: Options): number {
  if (workload.mode === 'rate') return workload.rate! * options.latencySeconds;
  if (workload.mode === 'await-each') return options.awaitRecords;
  return options.records;
}

/** Runs one driver process; its last stdout line is its JSON result. */
function runPass(spec: ClientSpec, config: DriverConfig): Promise<{ result?: DriverResult; error?: string }> {
  const { file, args } = spec.command();
  const timeoutMs = 60_000 + (config.records + config.warmup) / 2;
  return new Promise((resolve) => {
    const child = spawn(file, [...args, JSON.stringify(config)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        const result = JSON.parse(last) as DriverResult;
        if (code !== 0) throw new Error(`exit ${code}`);
        if (result.failed > 0) return resolve({ error: `${result.failed} of ${result.records} records failed` });
        if (!(result.recordsPerSec > 0)) return resolve({ error: 'no throughput figure' });
        resolve({ result });
      } catch {
        const why = signal === 'SIGKILL' ? `killed after ${Math.round(timeoutMs / 1000)} s` : `exit ${code ?? signal}`;
        resolve({ error: `${why}: ${(stderr.trim().split('\n').slice(-3).join(' | ') || last).slice(0, 500)}` });
      }
    });
  });
}

/** Records the topic holds (sum of its partitions' end offsets), read with kcat; null without kcat. */
function storedRecords(bootstrap: string, topic: string): number | null {
  const args = ['-b', bootstrap, '-Q', ...Array.from({ length: 6 }, (_, p) => ['-t', `${topic}:${p}:-1`]).flat()];
  const r = spawnSync('kcat', args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return null;
  const offsets = [...r.stdout.matchAll(/\[(\d+)\] offset (\d+)/g)];
  return offsets.length === 6 ? offsets.reduce((sum, m) => sum + Number(m[2]), 0) : null;
}

/** What a pass must leave in its topic: the warm-up (if the driver has one) and the measured records. */
function expectedStored(client: string, config: DriverConfig): number {
  return (client === 'java-perf' ? 0 : config.warmup) + config.records;
}

async function freshTopic(admin: KafkaClient, prefix: string): Promise<string> {
  const name = uniqueTopic(prefix);
  await admin.createTopics([{ name, numPartitions: 6, replicationFactor: 1 }]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    await admin.cluster.refreshMetadata([name]);
    const ids = admin.cluster.knownPartitionIdsOf(name) ?? [];
    if (ids.length === 6 && ids.every((p) => admin.cluster.leaderOf(name, p) >= 0)) return name;
    if (Date.now() > deadline) throw new Error(`topic ${name} has no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The commit measured, and whether lib/ or operators/ differed from it when the run started. */
function sourceState(): { commit: string; uncommittedLibChanges: boolean } | null {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'lib', 'operators'], { cwd: ROOT, encoding: 'utf8' });
  return { commit: head.stdout.trim(), uncommittedLibChanges: dirty.stdout.trim() !== '' };
}


function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = new Date();
  const log = (line: string) => console.log(line);
  log(`bench: ${options.clients.join(', ')}; ${options.workloads.length} workloads; ${options.records.toLocaleString('en-US')} records per pipelined pass; ${options.rounds} round(s); line-up seed ${options.seed}`);

  const source = sourceState();
  const excluded: Record<string, string> = {};
  const specs: ClientSpec[] = [];
  for (const name of options.clients) {
    const spec = CLIENTS.find((c) => c.name === name)!;
    const why = spec.install(log);
    if (why === null) specs.push(spec);
    else {
      excluded[name] = why;
      log(`bench: ${name} excluded: ${why}`);
    }
  }
  if (!specs.some((s) => s.name === 'kafka-rx')) log('bench: kafka-rx is not among the clients: no ratios');

  const brokerGiven = Boolean(process.env.KAFKA_BROKERS?.trim());
  // The TLS workload needs the secured listeners and users of a broker started here; then every
  // workload runs on that broker (its PLAINTEXT listener for the others), so the TLS/plaintext
  // ratios compare like with like.
  const wantsTls = options.workloads.some((w) => w.security !== undefined);
  let secured: SecuredEndpoints | undefined;
  const broker = wantsTls && !brokerGiven
    ? await startCluster({ nodes: 1, secure: true }).then((cluster) => {
      secured = cluster.security;
      return { bootstrap: cluster.bootstrap, stop: () => cluster.stop() };
    })
    : await ensureBroker();
  const tlsSecurity: BenchSecurity | undefined = secured && { mechanism: 'SCRAM-SHA-256', username: 'admin', password: secured.adminPassword, caFile: secured.caFile };
  process.env.KAFKA_BROKERS = broker.bootstrap;
  const admin = new KafkaClient({ brokers: broker.bootstrap, clientId: 'bench-admin' });
  const passes: Pass[] = [];
  const unsupported: Record<string, Record<string, string>> = {};
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  // Written after every round (roundsDone < rounds marks a partial report) and at the end.
  const writeReport = (roundsDone: number) => {
    const rows = summarise(options.workloads, specs.map((s) => s.name), passes);
    const settings: Record<string, Record<string, unknown>> = {};
    for (const p of passes) if (p.result) (settings[p.client] ??= {})[p.result.mode] ??= p.result.settings;
    const versions: Record<string, string> = {};
    for (const p of passes) if (p.result) versions[p.client] ??= p.result.version;
    const report = {
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      roundsDone,
      source,
      machine: machine(),
      options: { ...options, workloads: options.workloads.map((w) => w.id), out: undefined },
      broker: { kafka: kafkaVersion(), bootstrap: broker.bootstrap, startedForThisRun: !brokerGiven },
      versions,
      /** Whether each pass's acknowledged count was checked against the topic's end offsets (needs kcat). */
      storedRecordsChecked: spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0,
      excluded,
      unsupported,
      settings,
      summary: rows,
      /** SASL_SSL/SCRAM throughput over plaintext throughput, per client (same workload otherwise). */
      tlsOverPlaintext: tlsRatios(rows),
      passes,
    };
    mkdirSync(options.out, { recursive: true });
    const json = JSON.stringify(report, null, 2) + '\n';
    writeFileSync(join(options.out, 'latest.json'), json);
    writeFileSync(join(options.out, `${stamp}.json`), json);
    const m = machine();
    const caption = `${started.toISOString().slice(0, 16)}Z, ${m.cpus} cores (${m.cpuModel}), ${options.records.toLocaleString('en-US')} records/pass, ${roundsDone} round(s)`;
    writeFileSync(join(options.out, 'throughput.svg'), throughputSvg(rows, caption));
    writeFileSync(join(options.out, 'latest.md'), `${caption}\n\n${markdownTable(rows)}\n`);
    return rows;
  };
  try {
    log(`bench: broker ${broker.bootstrap} (${brokerGiven ? 'KAFKA_BROKERS' : 'started for this run'})`);
    // A broker just started runs its request path interpreted until its JIT has seen it, and each
    // client's requests take their own paths through it (batch sizes, versions, request counts):
    // with one warm-up pass by the first client only, the Java producer's first round ran at 40-60%
    // of its later ones (bench/PROFILE.md), so round 1 measured the broker, not the clients. One
    // unmeasured pass per client first. A paced pass sends many small requests, a path the
    // pipelined pass leaves cold: the first paced pass on a fresh broker had p99 243 ms where the
    // same client's next had 8.9 (bench/PROFILE.md), and round 1 always starts with the same
    // client. So the latency workload, when the run has it, gets its own unmeasured pass per client,
    // and so does the SASL_SSL one, whose TLS and SASL paths the plaintext passes leave cold (its
    // round-1 ratio, Java over kafka-rx, was 1.25 while its rounds 2 and 3 were 0.51 and 0.58,
    // kafka-rx going first in round 1). The pipelined pass goes last: round 1 starts with it.
    // A SASL_SSL workload's passes go to the secured listener with the admin's SCRAM credentials.
    const securedEndpoint = (w: Workload) => (w.security !== undefined ? { bootstrap: secured!.saslSsl, security: tlsSecurity! } : {});
    const brokerWarmUps = [
      options.workloads.find((w) => w.mode === 'rate' && w.security === undefined),
      tlsSecurity !== undefined ? options.workloads.find((w) => w.mode === 'pipelined' && w.security !== undefined) : undefined,
      options.workloads.find((w) => w.mode === 'pipelined' && w.security === undefined && w.topics === undefined),
    ].filter((w): w is Workload => w !== undefined);
    if (!options.quick) {
      for (const warmUpWorkload of brokerWarmUps) {
        for (const spec of specs) {
          if (spec.unsupported(warmUpWorkload) !== null) continue;
          const tls = securedEndpoint(warmUpWorkload);
          const config: DriverConfig = {
            bootstrap: broker.bootstrap, topic: await freshTopic(admin, 'bench-warmup'), mode: warmUpWorkload.mode,
            records: warmUpWorkload.mode === 'rate' ? recordsFor(warmUpWorkload, options) : Math.min(options.records, 500_000),
            size: warmUpWorkload.size, keyed: warmUpWorkload.keyed, acks: warmUpWorkload.acks, compression: warmUpWorkload.compression, warmup: 0,
            ...(warmUpWorkload.rate ? { rate: warmUpWorkload.rate } : {}), ...tls,
          };
          const outcome = await runPass(spec, config);
          log(`bench: broker warm-up, not measured: ${config.records.toLocaleString('en-US')} records of ${warmUpWorkload.id} by ${spec.name}${outcome.error ? ` (${outcome.error})` : ''}`);
          await admin.deleteTopics([config.topic]).catch(() => undefined);
        }
      }
    }
    for (let round = 1; round <= options.rounds; round++) {
      for (const [workloadIndex, workload] of options.workloads.entries()) {
        // The first slot rotates with the round; the others are shuffled (bench/runner/line-up.ts).
        const order = lineUp(specs, round, workloadIndex, options.seed);
        let slot = 0;
        for (const spec of order) {
          const why = workload.security !== undefined && tlsSecurity === undefined
            ? 'the SASL_SSL workload needs the secured broker a run starts itself (KAFKA_BROKERS was given)'
            : spec.unsupported(workload);
          if (why !== null) {
            (unsupported[spec.name] ??= {})[workload.id] = why;
            continue;
          }
          const topics: string[] = [];
          for (let t = 0; t < (workload.topics ?? 1); t++) topics.push(await freshTopic(admin, 'bench'));
          const topic = topics[0];
          const tls = securedEndpoint(workload);
          const config: DriverConfig = {
            bootstrap: broker.bootstrap, topic, mode: workload.mode, records: recordsFor(workload, options),
            size: workload.size, keyed: workload.keyed, acks: workload.acks, compression: workload.compression,
            warmup: warmupFor(workload, options), ...(workload.rate ? { rate: workload.rate } : {}), ...tls,
            ...(topics.length > 1 ? { topics } : {}),
          };
          const outcome = await runPass(spec, config);
          // Acknowledged must mean stored: the broker's end offsets are checked against what was sent.
          if (outcome.result) {
            let stored: number | null = 0;
            for (const t of topics) {
              const inTopic = storedRecords(broker.bootstrap, t);
              stored = inTopic === null || stored === null ? null : stored + inTopic;
            }
            if (stored !== null && stored !== expectedStored(spec.name, config)) {
              outcome.error = `the topic holds ${stored} records, ${expectedStored(spec.name, config)} were acknowledged`;
              delete outcome.result;
            }
          }
          passes.push({ round, workload: workload.id, client: spec.name, slot: slot++, ...outcome });
          const r = outcome.result;
          log(`  round ${round}  ${workload.id.padEnd(36)} ${spec.name.padEnd(31)} ${r
            ? `${Math.round(r.recordsPerSec).toLocaleString('en-US').padStart(10)} rec/s${r.latencyMs ? `  p50 ${r.latencyMs.p50} ms  p99 ${r.latencyMs.p99} ms` : ''}`
            : `FAILED: ${outcome.error}`}`);
          await admin.deleteTopics(topics).catch((error) => log(`bench: could not delete ${topics.join(', ')}: ${String(error)}`));
        }
      }
      if (round < options.rounds) writeReport(round);
    }
  } finally {
    await admin.close();
    await broker.stop();
  }

  const rows = writeReport(options.rounds);
  const finished = new Date();
  log('');
  log(textTable(rows));
  log('');
  const ratios = Object.entries(tlsRatios(rows));
  if (ratios.length > 0) log(`TLS/plaintext (100B keyless acks=1, SASL_SSL/SCRAM-SHA-256 over PLAINTEXT): ${ratios.map(([c, r]) => `${c} ${r}`).join(', ')}`);
  for (const [name, why] of Object.entries(excluded)) log(`excluded ${name}: ${why}`);
  for (const [name, map] of Object.entries(unsupported)) log(`not run by ${name}: ${[...new Set(Object.values(map))].join('; ')}`);
  log(`bench: results in ${relative(process.cwd(), options.out) || '.'}/ (latest.json, ${stamp}.json, throughput.svg, latest.md) after ${Math.round((finished.getTime() - started.getTime()) / 1000)} s`);
  if (passes.every((p) => p.result === undefined)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
