// node bench/tools/steady-rate-requests.js <dist/cjs/lib/index.js of a build> <lingerMs> <rate> <seconds>: produces at a steady rate, prints requests per 1,000 records and latency
const [,, build, linger, rate, seconds] = process.argv;
const { KafkaClient } = require(build);
(async () => {
  const client = new KafkaClient({ brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:39592', clientId: 'reqcount' });
  const producer = client.producer('prof', { lingerMs: Number(linger), maxInFlightRequestsPerBroker: 5, maxQueuedMessages: 20000, requiredAcks: 1 });
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
  console.log(JSON.stringify({ build: build.includes('base') ? 'base' : 'main', linger: Number(linger), records: total, requests, recordsPerRequest: +(total / requests).toFixed(1), p50: +lat[Math.floor(lat.length * 0.5)].toFixed(3), p99: +lat[Math.floor(lat.length * 0.99)].toFixed(3) }));
  await client.close();
})();
