// @platformatic/kafka 2.x (its engines ask for Node.js >= 22.22 or >= 24.6; the bench runs on 24).
// It has no linger of its own: throughput comes from many messages per send() call and several
// calls at once, bounded by its maxInflights (requests in flight per connection).
import { readFileSync } from 'node:fs';
import { chunkedSender, loadPeer, packageVersion, runDriver, topicOf, type ClientAdapter, type DriverConfig } from './harness.js';

const CHUNK = Number(process.env.BENCH_CHUNK ?? 1_000);
const CONCURRENT_SENDS = Number(process.env.BENCH_CONCURRENT_SENDS ?? 5);
const MAX_INFLIGHTS = 5;

interface PlatformaticMessage { topic: string; key: Buffer | undefined; value: Buffer }
interface PlatformaticProducer {
  send(request: { messages: PlatformaticMessage[] }): Promise<unknown>;
  close(): Promise<void>;
}
interface PlatformaticModule {
  Producer: new (options: Record<string, unknown>) => PlatformaticProducer;
}

runDriver(async (config: DriverConfig): Promise<ClientAdapter> => {
  const { Producer } = await loadPeer<PlatformaticModule>('@platformatic/kafka');
  const producerOptions = {
    acks: config.acks,
    compression: config.compression,
    maxInflights: MAX_INFLIGHTS,
    idempotent: false,
  };
  const security = config.security;
  const producer = new Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: config.bootstrap.split(','),
    ...producerOptions,
    ...(security ? { tls: { ca: readFileSync(security.caFile) }, sasl: { mechanism: security.mechanism, username: security.username, password: security.password } } : {}),
  });
  const topic = config.topic;
  const chunks = chunkedSender<PlatformaticMessage>(CHUNK, (messages) => producer.send({ messages }));
  return {
    client: '@platformatic/kafka',
    version: packageVersion('@platformatic/kafka'),
    window: config.mode === 'pipelined' ? CHUNK * CONCURRENT_SENDS : undefined,
    settings: {
      api: config.mode === 'await-each' ? 'await send() of one message' : 'send() of message arrays',
      messagesPerSend: config.mode === 'await-each' ? 1 : CHUNK,
      concurrentSends: config.mode === 'pipelined' ? CONCURRENT_SENDS : 'as paced',
      ...producerOptions,
      partitioner: 'default (murmur2 for keys, round-robin without)',
    },
    // Its messages carry their topic: the multi-topic workload mixes all topics in each send().
    send: (value, key, id) => chunks.add({ topic: topicOf(config, id), key: key ?? undefined, value }, id),
    flush: chunks.flush,
    sendAndWait: async (value, key) => {
      await producer.send({ messages: [{ topic, key: key ?? undefined, value }] });
    },
    close: () => producer.close(),
  };
});
