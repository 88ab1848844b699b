/**
 * Pipe a timed stream into a topic and print a rolling delivery summary.
 *   KAFKA_BROKERS=host:9092 npx tsx examples/interval-to-kafka.ts
 */
import { bufferTime, filter, interval, map, scan, take } from 'rxjs';
import { KafkaClient } from 'kafka-rx';
import { toKafka } from 'kafka-rx/operators';

const total = Number(process.env.EXAMPLE_COUNT ?? 2_000);

async function main() {
  const client = new KafkaClient({ brokers: process.env.KAFKA_BROKERS ?? 'localhost:9092' });
  const topic = `ticks-${Date.now()}`;
  await client.createTopics([{ name: topic, numPartitions: 3, replicationFactor: 1 }]);
  const producer = client.producer(topic, { lingerMs: 50 });

  // A tick every millisecond, each one a JSON record; reports are summed every 250 ms.
  await new Promise<void>((resolve, reject) => {
    interval(1)
      .pipe(
        take(total),
        map((n) => ({ n, at: new Date().toISOString() })),
        toKafka(producer, { toRecord: (tick) => ({ value: Buffer.from(JSON.stringify(tick)) }) }),
        bufferTime(250),
        filter((reports) => reports.length > 0),
        scan((sum, reports) => ({ ok: sum.ok + reports.filter((r) => !r.error).length, failed: sum.failed + reports.filter((r) => r.error).length }), { ok: 0, failed: 0 }),
      )
      .subscribe({ next: (sum) => console.log(`delivered ${sum.ok}, failed ${sum.failed}`), error: reject, complete: resolve });
  });
  await client.close();
  console.log(`done: ${total} ticks produced to ${topic}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
