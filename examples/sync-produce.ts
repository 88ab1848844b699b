/**
 * Sync-style producing: each await returns only when the broker acknowledged, with the offset; a
 * failure arrives as a typed error to catch.
 *   npx tsx examples/sync-produce.ts
 */
import { KafkaClient, KafkaError, MessageSizeTooLargeError } from 'kafka-rx';

async function main() {
  const client = new KafkaClient({ brokers: process.env.KAFKA_BROKERS ?? 'localhost:9092' });
  const topic = `orders-${Date.now()}`;
  await client.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
  await using producer = client.producer(topic, { sync: true, requiredAcks: -1, maxRequestSize: 10_000 });

  for (const order of ['apple', 'pear', 'plum']) {
    const message = await producer.produce(Buffer.from(order));
    console.log(`order ${order} stored at partition ${message.partition}, offset ${message.offset}`);
  }
  try {
    await producer.produce(Buffer.alloc(20_000)); // larger than maxRequestSize
  } catch (error) {
    if (error instanceof MessageSizeTooLargeError) console.log(`refused as expected: ${error.name}`);
    else if (error instanceof KafkaError) console.log(`Kafka said ${error.errorName}`);
    else throw error;
  }
  await producer.stop();
  await client.close();
  console.log('done');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
