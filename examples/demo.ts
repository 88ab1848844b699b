/**
 * The main job: pipe an Observable of generated events into a topic through kafka-rx, with a live
 * progress line, then check the topic with an independent reader (kcat).
 *
 *   npm run demo                      # starts a local Kafka broker unless KAFKA_BROKERS is set
 *   DEMO_EVENTS=500000 npm run demo   # more events
 */
import { lastValueFrom, map } from 'rxjs';
import { KafkaClient } from 'kafka-rx';
import { lazyFrom, toKafka } from 'kafka-rx/operators';
import { ensureBroker } from '../spec/support/broker.js';
import { consumeAll } from '../spec/support/kcat.js';

const events = Number(process.env.DEMO_EVENTS ?? 100_000);
const topic = `demo-events-${Date.now()}`;

async function main(): Promise<void> {
  const broker = await ensureBroker();
  const client = new KafkaClient({ brokers: broker.bootstrap, clientId: 'kafka-rx-demo' });
  try {
    await client.createTopics([{ name: topic, numPartitions: 6, replicationFactor: 1 }]);
    const producer = client.producer(topic, { lingerMs: 20, minQueuedMessages: 10_000, requiredAcks: -1, compression: 'lz4' });

    const started = Date.now();
    const progress = producer.stats$.subscribe((s) => {
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(`\rqueued ${s.queued.toString().padStart(7)}  acknowledged ${s.acknowledged.toString().padStart(7)}  failed ${s.failed}  rate ${Math.round(s.acknowledged / seconds).toLocaleString('en')}/s   `);
    });

    // Events are generated lazily: toKafka reads the next one only while fewer than maxInFlight
    // are unacknowledged. Each becomes a keyed JSON record and yields one delivery report.
    function* generate() {
      for (let id = 0; id < events; id++) yield { id, kind: id % 3 === 0 ? 'click' : 'view', at: Date.now() };
    }
    const reports = lazyFrom(generate()).pipe(
      toKafka(producer, {
        toRecord: (event) => ({ key: Buffer.from(`user-${event.id % 1000}`), value: Buffer.from(JSON.stringify(event)) }),
        maxInFlight: 50_000,
      }),
    );
    let acknowledged = 0;
    let failed = 0;
    try {
      await lastValueFrom(reports.pipe(map((report) => (report.error ? failed++ : acknowledged++))), { defaultValue: 0 });
      await producer.stop();
    } finally {
      progress.unsubscribe();
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`\nproduced ${events} events in ${seconds.toFixed(2)} s (${Math.round(events / seconds).toLocaleString('en')} events/s): ${acknowledged} acknowledged, ${failed} failed`);

    const readBack = await consumeAll(topic, { bootstrap: broker.bootstrap, count: acknowledged, timeoutMs: 120_000, headers: false });
    const ids = new Set(readBack.map((record) => JSON.parse(record.value!.toString()).id));
    const missing = events - ids.size;
    console.log(`kcat read back ${readBack.length} records, ${ids.size} distinct events, ${missing} missing`);
    if (failed > 0 || missing > 0 || readBack.length !== events) {
      process.exitCode = 1;
      console.error('demo FAILED: not every event was acknowledged and read back exactly once');
    } else {
      console.log('demo OK: every event acknowledged and read back exactly once by kcat');
    }
  } finally {
    await client.close();
    await broker.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
