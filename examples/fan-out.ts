/**
 * Fan out: one source split by content into two topics through one producer, with the delivery
 * reports merged back into one stream.
 *   npx tsx examples/fan-out.ts
 */
import { filter, lastValueFrom, merge, range, reduce, share } from 'rxjs';
import { KafkaClient } from 'kafka-rx';
import { toKafka } from 'kafka-rx/operators';

async function main() {
  const client = new KafkaClient({ brokers: process.env.KAFKA_BROKERS ?? 'localhost:9092' });
  const suffix = Date.now();
  const [evens, odds] = [`evens-${suffix}`, `odds-${suffix}`];
  await client.createTopics([evens, odds].map((name) => ({ name, numPartitions: 2, replicationFactor: 1 })));
  // One producer for both topics: each record names its own.
  const producer = client.producer({ lingerMs: 10 });

  const numbers$ = range(0, 10_000).pipe(share());
  const record = (topic: string) => (n: number) => ({ topic, value: Buffer.from(String(n)), key: Buffer.from(String(n % 10)) });
  const reports$ = merge(
    numbers$.pipe(filter((n) => n % 2 === 0), toKafka(producer, { toRecord: record(evens) })),
    numbers$.pipe(filter((n) => n % 2 === 1), toKafka(producer, { toRecord: record(odds) })),
  );
  const counts = await lastValueFrom(
    reports$.pipe(reduce((acc, r) => (r.error ? acc : { ...acc, [r.message!.topic]: (acc[r.message!.topic] ?? 0) + 1 }), {} as Record<string, number>)),
  );
  console.log(`acknowledged per topic: ${JSON.stringify(counts)}`);
  await client.close();
  if (counts[evens] !== 5_000 || counts[odds] !== 5_000) throw new Error('not every number was acknowledged');
  console.log('done');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
