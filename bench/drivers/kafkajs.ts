// kafkajs 2: it has no linger of its own, so its docs' way to throughput is sending many messages
// per send() call and several calls at once. lz4 comes from kafkajs-lz4, the codec its docs name.
import { readFileSync } from 'node:fs';
import { chunkedSender, loadPeer, packageVersion, runDriver, topicOf, type ClientAdapter, type DriverConfig } from './harness.js';

/** Messages per send() call, and send() calls outstanding at once (kafkajs bounds neither by default). */
const CHUNK = Number(process.env.BENCH_CHUNK ?? 1_000);
const CONCURRENT_SENDS = Number(process.env.BENCH_CONCURRENT_SENDS ?? 5);

interface KafkajsMessage { key: Buffer | null; value: Buffer }
interface KafkajsProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(request: { topic: string; acks: number; compression: number; messages: KafkajsMessage[] }): Promise<unknown>;
  /** Several topics in one call: kafkajs groups them by broker into its Produce requests. */
  sendBatch(request: { acks: number; compression: number; topicMessages: Array<{ topic: string; messages: KafkajsMessage[] }> }): Promise<unknown>;
}
interface TopicMessage { topic: string; message: KafkajsMessage }
interface KafkajsModule {
  Kafka: new (config: { clientId: string; brokers: string[]; logLevel: number; ssl?: object; sasl?: object }) => { producer(options: Record<string, unknown>): KafkajsProducer };
  CompressionTypes: { None: number; LZ4: number };
  CompressionCodecs: Record<number, unknown>;
  logLevel: { NOTHING: number };
}

runDriver(async (config: DriverConfig): Promise<ClientAdapter> => {
  const kafkajs = await loadPeer<KafkajsModule>('kafkajs');
  const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = (kafkajs as { default?: KafkajsModule }).default ?? kafkajs;
  let compression = CompressionTypes.None;
  if (config.compression === 'lz4') {
    const lz4 = await loadPeer<{ default: new () => { codec: unknown } }>('kafkajs-lz4');
    CompressionCodecs[CompressionTypes.LZ4] = new lz4.default().codec;
    compression = CompressionTypes.LZ4;
  }
  const security = config.security;
  const kafka = new Kafka({
    clientId: 'bench-kafkajs',
    brokers: config.bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    ...(security ? { ssl: { ca: readFileSync(security.caFile) }, sasl: { mechanism: 'scram-sha-256', username: security.username, password: security.password } } : {}),
  });
  const producerOptions = { allowAutoTopicCreation: false, idempotent: false };
  const producer = kafka.producer(producerOptions);
  await producer.connect();
  const send = (messages: KafkajsMessage[]) => producer.send({ topic: config.topic, acks: config.acks, compression, messages });

  // Multi-topic workload: each chunk of CHUNK records (all topics mixed) is one sendBatch() call.
  const multiTopic = config.topics !== undefined;
  const sendMixed = (mixed: TopicMessage[]) => {
    const byTopic = new Map<string, KafkajsMessage[]>();
    for (const { topic, message } of mixed) {
      const list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, [message]);
      else list.push(message);
    }
    return producer.sendBatch({ acks: config.acks, compression, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  };
  const chunks = chunkedSender<KafkajsMessage>(CHUNK, send);
  const mixedChunks = chunkedSender<TopicMessage>(CHUNK, sendMixed);
  return {
    client: 'kafkajs',
    version: packageVersion('kafkajs'),
    window: config.mode === 'pipelined' ? CHUNK * CONCURRENT_SENDS : undefined,
    settings: {
      api: config.mode === 'await-each' ? 'await send() of one message' : multiTopic ? 'sendBatch() of message arrays over all topics' : 'send() of message arrays',
      messagesPerSend: config.mode === 'await-each' ? 1 : CHUNK,
      concurrentSends: config.mode === 'pipelined' ? CONCURRENT_SENDS : 'as paced',
      ...producerOptions,
      maxInFlightRequests: 'unbounded (default)',
      acks: config.acks,
      compression: config.compression === 'lz4' ? 'lz4 (kafkajs-lz4)' : 'none',
      partitioner: 'DefaultPartitioner (murmur2 for keys, round-robin without)',
    },
    send: multiTopic ? (value, key, id) => mixedChunks.add({ topic: topicOf(config, id), message: { key, value } }, id) : (value, key, id) => chunks.add({ key, value }, id),
    flush: multiTopic ? mixedChunks.flush : chunks.flush,
    sendAndWait: async (value, key) => {
      await send([{ key, value }]);
    },
    close: () => producer.disconnect(),
  };
});
