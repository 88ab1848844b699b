/**
 * Routing with a dead-letter topic: events go to `orders` or `payments` by their kind, sharing one
 * in-flight budget; what fails after the re-sends lands on a dead-letter topic with headers saying
 * why. Here the payments topic refuses records over 300 bytes, so the oversized payments fail (not
 * written, and not worth re-sending) and are dead-lettered.
 *   npx tsx examples/route-and-dead-letter.ts
 */
import { lastValueFrom, mergeMap, range, map, toArray } from 'rxjs';
import { KafkaClient } from 'kafka-rx';
import { retryFailed, routeToKafka, toDeadLetter } from 'kafka-rx/operators';

interface Event {
  id: number;
  kind: 'orders' | 'payments';
  body: string;
}

async function main() {
  const client = new KafkaClient({ brokers: process.env.KAFKA_BROKERS ?? 'localhost:9092' });
  const suffix = Date.now();
  const names = { orders: `orders-${suffix}`, payments: `payments-${suffix}`, deadLetters: `dead-letters-${suffix}` };
  await client.createTopics([
    { name: names.orders, numPartitions: 3, replicationFactor: 1 },
    { name: names.payments, numPartitions: 3, replicationFactor: 1, configs: { 'max.message.bytes': '300' } },
    { name: names.deadLetters, numPartitions: 1, replicationFactor: 1 },
  ]);
  const producers = { orders: client.producer(names.orders, { lingerMs: 10 }), payments: client.producer(names.payments, { lingerMs: 10 }) };
  const deadLetters = client.producer(names.deadLetters);

  // Every 100th payment is too large for its topic.
  const events$ = range(0, 5_000).pipe(
    map((id): Event => ({ id, kind: id % 2 === 0 ? 'orders' : 'payments', body: id % 200 === 1 ? 'x'.repeat(1_000) : `event ${id}` })),
  );
  const reports = await lastValueFrom(
    events$.pipe(
      routeToKafka(
        { producers, by: (event: Event) => event.kind },
        { toRecord: (event) => ({ key: Buffer.from(String(event.id % 20)), value: Buffer.from(event.body) }), maxInFlight: 2_000 },
      ),
      mergeMap((source) => source.reports),
      // Each failure is re-sent through the producer of its own topic.
      retryFailed((report) => (report.message.topic === names.orders ? producers.orders : producers.payments), { count: 2, delay: 500 }),
      toDeadLetter(deadLetters),
      toArray(),
    ),
  );
  await Promise.all([producers.orders.stop(), producers.payments.stop(), deadLetters.stop()]);
  await client.close();
  const written = reports.filter((r) => r.error === undefined);
  console.log(`dead-lettered ${written.length} of ${reports.length} failed records, e.g. ${reports[0]?.original.error?.name} from ${reports[0]?.original.message.topic}`);
  if (reports.length !== 25 || written.length !== 25) throw new Error('expected the 25 oversized payments on the dead-letter topic');
  console.log('done');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
