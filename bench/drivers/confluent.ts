// @confluentinc/kafka-javascript (librdkafka inside), through its callback Producer API, which its
// docs describe as the one for throughput: produce() never waits, librdkafka batches by linger.ms
// and batch.size on its own threads, and delivery reports arrive as 'delivery-report' events.
import { join } from 'node:path';
import { acked, loadPeer, packageVersion, runDriver, topicOf, type ClientAdapter, type DriverConfig } from './harness.js';

export const CONFLUENT_DIR = join(__dirname, '..', 'optional', 'confluent', 'node_modules');
const NAME = '@confluentinc/kafka-javascript';

/** librdkafka's throughput settings: linger as the other clients, its default 1 MB batches, 5 in flight. */
const THROUGHPUT = {
  'linger.ms': 10,
  'batch.size': 1_000_000,
  'batch.num.messages': 10_000,
  'max.in.flight.requests.per.connection': 5,
  'queue.buffering.max.messages': 100_000,
};

interface RdkafkaProducer {
  connect(options: unknown, callback: (error: unknown) => void): void;
  disconnect(callback: () => void): void;
  produce(topic: string, partition: number | null, value: Buffer, key: Buffer | null, timestamp: number | null, opaque?: unknown): boolean;
  poll(): void;
  setPollInterval(ms: number): void;
  on(event: 'delivery-report', listener: (error: unknown, report: { opaque?: unknown }) => void): void;
}
interface ConfluentModule {
  Producer: new (config: Record<string, unknown>, topicConfig?: Record<string, unknown>) => RdkafkaProducer;
  librdkafkaVersion: string;
}

runDriver(async (config: DriverConfig): Promise<ClientAdapter> => {
  const module = await loadPeer<ConfluentModule & { default?: ConfluentModule }>(NAME, CONFLUENT_DIR);
  const { Producer, librdkafkaVersion } = module.default ?? module;
  const perRecord = config.mode !== 'pipelined';
  const producerConfig: Record<string, unknown> = {
    'metadata.broker.list': config.bootstrap,
    'client.id': 'bench-confluent',
    dr_cb: true,
    acks: config.acks,
    'compression.codec': config.compression,
    // The librdkafka default since 2.x partitions keys with murmur2_random in the Java client's way.
    partitioner: 'murmur2_random',
    ...(config.mode === 'await-each' ? { 'linger.ms': 0 } : THROUGHPUT),
  };
  const producer = new Producer(producerConfig);
  await new Promise<void>((resolve, reject) => producer.connect({}, (error) => (error ? reject(error) : resolve())));
  // Reports are served by poll(): every 5 ms while pipelining, every 1 ms where latency is measured.
  const pollIntervalMs = config.mode === 'pipelined' ? 5 : 1;
  producer.setPollInterval(pollIntervalMs);
  let waiting: ((failed: boolean) => void) | null = null;
  producer.on('delivery-report', (error, report) => {
    if (waiting !== null) {
      const done = waiting;
      waiting = null;
      done(Boolean(error));
    } else {
      acked(perRecord ? (report.opaque as number) : -1, Boolean(error));
    }
  });
  const topic = config.topic;
  return {
    client: NAME,
    version: `${packageVersion(NAME, CONFLUENT_DIR)} (librdkafka ${librdkafkaVersion})`,
    window: 90_000,
    settings: {
      api: config.mode === 'await-each' ? 'produce() then wait for its delivery report' : 'Producer.produce() + delivery-report events',
      ...Object.fromEntries(Object.entries(producerConfig).filter(([k]) => k !== 'metadata.broker.list' && k !== 'client.id')),
      pollIntervalMs,
      'enable.idempotence': 'false (default)',
    },
    send: perRecord
      ? (value, key, id) => void producer.produce(topicOf(config, id), null, value, key, null, id)
      : (value, key, id) => void producer.produce(topicOf(config, id), null, value, key, null),
    flush: () => producer.poll(),
    sendAndWait: (value, key) => new Promise<void>((resolve, reject) => {
      waiting = (failed) => (failed ? reject(new Error('delivery failed')) : resolve());
      producer.produce(topic, null, value, key, null);
      producer.poll();
    }),
    close: () => new Promise<void>((resolve) => producer.disconnect(() => resolve())),
  };
});
