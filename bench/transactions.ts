// npm run bench:transactions — transactional throughput: kafka-rx's transactional producer, Kafka's
// Java producer and the Node.js peers with transactions (kafkajs, @platformatic/kafka) write T
// transactions of R records of 100 B to a 6-partition topic, each committed, against the same
// broker; kafka-rx's idempotent (acks=all) producer writing the same records without transactions
// is the baseline of what the transactions cost. Rounds alternate the order of the clients, after
// one unmeasured pass of each; medians are printed. After every pass a read_committed kcat reader
// must see exactly the records written (else the pass fails). Not yet part of `npm run bench`.
// @confluentinc/kafka-javascript (an optional native peer, bench/optional/confluent) is measured
// through its KafkaJS-compatible API when `npm run bench` has built it, and said not run otherwise.
//
// Uses KAFKA_BROKERS when set, else starts a one-node broker of its own. Knobs (environment):
// BENCH_TXN_RECORDS (total records per pass, 200000), BENCH_TXN_SIZES (1000,10000: records per
// transaction), BENCH_ROUNDS (3), BENCH_TXN_CLIENTS (kafka-rx,java,kafkajs,platformatic,confluent).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KafkaClient } from '../lib/index.js';
import { loadPeer, packageVersion } from './drivers/harness.js';
import { confluentBuilt } from './runner/clients.js';
import { ensureBroker, KAFKA_SCRIPT } from '../spec/support/broker.js';
import { kafkaLibs } from '../spec/support/kafka-version.js';

