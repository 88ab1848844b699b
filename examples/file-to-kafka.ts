/**
 * Read a large file line by line into Kafka with backpressure: lazyFrom() reads the next line only
 * while fewer than maxInFlight records are unacknowledged, so memory stays flat however big the file.
 *   npx tsx examples/file-to-kafka.ts [path]   (without a path it writes a 200,000-line sample)
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { lastValueFrom, tap } from 'rxjs';
import { KafkaClient } from 'kafka-rx';
import { lazyFrom, throwOnFailure, toKafka } from 'kafka-rx/operators';

async function main() {
  let path = process.argv[2];
  if (!path) {
    path = join(tmpdir(), `kafka-rx-sample-${process.pid}.log`);
    writeFileSync(path, Array.from({ length: 200_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 80)}`).join('\n') + '\n');
  }
  const client = new KafkaClient({ brokers: process.env.KAFKA_BROKERS ?? 'localhost:9092' });
  const topic = `lines-${Date.now()}`;
  await client.createTopics([{ name: topic, numPartitions: 3, replicationFactor: 1 }]);
  const producer = client.producer(topic, { lingerMs: 20, minQueuedMessages: 5_000 });

  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let delivered = 0;
  const started = Date.now();
  await lastValueFrom(
    lazyFrom(lines).pipe(
      toKafka(producer, { toRecord: (line: string) => ({ value: Buffer.from(line) }), maxInFlight: 20_000 }),
      throwOnFailure(),
      tap(() => {
        if (++delivered % 50_000 === 0) console.log(`${delivered} lines delivered, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
      }),
    ),
  );
  await client.close();
  console.log(`done: ${delivered} lines in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
