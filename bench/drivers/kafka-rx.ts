// kafka-rx, as its README shows it: produce() into the pipeline, outcomes from deliveryReports$.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asapScheduler, type Subscription } from 'rxjs';
import type * as KafkaRx from '../../lib/index.js';
import type { Producer, ProducerOptions } from '../../lib/index.js';
import { acked, packageVersion, runDriver, type ClientAdapter, type DriverConfig } from './harness.js';

/**
 * The settings the README's tuning advice gives: no linger (a batch leaves at the end of the burst
 * that filled it, and grows while every request slot is taken), the default batch
 * bounds, 5 requests in flight per broker, and a queue of 20,000 messages per broker: with more
 * records waiting while every request slot is taken, requests grow larger (100 B rows, against
 * the Java producer in the same runs: 0.81/0.70/0.82 and 0.82/0.80/0.97 at 20,000, 0.97/1.04/1.02
 * and 0.99/0.79/1.05 at 10,000), for 253-265 MB peak RSS on a 100 B pass against 242-249 MB at
 * 10,000 (since the copies stopped being tenured: bench/PROFILE.md). 100,000 (the pykafka default)
 * was 8-25% slower than 20,000.
 * BENCH_KAFKA_RX_OPTIONS='{"maxQueuedMessages":100000}' tries other settings; each pass records them.
 */
const THROUGHPUT: ProducerOptions = {
  lingerMs: 0,
  maxInFlightRequestsPerBroker: 5,
  maxQueuedMessages: 20_000,
  ...(JSON.parse(process.env.BENCH_KAFKA_RX_OPTIONS ?? '{}') as ProducerOptions),
};

/**
 * The build users install (dist/, what tsc emits), as every peer runs from its published build:
 * the sources through tsx carry esbuild's name-keeping wrappers on every closure, which cost
 * allocations and compile time no user pays. `npm run bench` builds first. BENCH_KAFKA_RX_BUILD
 * names another build's index.js, for before/after runs of two builds side by side.
 */
const BUILD = process.env.BENCH_KAFKA_RX_BUILD ?? join(__dirname, '..', '..', 'dist', 'cjs', 'lib', 'index.js');
if (!existsSync(BUILD)) throw new Error(`kafka-rx is not built (${BUILD} is missing): run npm run build, or npm run bench, which builds first`);
const { KafkaClient, Murmur2Partitioner } = require(BUILD) as typeof KafkaRx;

/**
 * BENCH_KAFKA_RX_SCHEDULER=asap runs the producer's timers on RxJS's asapScheduler: a 0 ms wait
 * (the linger buffer's timer with lingerMs 0) becomes a microtask instead of Node's 1 ms minimum
 * timeout, longer waits stay timers. An experiment for the latency row (bench/PROFILE.md), not the
 * bench's advised setting.
 */
const SCHEDULER: Pick<ProducerOptions, 'scheduler'> = process.env.BENCH_KAFKA_RX_SCHEDULER === 'asap' ? { scheduler: asapScheduler } : {};

runDriver(async (config: DriverConfig): Promise<ClientAdapter> => {
  const security = config.security;
  const client = new KafkaClient({
    brokers: config.bootstrap,
    clientId: 'bench-kafka-rx',
    ...(security ? { tls: { ca: readFileSync(security.caFile) }, sasl: { mechanism: security.mechanism, username: security.username, password: security.password } } : {}),
  });
  const keyed = config.keyed ? { partitioner: new Murmur2Partitioner() } : {};
  const common: ProducerOptions = { requiredAcks: config.acks, compression: config.compression, pendingTimeoutMs: 120_000, ...keyed, ...SCHEDULER };
  const options: ProducerOptions = config.mode === 'await-each' ? { ...common, sync: true } : { ...common, ...THROUGHPUT };
  // The multi-topic workload: one producer for all topics (client.producer(options)), each record
  // naming its topic, as a router writes. BENCH_KAFKA_RX_PER_TOPIC=1 makes one producer per topic
  // instead, to compare.
  const multiTopic = config.topics !== undefined;
  const perTopicProducers = multiTopic && process.env.BENCH_KAFKA_RX_PER_TOPIC === '1';
  const producers: Producer[] = perTopicProducers ? config.topics!.map((topic) => client.producer(topic, options)) : [multiTopic ? client.producer(options) : client.producer(config.topic, options)];
  const producer = producers[0];
  const perRecord = config.mode === 'rate';
  const reports: Subscription[] = [];
  if (!perRecord && config.mode === 'pipelined') {
    for (const p of producers) reports.push(p.deliveryReports$.subscribe((report) => acked(-1, report.error !== undefined)));
  }
  const producerOf = producers.length === 1 ? () => producer : (id: number) => producers[id % producers.length];
  // Record i's topic, given in the record form as users of the multi-topic form write it.
  const topics = multiTopic && !perTopicProducers ? config.topics! : null;
  const resolved = producer.options;
  const window = resolved.maxQueuedMessages;
  return {
    client: 'kafka-rx',
    version: packageVersion('', join(__dirname, '..', '..')),
    settings: {
      build: 'dist/cjs (tsc output, as installed from npm)',
      api: perRecord ? 'send(value, { key }, onReport)' : config.mode === 'await-each' ? 'produce() with sync: true' : 'produce() + deliveryReports$',
      ...(multiTopic ? { producers: perTopicProducers ? `${producers.length}, one per topic (BENCH_KAFKA_RX_PER_TOPIC=1)` : '1 for all topics: client.producer(options), produce(value, { topic, key })' } : {}),
      lingerMs: resolved.lingerMs,
      ...(SCHEDULER.scheduler ? { scheduler: 'asapScheduler (BENCH_KAFKA_RX_SCHEDULER=asap)' } : {}),
      minQueuedMessages: resolved.minQueuedMessages,
      maxRequestSize: resolved.maxRequestSize,
      maxInFlightRequestsPerBroker: resolved.maxInFlightRequestsPerBroker,
      maxQueuedMessages: resolved.maxQueuedMessages,
      requiredAcks: resolved.requiredAcks,
      compression: resolved.compression,
      enableIdempotence: resolved.enableIdempotence,
      partitioner: config.keyed ? 'Murmur2Partitioner' : 'RandomPartitioner (round-robin, default)',
    },
    send: topics !== null
      ? perRecord
        ? (value, key, id) => void producer.send(value, { topic: topics[id % topics.length], key }, (report) => acked(id, report.error !== undefined))
        : (value, key, id) => void producer.produce(value, { topic: topics[id % topics.length], key })
      : perRecord
        ? (value, key, id) => void producerOf(id).send(value, { key }, (report) => acked(id, report.error !== undefined))
        : (value, key, id) => void producerOf(id).produce(value, key),
    window,
    flush: () => undefined,
    sendAndWait: async (value, key) => {
      await producer.produce(value, key);
    },
    close: async () => {
      await client.close();
      for (const r of reports) r.unsubscribe();
    },
  };
});
