/**
 * A router over many topics with one producer: each event goes to the topic of its kind, the
 * records carry their topic, and one producer batches them all, one Produce request per broker
 * for every topic it leads. stats$ tells the counts per topic.
 *   npx tsx examples/multi-topic-router.ts
 */
import { firstValueFrom, lastValueFrom, map, range, reduce } from 'rxjs';
import { KafkaClient, type Producer } from 'kafka-rx';
import { toKafka } from 'kafka-rx/operators';

const KINDS = ['orders', 'payments', 'refunds', 'shipments', 'reviews'] as const;
const EVENTS = 10_000;

async function main() {
  const client = new KafkaClient({ brokers: process.env.KAFKA_BROKERS ?? 'localhost:9092' });
  const suffix = Date.now();
  const topicOf = Object.fromEntries(KINDS.map((kind) => [kind, `${kind}-${suffix}`])) as Record<(typeof KINDS)[number], string>;
  await client.createTopics(KINDS.map((kind) => ({ name: topicOf[kind], numPartitions: 3, replicationFactor: 1 })));
  // No topic here: every record names its own.
  const producer = client.producer({ lingerMs: 10 });
  try {
    await route(producer, topicOf);
  } finally {
    await client.close();
  }
}

async function route(producer: Producer, topicOf: Record<(typeof KINDS)[number], string>) {
  // range() cannot pause: 10,000 events stay within toKafka's budget (maxInFlight plus maxBuffered).
  const events$ = range(0, EVENTS).pipe(map((id) => ({ id, kind: KINDS[id % KINDS.length], customer: `c${id % 97}` })));
  const failed = await lastValueFrom(
    events$.pipe(
      toKafka(producer, {
        // The key keeps each customer's events of a kind in order, on one partition of that kind's topic.
        toRecord: (event) => ({ topic: topicOf[event.kind], key: Buffer.from(event.customer), value: Buffer.from(JSON.stringify(event)) }),
      }),
      reduce((count, report) => count + (report.error ? 1 : 0), 0),
    ),
  );
  const stats = await firstValueFrom(producer.stats$);
  for (const kind of KINDS) console.log(`${kind}: ${stats.topics[topicOf[kind]].acknowledged} acknowledged in ${stats.topics[topicOf[kind]].batches} batches`);
  console.log(`${stats.requests} Produce requests for ${KINDS.length} topics; failed ${failed}`);
  if (failed !== 0 || KINDS.some((kind) => stats.topics[topicOf[kind]].acknowledged !== EVENTS / KINDS.length)) throw new Error('not every event was acknowledged');
  console.log(`routed ${EVENTS} events`);
  console.log('done');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
