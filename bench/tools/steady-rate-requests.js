// node bench/tools/steady-rate-requests.js <dist/cjs/lib/index.js of a build> <lingerMs> <rate> <seconds>: produces 100 B records at a steady rate to KAFKA_BROKERS (default the PROFILE broker, 127.0.0.1:39592), topic BENCH_TOPIC (default prof), and prints the
// Produce requests it took, records per request and report latency (p50/p99 ms). For bench/PROFILE.md.
const [,, build, linger, rate, seconds] = process.argv;
const { KafkaClient } = require(build);
(async () => {
  const client = new KafkaClient({ brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:39592', clientId: 'reqcount' });
  const producer = client.producer(process.env.BENCH_TOPIC ?? 'prof', { lingerMs: Number(linger), maxInFlightRequestsPerBroker: 5, maxQueuedMessages: 20000, requiredAcks: 1 });
  const value = Buffer.alloc(100, 1);
  for (let i = 0; i < 20000; i++) producer.produce(value);
  await producer.flush();
  const before = producer.statsSnapshot().requests;
  const total = Number(rate) * Number(seconds);
  const lat = [];
  const start = performance.now();
  let sent = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * Number(rate)));
      while (sent < due) { const t = performance.now(); producer.send(value, {}, () => { lat.push(performance.now() - t); }); sent++; }
      if (sent >= total) { clearInterval(tick); resolve(); }
    }, 1);
  });
  await producer.flush();
  const requests = producer.statsSnapshot().requests - before;
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({ build, linger: Number(linger), records: total, requests, recordsPerRequest: +(total / requests).toFixed(1), p50: +lat[Math.floor(lat.length * 0.5)].toFixed(3), p99: +lat[Math.floor(lat.length * 0.99)].toFixed(3) }));
  await client.close();
})();
