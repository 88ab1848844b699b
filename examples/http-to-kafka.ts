/**
 * HTTP to Kafka: every POST body becomes a record, and the answer is 202 only once Kafka
 * acknowledged it (503 with the error otherwise). With EXAMPLE_SELF_TEST=1 it posts to itself and exits.
 *   npx tsx examples/http-to-kafka.ts    then: curl -d 'hello' localhost:8080/
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KafkaClient } from 'kafka-rx';

async function main() {
  const client = new KafkaClient({ brokers: process.env.KAFKA_BROKERS ?? 'localhost:9092' });
  const topic = `http-bodies-${Date.now()}`;
  await client.createTopics([{ name: topic, numPartitions: 3, replicationFactor: 1 }]);
  // sync: produce() resolves after the acknowledgement; lingerMs lets concurrent requests share a batch.
  const producer = client.producer(topic, { sync: true, requiredAcks: -1 });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        const message = await producer.produce(Buffer.concat(chunks), { headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' } });
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ partition: message.partition, offset: String(message.offset) }));
      } catch (error) {
        res.writeHead(503).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? (process.env.EXAMPLE_SELF_TEST ? 0 : 8080)), '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}/, producing to ${topic}`);

  const shutdown = async () => {
    server.close();
    await client.close();
  };
  if (!process.env.EXAMPLE_SELF_TEST) {
    process.once('SIGINT', () => void shutdown());
    return;
  }
  const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => post(port, `body ${i}`)));
  console.log(`answers: ${statuses.filter((s) => s === 202).length} x 202`);
  await shutdown();
  if (statuses.some((s) => s !== 202)) throw new Error(`unexpected statuses ${statuses}`);
  console.log('done');
}

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'text/plain' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
