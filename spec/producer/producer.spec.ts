import { expect } from 'chai';
import {
  ConfigError,
  DeliveryTimeoutError,
  KafkaError,
  MessageSizeTooLargeError,
  NotEnoughReplicasError,
  ProducerStoppedError,
  QueueFullError,
  TopicAuthorizationFailedError,
} from '../../lib/errors.js';
import type { DeliveryReport } from '../../lib/producer/message.js';
import { Producer } from '../../lib/producer/producer.js';
import type { ProducerOptions } from '../../lib/producer/options.js';
import { FakeTransport } from '../support/fake-transport.js';

const value = (i: number) => Buffer.from(`message-${i}`);

function producerWith(transport: FakeTransport, options: ProducerOptions = {}) {
  const producer = new Producer(transport, 'events', { lingerMs: 5, minQueuedMessages: 100, retryBackoffMs: 1, ...options });
  const reports: DeliveryReport[] = [];
  producer.deliveryReports$.subscribe((report) => reports.push(report));
  return { producer, reports };
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

describe('Producer (against a cluster double)', () => {
  it('gives every message exactly one report, with consecutive offsets per partition', async () => {
    const transport = new FakeTransport(3, 2);
    const { producer, reports } = producerWith(transport);
    for (let i = 0; i < 1000; i++) await producer.produce(value(i));
    await producer.stop();
    expect(reports).to.have.length(1000);
    expect(reports.every((r) => r.error === undefined)).to.equal(true);
    const values = new Set(reports.map((r) => r.message.value!.toString()));
    expect(values.size).to.equal(1000);
    for (const partition of [0, 1, 2]) {
      const offsets = reports.filter((r) => r.message.partition === partition).map((r) => r.message.offset);
      expect(offsets).to.deep.equal(offsets.map((_, i) => BigInt(i)));
      expect(transport.logEnd(partition)).to.equal(BigInt(offsets.length));
    }
  });

  it('starts round-robin at the second partition, as pykafka does', async () => {
    const transport = new FakeTransport(4);
    const { producer } = producerWith(transport);
    const partitions = [];
    for (let i = 0; i < 5; i++) partitions.push((await producer.produce(value(i))).partition);
    await producer.stop();
    expect(partitions).to.deep.equal([1, 2, 3, 0, 1]);
  });

  it('sends a batch as soon as minQueuedMessages have gathered, without waiting out the linger', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { lingerMs: 60_000, minQueuedMessages: 10 });
    for (let i = 0; i < 25; i++) await producer.produce(value(i));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reports).to.have.length(20);
    expect(transport.sent.map((b) => b.count)).to.deep.equal([10, 10]);
    const started = Date.now();
    await producer.stop();
    expect(Date.now() - started).to.be.below(1000);
    expect(reports).to.have.length(25);
    expect(transport.sent.map((b) => b.count)).to.deep.equal([10, 10, 5]);
  });

  it('retries retriable errors with backoff and ends acknowledged', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { maxRetries: 3 });
    transport.failNext(0, 7, 19); // REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS
    for (let i = 0; i < 5; i++) await producer.produce(value(i));
    await producer.flush();
    expect(reports.map((r) => r.error)).to.deep.equal([undefined, undefined, undefined, undefined, undefined]);
    expect(reports.map((r) => r.message.attempts)).to.deep.equal([3, 3, 3, 3, 3]);
    expect(producer.statsSnapshot().retries).to.equal(10);
    await producer.stop();
  });

  it('fails a message after 1 + maxRetries attempts with the typed error', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { maxRetries: 2 });
    transport.failNext(0, 19, 19, 19, 19);
    await producer.produce(value(0));
    await producer.flush();
    expect(reports).to.have.length(1);
    expect(reports[0].error).to.be.instanceOf(NotEnoughReplicasError);
    expect((reports[0].error as KafkaError).code).to.equal(19);
    expect(reports[0].message.attempts).to.equal(3);
    await producer.stop();
  });

  it('fails only the affected partition on a fatal error', async () => {
    const transport = new FakeTransport(2);
    const { producer, reports } = producerWith(transport, { partitioner: (_key, partitions) => partitions[0] });
    transport.failNext(0, 29); // TOPIC_AUTHORIZATION_FAILED
    await producer.produce(value(0));
    await producer.produce(value(1), { partition: 1 });
    await producer.flush();
    const byPartition = new Map(reports.map((r) => [r.message.partition, r]));
    expect(byPartition.get(0)!.error).to.be.instanceOf(TopicAuthorizationFailedError);
    expect(byPartition.get(0)!.message.attempts).to.equal(1);
    expect(byPartition.get(1)!.error).to.equal(undefined);
    await producer.stop();
  });

  it('re-routes queued and failed messages when a partition leader moves', async () => {
    const transport = new FakeTransport(2, 2);
    const { producer, reports } = producerWith(transport, { partitioner: (_key, partitions) => partitions[0] });
    for (let i = 0; i < 10; i++) await producer.produce(value(i));
    transport.moveLeader(0, 1);
    await producer.flush();
    expect(reports.filter((r) => r.error)).to.deep.equal([]);
    expect(reports).to.have.length(10);
    expect(transport.refreshes).to.be.greaterThan(0);
    const acknowledgedBy = countBy(transport.sent.filter((b) => b.broker === 1), (b) => String(b.partition));
    expect(acknowledgedBy).to.deep.equal({ 0: 1 });
    expect(reports.map((r) => r.message.offset)).to.deep.equal(reports.map((_, i) => BigInt(i)));
    await producer.stop();
  });

  it('fails a message too large for maxRequestSize alone and sends the rest of its batch', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { maxRequestSize: 2048 });
    await producer.produce(value(0));
    await producer.produce(Buffer.alloc(4096, 1));
    await producer.produce(value(2));
    await producer.flush();
    expect(reports).to.have.length(3);
    const failed = reports.filter((r) => r.error);
    expect(failed).to.have.length(1);
    expect(failed[0].error).to.be.instanceOf(MessageSizeTooLargeError);
    expect(failed[0].message.value!.length).to.equal(4096);
    expect(transport.logEnd(0)).to.equal(2n);
    await producer.stop();
  });

  it('splits a batch into requests that respect maxRequestSize', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { maxRequestSize: 4096, minQueuedMessages: 1000, lingerMs: 1000 });
    for (let i = 0; i < 100; i++) await producer.produce(Buffer.alloc(200, i));
    await producer.flush();
    expect(reports.filter((r) => r.error)).to.deep.equal([]);
    expect(transport.sent.length).to.be.greaterThan(5);
    expect(Math.max(...transport.sent.map((b) => b.bytes))).to.be.below(4096);
    expect(transport.sent.reduce((n, b) => n + b.count, 0)).to.equal(100);
    await producer.stop();
  });

  it('rejects with QueueFullError when the broker queue is full and blockOnQueueFull is false', async () => {
    const transport = new FakeTransport(1);
    const { producer } = producerWith(transport, { maxQueuedMessages: 3, lingerMs: 1000, blockOnQueueFull: false });
    for (let i = 0; i < 3; i++) await producer.produce(value(i));
    let error: unknown;
    await producer.produce(value(3)).catch((e) => (error = e));
    expect(error).to.be.instanceOf(QueueFullError);
    await producer.stop();
  });

  it('makes produce() wait for room when blockOnQueueFull is true', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { maxQueuedMessages: 3, minQueuedMessages: 3, lingerMs: 1000, maxInFlightRequestsPerBroker: 1 });
    transport.ackDelayMs = 20;
    const accepted = [];
    for (let i = 0; i < 12; i++) accepted.push(producer.produce(value(i)));
    await Promise.all(accepted);
    await producer.stop();
    expect(reports).to.have.length(12);
    expect(reports.map((r) => r.message.value!.toString())).to.deep.equal(Array.from({ length: 12 }, (_, i) => `message-${i}`));
  });

  it('resolves produce() with the acknowledged offset in sync mode and rejects with the delivery error', async () => {
    const transport = new FakeTransport(1);
    const { producer } = producerWith(transport, { sync: true, lingerMs: 10_000, maxRetries: 0 });
    const first = await producer.produce(value(0));
    expect(first.offset).to.equal(0n);
    transport.failNext(0, 29);
    let error: unknown;
    await producer.produce(value(1)).catch((e) => (error = e));
    expect(error).to.be.instanceOf(TopicAuthorizationFailedError);
    await producer.stop();
  });

  it('reports acks=0 messages delivered once written, without an offset', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { requiredAcks: 0 });
    await producer.produce(value(0));
    await producer.stop();
    expect(reports).to.have.length(1);
    expect(reports[0].error).to.equal(undefined);
    expect(reports[0].message.offset).to.equal(-1n);
    expect(transport.sent[0].acks).to.equal(0);
  });

  it('stop() during an outage returns after pendingTimeoutMs with every message reported failed', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { pendingTimeoutMs: 200, maxRetries: 1000, retryBackoffMs: 10 });
    transport.setDown(0, true);
    for (let i = 0; i < 20; i++) await producer.produce(value(i));
    const started = Date.now();
    await producer.stop();
    const took = Date.now() - started;
    expect(took).to.be.within(150, 2000);
    expect(reports).to.have.length(20);
    expect(reports.every((r) => r.error instanceof ProducerStoppedError)).to.equal(true);
    let error: unknown;
    await producer.produce(value(99)).catch((e) => (error = e));
    expect(error).to.be.instanceOf(ProducerStoppedError);
  });

  it('fails a message with DeliveryTimeoutError after deliveryTimeoutMs', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { deliveryTimeoutMs: 100, maxRetries: 1000, retryBackoffMs: 10 });
    transport.setDown(0, true);
    await producer.produce(value(0));
    await producer.flush();
    expect(reports).to.have.length(1);
    expect(reports[0].error).to.be.instanceOf(DeliveryTimeoutError);
    await producer.stop();
  });

  it('keeps reports for getDeliveryReport() when deliveryReports is on', async () => {
    const transport = new FakeTransport(1);
    const { producer } = producerWith(transport, { deliveryReports: true });
    await producer.produce(value(0));
    const report = await producer.getDeliveryReport({ block: true, timeoutMs: 1000 });
    expect(report!.message.value!.toString()).to.equal('message-0');
    expect(await producer.getDeliveryReport({ block: false })).to.equal(undefined);
    expect(await producer.getDeliveryReport({ block: true, timeoutMs: 10 })).to.equal(undefined);
    await producer.stop();
  });

  describe('delivery reports are plain public objects', () => {
    const messageFields = ['topic', 'partition', 'offset', 'timestamp', 'value', 'key', 'headers', 'input', 'inputKey', 'attempts'];
    /** JSON text of a report as a user would log it (offsets are bigint, which JSON cannot hold as such). */
    const serialised = (report: unknown) => JSON.parse(JSON.stringify(report, (_key, v) => (typeof v === 'bigint' ? v.toString() : v)));

    it('serialises an acknowledged report to exactly { message } and its documented fields', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport);
      const queued = await producer.produce(value(0), { key: Buffer.from('k'), headers: { h: 'v' } });
      await producer.flush();
      const [report] = reports;
      expect(Object.keys(serialised(report))).to.deep.equal(['message']);
      expect(Object.keys(serialised(report).message)).to.deep.equal(messageFields);
      expect(Object.keys(report.message)).to.deep.equal(messageFields);
      expect(Object.getPrototypeOf(report)).to.equal(Object.prototype);
      expect(Object.getPrototypeOf(report.message)).to.equal(Object.prototype);
      expect(report.message).to.not.equal(report);
      expect(report.message.offset).to.equal(0n);
      // What produce() resolved with is a public copy too, taken when the message was queued.
      expect(Object.keys(queued)).to.deep.equal(messageFields);
      expect(queued.offset).to.equal(-1n);
      await producer.stop();
    });

    it('serialises a failed report to exactly { message, error }', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport, { deliveryTimeoutMs: 50, maxRetries: 1000, retryBackoffMs: 10 });
      transport.setDown(0, true);
      await producer.produce(value(0));
      await producer.flush();
      const [report] = reports;
      expect(report.error).to.be.instanceOf(DeliveryTimeoutError);
      expect(Object.keys(report)).to.deep.equal(['message', 'error']);
      expect(Object.keys(serialised(report))).to.deep.equal(['message', 'error']);
      expect(Object.keys(report.message)).to.deep.equal(messageFields);
      await producer.stop();
    });

    it('keeps the producer unharmed by a caller who changes a report', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport);
      producer.deliveryReports$.subscribe((report) => {
        (report.message as { partition: number }).partition = 99;
        (report as { error?: unknown }).error = new Error('scribbled');
      });
      await producer.produce(value(0));
      await producer.produce(value(1));
      await producer.flush();
      expect(reports).to.have.length(2);
      expect(producer.statsSnapshot().acknowledged).to.equal(2);
      expect(producer.statsSnapshot().failed).to.equal(0);
      await producer.stop();
    });
  });

  it('rejects getDeliveryReport() (never throws) with a ConfigError that says why when no reports are kept', async () => {
    const off = new Producer(new FakeTransport(1), 'events', { autoStart: false });
    let pending: Promise<unknown> | undefined;
    expect(() => (pending = off.getDeliveryReport())).to.not.throw();
    const offError = await pending!.then(() => undefined, (error: unknown) => error);
    expect(offError).to.be.instanceOf(ConfigError);
    expect((offError as ConfigError).option).to.equal('deliveryReports');
    expect((offError as Error).message).to.contain('got boolean false');

    const sync = new Producer(new FakeTransport(1), 'events', { autoStart: false, sync: true, deliveryReports: true });
    const syncError = await sync.getDeliveryReport().then(() => undefined, (error: unknown) => error);
    expect(syncError).to.be.instanceOf(ConfigError);
    expect((syncError as ConfigError).option).to.equal('sync');
    expect((syncError as Error).message).to.contain('sync: true').and.not.contain('got boolean false');
    await off.stop();
    await sync.stop();
  });

  it('validates options with ConfigError naming the option and the accepted values', () => {
    const transport = new FakeTransport(1);
    const bad: Array<[ProducerOptions, string]> = [
      [{ requiredAcks: 2 as 1 }, 'requiredAcks'],
      [{ compression: 'brotli' as 'none' }, 'compression'],
      [{ lingerMs: -5 }, 'lingerMs'],
      [{ maxRetries: 1.5 }, 'maxRetries'],
      [{ sync: 'yes' as unknown as boolean }, 'sync'],
      [{ minQueuedMessages: 0 }, 'minQueuedMessages'],
      [{ serializer: 42 as never }, 'serializer'],
      [{ lingerMS: 5 } as ProducerOptions, 'lingerMS'],
    ];
    for (const [options, name] of bad) {
      expect(() => new Producer(transport, 'events', { autoStart: false, ...options }), name).to.throw(ConfigError, name);
    }
  });

  it('rejects values of the wrong type without a serializer, naming the field', async () => {
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport);
    let error: unknown;
    await producer.produce('text' as unknown as Buffer).catch((e) => (error = e));
    expect(error).to.be.instanceOf(TypeError);
    expect(String((error as Error).message)).to.contain('value');
    await producer.produce(value(1), { key: 12 as unknown as Buffer }).catch((e) => (error = e));
    expect(String((error as Error).message)).to.contain('key');
    await producer.stop();
    expect(reports).to.have.length(0);
  });

  it('turns pressure$ on above 80% of the queue and off again below 50%', async () => {
    const transport = new FakeTransport(1);
    const { producer } = producerWith(transport, { maxQueuedMessages: 10, minQueuedMessages: 100, lingerMs: 60_000 });
    const seen: boolean[] = [];
    producer.pressure$.subscribe((high) => seen.push(high));
    for (let i = 0; i < 7; i++) await producer.produce(value(i));
    expect(producer.pressure$.value).to.equal(false);
    await producer.produce(value(7));
    expect(producer.pressure$.value).to.equal(true);
    await producer.flush();
    expect(producer.pressure$.value).to.equal(false);
    expect(seen).to.deep.equal([false, true, false]);
    await producer.stop();
  });

  it('sendAll() pulls a lazy source only while fewer than maxInFlight records are outstanding, reporting in input order', async () => {
    const transport = new FakeTransport(2);
    transport.ackDelayMs = 5;
    const { producer } = producerWith(transport, { lingerMs: 1 });
    let read = 0;
    let reported = 0;
    let maxAhead = 0;
    async function* rows() {
      for (let i = 0; i < 50; i++) {
        read++;
        maxAhead = Math.max(maxAhead, read - reported);
        yield value(i);
      }
    }
    const order: string[] = [];
    for await (const report of producer.sendAll(rows(), { maxInFlight: 4 })) {
      reported++;
      expect(report.error).to.equal(undefined);
      order.push(report.message.value!.toString());
    }
    await producer.stop();
    expect(order).to.deep.equal(Array.from({ length: 50 }, (_, i) => `message-${i}`));
    expect(maxAhead).to.be.at.most(5);
  });

  describe('idempotence', () => {
    const idempotent: ProducerOptions = { requiredAcks: -1, lingerMs: 1, minQueuedMessages: 10, retryBackoffMs: 5 };

    it('is on by default with acks all and retries, and refused with acks 1', () => {
      const transport = new FakeTransport(1);
      expect(new Producer(transport, 't', { requiredAcks: -1, autoStart: false }).options.enableIdempotence).to.equal(true);
      expect(new Producer(transport, 't', { requiredAcks: 1, autoStart: false }).options.enableIdempotence).to.equal(false);
      expect(() => new Producer(transport, 't', { requiredAcks: 1, enableIdempotence: true, autoStart: false })).to.throw(ConfigError, 'enableIdempotence');
    });

    it('writes nothing twice when acknowledgements are lost and the batch is retried', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport, idempotent);
      transport.loseAnswers = 2;
      for (let i = 0; i < 30; i++) await producer.produce(value(i));
      await producer.stop();
      expect(reports.filter((r) => r.error)).to.deep.equal([]);
      expect(reports).to.have.length(30);
      expect(transport.logEnd(0)).to.equal(30n);
      expect(transport.duplicatesRejected).to.be.greaterThan(0);
    });

    it('writes duplicates in the same situation without idempotence (what idempotence prevents)', async () => {
      const transport = new FakeTransport(1);
      const { producer } = producerWith(transport, { ...idempotent, enableIdempotence: false });
      transport.loseAnswers = 2;
      for (let i = 0; i < 30; i++) await producer.produce(value(i));
      await producer.stop();
      expect(transport.logEnd(0) > 30n).to.equal(true);
    });

    it('keeps partition order with several requests in flight when an early one fails', async () => {
      const transport = new FakeTransport(1);
      transport.ackDelayMs = 2;
      const { producer, reports } = producerWith(transport, { ...idempotent, maxInFlightRequestsPerBroker: 5 });
      transport.failNext(0, 19); // NOT_ENOUGH_REPLICAS on the first batch; later batches then arrive out of order
      for (let i = 0; i < 100; i++) await producer.produce(value(i));
      await producer.stop();
      expect(reports.filter((r) => r.error)).to.deep.equal([]);
      expect(transport.logEnd(0)).to.equal(100n);
      const byOffset = [...reports].sort((a, b) => Number(a.message.offset - b.message.offset));
      expect(byOffset.map((r) => r.message.value!.toString())).to.deep.equal(Array.from({ length: 100 }, (_, i) => `message-${i}`));
    });

    it('bumps the epoch and renumbers after a batch fails for good, so later batches are accepted', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport, { ...idempotent, maxRetries: 1, maxInFlightRequestsPerBroker: 1 });
      transport.failNext(0, 19, 19);
      for (let i = 0; i < 10; i++) await producer.produce(value(i));
      await producer.flush();
      for (let i = 10; i < 20; i++) await producer.produce(value(i));
      await producer.stop();
      expect(reports.filter((r) => r.error)).to.have.length(10);
      expect(reports.filter((r) => !r.error)).to.have.length(10);
      expect(producer.statsSnapshot().epochBumps).to.equal(1);
      expect(transport.logEnd(0)).to.equal(10n);
    });
  });
});