const TOTAL = Number(process.env.BENCH_TXN_RECORDS ?? 200_000);
const PER_TRANSACTION = (process.env.BENCH_TXN_SIZES ?? '1000,10000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Where `npm run bench` installs and builds the optional peer (bench/drivers/confluent.ts names it
// too, but importing that driver would start it).
const CONFLUENT_DIR = join(__dirname, 'optional', 'confluent', 'node_modules');
const CLIENTS = (process.env.BENCH_TXN_CLIENTS ?? 'kafka-rx,java,kafkajs,platformatic,confluent').split(',');
const SIZE = 100;
const PARTITIONS = 6;
const run = promisify(execFile);
const block = randomBytes(8 * 1024 * 1024 + SIZE);
const valueOf = (i: number) => block.subarray((i * SIZE) % (8 * 1024 * 1024), ((i * SIZE) % (8 * 1024 * 1024)) + SIZE);

async function createTopic(bootstrap: string, topic: string): Promise<void> {
  await run(KAFKA_SCRIPT, ['topics', '--bootstrap-server', bootstrap, '--create', '--topic', topic, '--partitions', String(PARTITIONS), '--replication-factor', '1'], { env: process.env });
}

async function kafkaRx(bootstrap: string, topic: string, perTransaction: number | null): Promise<number> {
  const client = new KafkaClient({ brokers: bootstrap });
  try {
    const options = { lingerMs: 10, maxQueuedMessages: 20_000, pendingTimeoutMs: 120_000 };
    const producer = perTransaction === null ? client.producer(topic, { ...options, requiredAcks: -1 }) : client.producer(topic, { ...options, transactionalId: `bench-rx-${topic}` });
    let failed = 0;
    producer.deliveryReports$.subscribe((r) => { if (r.error) failed++; });
    if (perTransaction !== null) await producer.initTransactions();
    const started = performance.now();
    if (perTransaction === null) {
      // The same shape without transactions: 10,000 records, then flush() (what a commit waits for).
      for (let start = 0; start < TOTAL; start += 10_000) {
        for (let i = start; i < Math.min(TOTAL, start + 10_000); i++) void producer.produce(valueOf(i));
        await producer.flush();
      }
    } else {
      for (let t = 0; t < TOTAL / perTransaction; t++) {
        producer.beginTransaction();
        for (let i = 0; i < perTransaction; i++) void producer.produce(valueOf(t * perTransaction + i));
        await producer.commitTransaction();
      }
    }
    const seconds = (performance.now() - started) / 1000;
    await producer.stop();
    if (failed > 0) throw new Error(`${failed} records failed`);
    return seconds;
  } finally {
    await client.close();
  }
}

async function java(bootstrap: string, topic: string, perTransaction: number): Promise<number> {
  const { stdout } = await run('java', ['-Xmx1g', '-Dlog4j2.configurationFile=' + join(__dirname, 'drivers', 'java-log4j2.xml'), '-Dlog4j.configuration=file:' + join(__dirname, 'drivers', 'java-log4j.properties'),
    '-cp', `${kafkaLibs()}/*`, join(__dirname, 'tools', 'TransactionalJavaProducer.java'), bootstrap, topic, String(TOTAL / perTransaction), String(perTransaction), String(SIZE)], { maxBuffer: 16 * 1024 * 1024 });
  const line = stdout.trim().split('\n').pop()!;
  const result = JSON.parse(line) as { seconds?: number; error?: string };
  if (result.error !== undefined) throw new Error(`the Java producer failed: ${result.error}`);
  return result.seconds!;
}

interface PeerTransaction { commit(): Promise<void>; abort(): Promise<void> }

/**
 * A peer's transactions over TOTAL records, each transaction's records in one send(); seconds from
 * the first begin to the last commit. A failed send aborts its transaction and fails the pass.
 */
async function timedTransactions<T extends PeerTransaction>(
  perTransaction: number,
  begin: () => Promise<T>,
  send: (transaction: T, values: Buffer[]) => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  for (let t = 0; t < TOTAL / perTransaction; t++) {
    const transaction = await begin();
    try {
      await send(transaction, Array.from({ length: perTransaction }, (_, i) => valueOf(t * perTransaction + i)));
    } catch (error) {
      await transaction.abort();
      throw error;
    }
    await transaction.commit();
  }
  return (performance.now() - started) / 1000;
}

interface KafkajsTransaction { send(request: { topic: string; messages: Array<{ value: Buffer }> }): Promise<unknown>; commit(): Promise<void>; abort(): Promise<void> }
interface KafkajsModule {
  Kafka: new (config: { clientId: string; brokers: string[]; logLevel: number }) => {
    producer(options: Record<string, unknown>): { connect(): Promise<void>; disconnect(): Promise<void>; transaction(): Promise<KafkajsTransaction> };
  };
  logLevel: { NOTHING: number };
}

// kafkajs 2: its transactional producer must be idempotent with one request in flight. Each
// transaction's records go in one send() (one Produce request per broker), the fewest round trips
// its API allows.
async function kafkajs(bootstrap: string, topic: string, perTransaction: number): Promise<number> {
  const module = await loadPeer<KafkajsModule & { default?: KafkajsModule }>('kafkajs');
  const { Kafka, logLevel } = module.default ?? module;
  const kafka = new Kafka({ clientId: 'bench-kafkajs-txn', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId: `bench-kafkajs-${topic}`, maxInFlightRequests: 1, idempotent: true, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    return await timedTransactions(perTransaction, () => producer.transaction(), (transaction, values) =>
      transaction.send({ topic, messages: values.map((value) => ({ value })) }));
  } finally {
    await producer.disconnect();
  }
}

interface PlatformaticTransaction { send(request: { messages: Array<{ topic: string; value: Buffer }> }): Promise<unknown>; commit(): Promise<void>; abort(): Promise<void> }
interface PlatformaticModule {
  Producer: new (options: Record<string, unknown>) => { beginTransaction(): Promise<PlatformaticTransaction>; close(): Promise<void> };
}

// @platformatic/kafka 2.x: transactions need its idempotent producer (acks all); each transaction's
// records go in one send(), as with kafkajs.
async function platformatic(bootstrap: string, topic: string, perTransaction: number): Promise<number> {
  const { Producer } = await loadPeer<PlatformaticModule>('@platformatic/kafka');
  const producer = new Producer({ clientId: 'bench-platformatic-txn', bootstrapBrokers: bootstrap.split(','), idempotent: true, transactionalId: `bench-platformatic-${topic}`, autocreateTopics: false });
  try {
    return await timedTransactions(perTransaction, () => producer.beginTransaction(), (transaction, values) =>
      transaction.send({ messages: values.map((value) => ({ topic, value })) }));
  } finally {
    await producer.close();
  }
}

interface ConfluentModule {
  KafkaJS: {
    Kafka: new (config: { kafkaJS: Record<string, unknown> }) => {
      producer(options: { kafkaJS: Record<string, unknown> }): { connect(): Promise<void>; disconnect(): Promise<void>; transaction(): Promise<KafkajsTransaction> };
    };
    logLevel: { NOTHING: number };
  };
}

// @confluentinc/kafka-javascript through its KafkaJS-compatible API (librdkafka underneath, which
// batches each send() by its own linger): the same calls as kafkajs.
async function confluent(bootstrap: string, topic: string, perTransaction: number): Promise<number> {
  const module = await loadPeer<ConfluentModule & { default?: ConfluentModule }>('@confluentinc/kafka-javascript', CONFLUENT_DIR);
  const { Kafka, logLevel } = (module.default ?? module).KafkaJS;
  const kafka = new Kafka({ kafkaJS: { clientId: 'bench-confluent-txn', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING } });
  const producer = kafka.producer({ kafkaJS: { transactionalId: `bench-confluent-${topic}`, maxInFlightRequests: 1, idempotent: true } });
  await producer.connect();
  try {
    return await timedTransactions(perTransaction, () => producer.transaction(), (transaction, values) =>
      transaction.send({ topic, messages: values.map((value) => ({ value })) }));
  } finally {
    await producer.disconnect();
  }
}

/** Records a read_committed reader (kcat) sees in the topic: what committed transactions hold. */
async function committedRecords(bootstrap: string, topic: string): Promise<number> {
  const { stdout } = await run('kcat', ['-C', '-q', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-X', 'isolation.level=read_committed', '-f', '%p\\n'], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  return stdout.split('\n').filter((line) => line !== '').length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const broker = await ensureBroker();
  try {
    const withConfluent = CLIENTS.includes('confluent') && confluentBuilt();
    if (CLIENTS.includes('confluent') && !withConfluent) console.log('@confluentinc/kafka-javascript: not run: not built (npm run bench builds it under bench/optional/confluent)');
    const all: Array<{ client: string; label: string; pass: (topic: string) => Promise<number> }> = [
      { client: 'kafka-rx', label: 'kafka-rx idempotent acks=all, flush() every 10000, no transactions', pass: (topic) => kafkaRx(broker.bootstrap, topic, null) },
      ...PER_TRANSACTION.flatMap((n) => [
        { client: 'kafka-rx', label: `kafka-rx transactions of ${n}`, pass: (topic: string) => kafkaRx(broker.bootstrap, topic, n) },
        { client: 'java', label: `java transactions of ${n}`, pass: (topic: string) => java(broker.bootstrap, topic, n) },
        { client: 'kafkajs', label: `kafkajs ${packageVersion('kafkajs')} transactions of ${n}`, pass: (topic: string) => kafkajs(broker.bootstrap, topic, n) },
        { client: 'platformatic', label: `@platformatic/kafka ${packageVersion('@platformatic/kafka')} transactions of ${n}`, pass: (topic: string) => platformatic(broker.bootstrap, topic, n) },
        ...(withConfluent ? [{ client: 'confluent', label: `@confluentinc/kafka-javascript ${packageVersion('@confluentinc/kafka-javascript', CONFLUENT_DIR)} transactions of ${n}`, pass: (topic: string) => confluent(broker.bootstrap, topic, n) }] : []),
      ]),
    ];
    const cases = all.filter((c) => CLIENTS.includes(c.client));
    // One unmeasured pass of each client first, so none is measured cold (JIT, broker caches).
    for (const c of cases.filter((x) => x.label.endsWith(`transactions of ${PER_TRANSACTION[0]}`))) {
      const topic = `bench-txn-warmup-${randomBytes(4).toString('hex')}`;
      await createTopic(broker.bootstrap, topic);
      await c.pass(topic).catch((error: Error) => console.error(`warm-up of ${c.label} failed: ${error.message}`));
    }
    const seconds = new Map<string, number[]>(cases.map((c) => [c.label, []]));
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < cases.length; k++) {
        const c = cases[(k + round) % cases.length];
        const topic = `bench-txn-${randomBytes(4).toString('hex')}`;
        await createTopic(broker.bootstrap, topic);
        let s: number;
        try {
          s = await c.pass(topic);
          // Written means visible to a read_committed reader, all of it and nothing more.
          const seen = await committedRecords(broker.bootstrap, topic);
          if (seen !== TOTAL) throw new Error(`a read_committed reader sees ${seen} records, ${TOTAL} were written`);
        } catch (error) {
          // A failed pass is reported, never left out silently.
          failures.push(`round ${round + 1}: ${c.label}: ${(error as Error).message}`);
          console.error(failures[failures.length - 1]);
          continue;
        }
        seconds.get(c.label)!.push(s);
        console.error(`round ${round + 1}: ${c.label}: ${Math.round(TOTAL / s).toLocaleString('en-US')} records/s`);
      }
    }
    console.log(`| case (${TOTAL.toLocaleString('en-US')} records of ${SIZE} B, ${PARTITIONS} partitions, ${ROUNDS} rounds) | records/s (median) | rounds |`);
    console.log('|---|---|---|');
    for (const c of cases) {
      const s = seconds.get(c.label)!;
      console.log(`| ${c.label} | ${s.length ? Math.round(TOTAL / median(s)).toLocaleString('en-US') : '-'} | ${s.map((x) => Math.round(TOTAL / x).toLocaleString('en-US')).join(', ')} |`);
    }
    for (const failure of failures) console.log(`failed pass: ${failure}`);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await broker.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
