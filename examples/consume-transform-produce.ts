/**
 * Consume, transform, produce, exactly once: another Kafka client consumes (here kcat, librdkafka's
 * command-line client, as a child process printing JSON), kafka-rx transforms each record and
 * writes the results in transactions of 250, and the input offsets of each window are committed
 * in the same transaction, so a restart resumes after the last committed window and a
 * read_committed reader sees each output record once.
 *   KAFKA_BROKERS=host:9092 npx tsx examples/consume-transform-produce.ts
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { lastValueFrom, Observable, reduce, windowCount } from 'rxjs';
import { KafkaClient } from 'kafka-rx';
import { inTransactions } from 'kafka-rx/operators';

const RECORDS = 2_000;
const GROUP = 'uppercase-service';

interface Consumed {
  partition: number;
  offset: number;
  key: string | null;
  payload: string;
}

/** The other client's consumer as an Observable: kcat reads the topic to its end and exits. */
function consumed$(brokers: string, topic: string): Observable<Consumed> {
  return new Observable<Consumed>((subscriber) => {
    const kcat = spawn(process.env.KCAT ?? 'kcat', ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-e', '-q', '-J'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: kcat.stdout });
    lines.on('line', (line) => subscriber.next(JSON.parse(line) as Consumed));
    kcat.on('error', (error) => subscriber.error(error));
    kcat.on('close', (code) => (code === 0 ? subscriber.complete() : subscriber.error(new Error(`kcat exited with ${code}`))));
    return () => {
      lines.close();
      kcat.kill();
    };
  });
}

async function main() {
  const brokers = process.env.KAFKA_BROKERS ?? 'localhost:9092';
  const client = new KafkaClient({ brokers });
  const input = `words-${Date.now()}`;
  const output = `${input}-upper`;
  await client.createTopics([input, output].map((name) => ({ name, numPartitions: 3, replicationFactor: 1 })));
  try {
    // The input, written by a plain producer.
    const feeder = client.producer(input, { lingerMs: 10 });
    for (let i = 0; i < RECORDS; i++) await feeder.produce(Buffer.from(`word ${i}`), Buffer.from(`k${i % 10}`));
    await feeder.stop();

    const producer = client.producer(output, { transactionalId: `${GROUP}-${input}`, lingerMs: 10 });
    await producer.initTransactions();
    const outcomes = await lastValueFrom(
      consumed$(brokers, input).pipe(
        windowCount(250),
        // Each window is one transaction, and its input offsets (next offset to read, per partition) are committed in it.
        inTransactions(producer, {
          toRecord: (record: Consumed) => ({ value: Buffer.from(record.payload.toUpperCase()), key: record.key === null ? null : Buffer.from(record.key) }),
          inputOffsets: { group: { groupId: GROUP }, positionOf: (record: Consumed) => ({ topic: input, partition: record.partition, offset: BigInt(record.offset) }) },
        }),
        // The first failure of each distinct error is printed: a failed window says why.
        reduce((counts, report) => {
          if (report.error === undefined) return { ...counts, acknowledged: counts.acknowledged + 1 };
          const described = describe(report.error);
          if (!counts.reasons.has(described)) console.error(`record failed: ${described}`);
          counts.reasons.add(described);
          return { ...counts, failed: counts.failed + 1 };
        }, { acknowledged: 0, failed: 0, reasons: new Set<string>() }),
      ),
    );
    await producer.stop();
    console.log(`transformed ${outcomes.acknowledged} records in ${RECORDS / 250} transactions, failed ${outcomes.failed}, unreported ${RECORDS - outcomes.acknowledged - outcomes.failed}`);
    if (outcomes.acknowledged !== RECORDS || outcomes.failed !== 0) throw new Error('not every record was written');
    console.log('done');
  } finally {
    await client.close();
  }
}

/** An error's name and message, then each cause's, so a failure in CI output says what went wrong. */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let at: unknown = error; at !== undefined && at !== null && parts.length < 8; at = (at as { cause?: unknown }).cause) {
    parts.push(at instanceof Error ? `${at.name}: ${at.message}` : String(at));
    if (!(at instanceof Error)) break;
  }
  return parts.join(' <- caused by ');
}

main().catch((error) => {
  console.error(`failed: ${describe(error)}`);
  console.error(error);
  process.exitCode = 1;
});
