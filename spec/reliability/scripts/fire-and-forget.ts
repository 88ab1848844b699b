// The script a new user writes first: three produce() calls not awaited, then stop(). It must
// exit 0 with all three written (run by spec/reliability/fresh-producer.integration.spec.ts).
import { KafkaClient } from '../../../lib/index.js';

const [brokers, topic] = process.argv.slice(2);
const client = new KafkaClient({ brokers, clientId: 'fire-and-forget' });
const producer = client.producer(topic);
let reports = 0;
producer.deliveryReports$.subscribe(({ error }) => {
  reports++;
  if (error) console.log(`failed: ${error.name}`);
});
for (let i = 0; i < 3; i++) void producer.produce(Buffer.from(`fire-and-forget ${i}`));
void (async () => {
  await producer.stop();
  await client.close();
  console.log(`done ${reports}`);
})();
