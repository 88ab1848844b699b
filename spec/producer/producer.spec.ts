import { expect } from 'chai';
import {
  ConfigError,
  DeliveryTimeoutError,
  InvalidRecordError,
  InvalidTimestampError,
  KafkaError,
  MaybeWrittenError,
  MessageSizeTooLargeError,
  NotEnoughReplicasError,
  ProducerStoppedError,
  QueueFullError,
  TopicAuthorizationFailedError,
} from '../../lib/errors/index.js';
import type { DeliveryReport } from '../../lib/producer/message.js';
import { Producer } from '../../lib/producer/producer.js';
import type { ProducerOptions } from '../../lib/producer/options.js';
import { FakeTransport } from '../support/fake-transport.js';
import { virtualClock } from '../support/virtual-clock.js';

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
  for (const requiredAcks of [1, -1] as const) {
    it(`fails only the records a broker names in its record errors; their batch-mates are written, the attempt uncounted (acks ${requiredAcks})`, async () => {
      const transport = new FakeTransport(1);
      transport.refuseRecordsNext(0, 32, [1, 3], (i) => `Timestamp 5000 of message with offset ${i} is out of range. The timestamp should be within [-100, 1000]`);
      // maxRetries 0: a counted attempt would leave the batch-mates none.
      const { producer, reports } = producerWith(transport, { requiredAcks, maxRetries: 0, lingerMs: 60_000, minQueuedMessages: 5 });
      for (let i = 0; i < 5; i++) await producer.produce(value(i), { timestamp: i === 1 || i === 3 ? 5000 : 500 + i });
      await producer.stop();
      expect(reports).to.have.length(5);
      const failed = reports.filter((r) => r.error);
      expect(failed.map((r) => r.message.value!.toString())).to.deep.equal(['message-1', 'message-3']);
      for (const { error } of failed) {
        expect(error).to.be.instanceOf(InvalidTimestampError);
        expect(error!.message).to.contain('record timestamp 5000').and.contain('at most 1000').and.contain('log.message.timestamp.after.max.ms');
      }
      const written = reports.filter((r) => !r.error);
      expect(written.map((r) => [r.message.value!.toString(), r.message.offset])).to.deep.equal([['message-0', 0n], ['message-2', 1n], ['message-4', 2n]]);
      expect(transport.logEnd(0)).to.equal(3n);
      expect(transport.sent.map((s) => s.count)).to.deep.equal([5, 3]);
    });
  }

  it('names the topic by its id at Produce v13 once the metadata has one, and by name (v12) before', async () => {
    const transport = new FakeTransport(1, 1, 13);
    const { producer, reports } = producerWith(transport, { sync: true });
    await producer.produce(value(0));
    transport.topicId = Buffer.alloc(16, 7);
    await transport.refreshMetadata();
    await producer.produce(value(1));
    await producer.stop();
    expect(reports.map((r) => [r.message.value!.toString(), r.error, r.message.offset])).to.deep.equal([['message-0', undefined, 0n], ['message-1', undefined, 1n]]);
    expect(transport.requests.map((r) => r.topics[0].topicId ?? 'by name')).to.deep.equal(['by name', Buffer.alloc(16, 7)]);
  });

  it('UNKNOWN_TOPIC_ID (the topic created again under its name): refreshes the metadata and sends with the new id', async () => {
    const transport = new FakeTransport(1, 1, 13);
    transport.topicId = Buffer.alloc(16, 1);
    await transport.refreshMetadata();
    transport.topicId = Buffer.alloc(16, 2);
    const refreshes = transport.refreshes;
    const { producer, reports } = producerWith(transport, { sync: true });
    await producer.produce(value(0));
    await producer.stop();
    expect(reports.map((r) => [r.error, r.message.offset])).to.deep.equal([[undefined, 0n]]);
    expect(transport.requests.map((r) => r.topics[0].topicId![0])).to.deep.equal([1, 2]);
    expect(transport.refreshes).to.be.above(refreshes);
  });

  it('fails every record the broker names, whatever the code (INVALID_RECORD), and none it does not', async () => {
    const transport = new FakeTransport(1);
    transport.refuseRecordsNext(0, 87, [0, 2], () => 'Compacted topic cannot accept message without key');
    const { producer, reports } = producerWith(transport, { lingerMs: 60_000, minQueuedMessages: 3 });
    for (let i = 0; i < 3; i++) await producer.produce(value(i));
    await producer.stop();
    const failed = reports.filter((r) => r.error);
    expect(failed.map((r) => r.message.value!.toString())).to.deep.equal(['message-0', 'message-2']);
    for (const { error } of failed) {
      expect(error).to.be.instanceOf(InvalidRecordError);
      expect(error!.message).to.contain('without key');
    }
    expect(reports.filter((r) => !r.error).map((r) => r.message.value!.toString())).to.deep.equal(['message-1']);
  });

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

  it('sends a batch as soon as minQueuedMessages have gathered, and stop() sends the rest without waiting out the linger', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { lingerMs: 60_000, minQueuedMessages: 10, scheduler: clock.scheduler });
    for (let i = 0; i < 25; i++) await producer.produce(value(i));
    await clock.settle();
    expect(reports).to.have.length(20);
    expect(transport.sent.map((b) => b.count)).to.deep.equal([10, 10]);
    let stopped = false;
    const stopping = producer.stop().then(() => (stopped = true));
    await clock.advanceTo(1);
    expect(stopped, 'stopped within the first virtual millisecond of a 60 s linger').to.equal(true);
    await stopping;
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

  it('gives each outcome to whatever takes it when nobody subscribes to deliveryReports$: callbacks, getDeliveryReport(), a later subscriber', async () => {
    const transport = new FakeTransport(1);
    const producer = new Producer(transport, 'events', { lingerMs: 5, minQueuedMessages: 100, deliveryReports: true });
    const called: string[] = [];
    await producer.send(value(0), {}, (report) => called.push(report.message.value!.toString()));
    await producer.produce(value(1));
    await producer.flush();
    expect(called).to.deep.equal(['message-0']);
    expect((await producer.getDeliveryReport({ block: false }))?.message.value!.toString()).to.equal('message-0');
    expect((await producer.getDeliveryReport({ block: false }))?.message.value!.toString()).to.equal('message-1');
    const later: DeliveryReport[] = [];
    producer.deliveryReports$.subscribe((report) => later.push(report));
    await producer.produce(value(2));
    await producer.stop();
    expect(later.map((r) => [r.message.value!.toString(), r.message.offset])).to.deep.equal([['message-2', 2n]]);
    expect(producer.statsSnapshot()).to.include({ produced: 3, acknowledged: 3, failed: 0 });
  });

  it('counts outcomes nobody takes: no callback, no subscriber, no reports kept', async () => {
    const transport = new FakeTransport(1);
    const producer = new Producer(transport, 'events', { lingerMs: 5, minQueuedMessages: 100 });
    const queued = await Promise.all([0, 1, 2].map((i) => producer.produce(value(i))));
    expect(queued.map((message) => message.offset)).to.deep.equal([-1n, -1n, -1n]);
    await producer.stop();
    expect(producer.statsSnapshot()).to.include({ produced: 3, acknowledged: 3, failed: 0, pending: 0 });
    expect(transport.logEnd(0)).to.equal(3n);
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

  it('takes a plain object of record fields only as the record form: any other key, an inherited field or an empty object is a key for the serializer', async () => {
    const transport = new FakeTransport(1);
    const seenKeys: unknown[] = [];
    const { producer, reports } = producerWith(transport, {
      sync: true,
      serializer: (v, k) => {
        seenKeys.push(k);
        return [Buffer.from(String(v)), k === null || k === undefined ? null : Buffer.from(JSON.stringify(k))];
      },
    });
    const inherited = Object.create({ topic: 'events' }) as object;
    // Values and keys of any type go to the serializer: the double's producer is typed for Buffers.
    const produce = (v: string, keyOrRecord: unknown) => producer.produce(v as never, keyOrRecord as never);
    await produce('a', { key: 'k1', timestamp: 1_700_000_000_000 });
    await produce('b', { id: 7 });
    await produce('c', { key: 'k2', id: 8 });
    await produce('d', {});
    await produce('e', inherited);
    await producer.stop();
    expect(seenKeys).to.deep.equal(['k1', { id: 7 }, { key: 'k2', id: 8 }, {}, inherited]);
    expect(reports.map((r) => r.message.key?.toString() ?? null)).to.deep.equal(['"k1"', '{"id":7}', '{"key":"k2","id":8}', '{}', '{}']);
    expect(reports[0].message.timestamp).to.equal(1_700_000_000_000);
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

  it('turns pressure$ on above 80% of maxQueuedBytes too, with few messages queued, and off once both bounds are at or below 50%', async () => {
    const transport = new FakeTransport(1);
    const { producer } = producerWith(transport, { maxQueuedBytes: 10_000, maxQueuedMessages: 1000, minQueuedMessages: 100, lingerMs: 60_000 });
    const seen: boolean[] = [];
    producer.pressure$.subscribe((high) => seen.push(high));
    const large = Buffer.alloc(1000, 1);
    let produced = 0;
    while (!producer.pressure$.value && produced < 20) {
      expect(producer.statsSnapshot().queuedBytes, 'low while under 80% of maxQueuedBytes').to.be.lessThan(8000);
      await producer.produce(large);
      produced++;
    }
    expect(producer.pressure$.value, 'high once the bytes pass 80%').to.equal(true);
    expect(producer.statsSnapshot().queuedBytes).to.be.at.least(8000);
    expect(produced, 'a handful of messages, far under 80% of maxQueuedMessages').to.be.within(7, 9);
    await producer.flush();
    expect(producer.statsSnapshot().queuedBytes).to.equal(0);
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

  describe('retry accounting: what maxRetries counts', () => {
    it('waits out a leader move (NOT_LEADER_OR_FOLLOWER, no leader) far past maxRetries without counting it', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport, { maxRetries: 3, retryBackoffMs: 1, retryBackoffMaxMs: 2 });
      transport.failNext(0, ...new Array(12).fill(6), 5, 3); // NOT_LEADER_OR_FOLLOWER x12, LEADER_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION
      await producer.produce(value(0));
      await producer.flush();
      expect(reports).to.have.length(1);
      expect(reports[0].error).to.equal(undefined);
      expect(reports[0].message.attempts).to.equal(15);
      expect(transport.refreshes, 'metadata refreshed before each retry').to.be.at.least(14);
      await producer.stop();
    });

    it('waits out a broker it cannot reach with maxRetries 0, and fails then only at deliveryTimeoutMs, as not written', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport, { maxRetries: 0, retryBackoffMs: 1, retryBackoffMaxMs: 5 });
      transport.setDown(0, true);
      await producer.produce(value(0));
      setTimeout(() => transport.setDown(0, false), 100);
      await producer.flush();
      expect(reports[0].error).to.equal(undefined);
      expect(reports[0].message.attempts, 'sent once: the refused connections sent nothing').to.equal(1);
      await producer.stop();

      const down = new FakeTransport(1);
      const second = producerWith(down, { maxRetries: 0, retryBackoffMs: 1, retryBackoffMaxMs: 5, deliveryTimeoutMs: 100 });
      down.setDown(0, true);
      await second.producer.produce(value(1));
      await second.producer.flush();
      expect(second.reports[0].error).to.be.instanceOf(DeliveryTimeoutError);
      expect(second.reports[0].error).not.to.be.instanceOf(MaybeWrittenError);
      await second.producer.stop();
    });

    it('after NOT_LEADER_OR_FOLLOWER, re-sends only once the metadata refresh is in: to the new leader, not the old one again', async () => {
      class SlowMetadata extends FakeTransport {
        override async refreshMetadata(): Promise<void> {
          await new Promise((resolve) => setTimeout(resolve, 80));
          return super.refreshMetadata();
        }
      }
      const transport = new SlowMetadata(1, 2);
      const { producer, reports } = producerWith(transport, { retryBackoffMs: 1, retryBackoffMaxMs: 1_000 });
      transport.moveLeader(0, 1);
      await producer.produce(value(0));
      await producer.flush();
      expect(reports[0].error).to.equal(undefined);
      expect(transport.sent.map((b) => b.broker), 'brokers the batch went to').to.deep.equal([0, 1]);
      await producer.stop();
    });

    it('counts the leader\'s refusals: 1 + maxRetries sends, however many failover errors come between them', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport, { maxRetries: 3, retryBackoffMs: 1, retryBackoffMaxMs: 2 });
      transport.failNext(0, 19, 6, 6, 19, 5, 19, 6, 19); // NOT_ENOUGH_REPLICAS x4, failover errors between
      await producer.produce(value(0));
      await producer.flush();
      expect(reports[0].error).to.be.instanceOf(NotEnoughReplicasError);
      expect(reports[0].message.attempts).to.equal(8);
      await producer.stop();
    });
  });

  describe('honest outcomes: not written, or maybe written', () => {
    it('a message whose request was in flight when its connection died, then timed out, is reported MaybeWrittenError(DeliveryTimeoutError)', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport, { deliveryTimeoutMs: 150, retryBackoffMs: 5, retryBackoffMaxMs: 5 });
      transport.loseAnswers = 1_000;
      await producer.produce(value(0));
      await producer.flush();
      const error = reports[0].error as MaybeWrittenError;
      expect(error).to.be.instanceOf(MaybeWrittenError);
      expect(error.cause).to.be.instanceOf(DeliveryTimeoutError);
      expect(error.message).to.match(/may have been written/);
      await producer.stop();
    });

    it('answers given after the leader appended the batch (REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND) leave it maybe written; a plain refusal does not', async () => {
      for (const [code, maybe] of [[7, true], [20, true], [19, false]] as const) {
        const transport = new FakeTransport(1);
        const { producer, reports } = producerWith(transport, { maxRetries: 0 });
        transport.failNext(0, code);
        await producer.produce(value(0));
        await producer.flush();
        expect(reports[0].error instanceof MaybeWrittenError, `error code ${code}`).to.equal(maybe);
        expect((maybe ? (reports[0].error as MaybeWrittenError).cause : reports[0].error) as KafkaError).to.have.property('code', code);
        await producer.stop();
      }
    });

    it('stop() giving up: messages on the wire are maybe written, those never sent are not written', async () => {
      const transport = new FakeTransport(2, 2);
      const { producer, reports } = producerWith(transport, { pendingTimeoutMs: 100, maxRetries: 1000, lingerMs: 1 });
      transport.ackDelayMs = 2_000;
      transport.setDown(1, true);
      await producer.produce(value(0), { partition: 0 });
      await producer.produce(value(1), { partition: 1 });
      await new Promise((resolve) => setTimeout(resolve, 30));
      await producer.stop();
      expect(reports).to.have.length(2);
      const byPartition = new Map(reports.map((r) => [r.message.partition, r.error]));
      expect(byPartition.get(0), 'on the wire').to.be.instanceOf(MaybeWrittenError);
      expect((byPartition.get(0) as MaybeWrittenError).cause).to.be.instanceOf(ProducerStoppedError);
      expect(byPartition.get(1), 'never sent').to.be.instanceOf(ProducerStoppedError);
      expect(byPartition.get(1)).not.to.be.instanceOf(MaybeWrittenError);
    });
  });

  describe('flush() and stop() cover produce() calls not accepted yet', () => {
    it('flush() on a fresh producer waits for 20,000 un-awaited produce() calls still waiting for metadata', async () => {
      const transport = new FakeTransport(3);
      const { producer, reports } = producerWith(transport, { lingerMs: 60_000, minQueuedMessages: 100_000, maxQueuedMessages: 5_000 });
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < 20_000; i++) calls.push(producer.produce(value(i)));
      await producer.flush();
      expect(reports, 'every call reported by the time flush() resolves').to.have.length(20_000);
      expect(reports.filter((r) => r.error !== undefined)).to.have.length(0);
      await Promise.all(calls);
      await producer.stop();
    });

    it('stop() right after un-awaited produce() calls on a fresh producer sends them all: none rejected, each reported once', async () => {
      const transport = new FakeTransport(3);
      const { producer, reports } = producerWith(transport, { lingerMs: 60_000, minQueuedMessages: 100_000, maxQueuedMessages: 2_000 });
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < 10_000; i++) calls.push(producer.produce(value(i)));
      await producer.stop();
      const settled = await Promise.allSettled(calls);
      expect(settled.filter((s) => s.status === 'rejected')).to.have.length(0);
      expect(reports).to.have.length(10_000);
      expect(new Set(reports.map((r) => r.message.value!.toString())).size).to.equal(10_000);
      expect(reports.filter((r) => r.error !== undefined)).to.have.length(0);
      const after = await producer.produce(value(0)).then(() => null, (e: unknown) => e);
      expect(after).to.be.instanceOf(ProducerStoppedError);
    });
  });

  describe('stop() giving up on calls still waiting for room', () => {
    it('reports each of them failed, not sent: no produce() call made before stop() rejects', async () => {
      const transport = new FakeTransport(1);
      const { producer, reports } = producerWith(transport, { pendingTimeoutMs: 100, maxQueuedMessages: 10, maxRetries: 1000 });
      transport.setDown(0, true);
      const calls: Array<Promise<unknown>> = [];
      for (let i = 0; i < 30; i++) calls.push(producer.produce(value(i)));
      await producer.stop();
      const settled = await Promise.allSettled(calls);
      expect(settled.filter((s) => s.status === 'rejected')).to.have.length(0);
      expect(reports).to.have.length(30);
      expect(new Set(reports.map((r) => r.message.value!.toString())).size).to.equal(30);
      for (const report of reports) {
        expect(report.error).to.be.instanceOf(ProducerStoppedError);
        expect(report.error).not.to.be.instanceOf(MaybeWrittenError);
      }
      expect(producer.statsSnapshot().queued, 'queue places given back').to.equal(0);
    });
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

describe('Producer timing in virtual time (TestScheduler as the producer\'s scheduler)', () => {
  it('sends a batch as soon as minQueuedMessages have gathered; the rest leaves exactly at lingerMs', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { lingerMs: 50, minQueuedMessages: 10, scheduler: clock.scheduler });
    for (let i = 0; i < 25; i++) await producer.produce(value(i));
    await clock.settle();
    expect(transport.sent.map((b) => b.count), 'at time 0').to.deep.equal([10, 10]);
    expect(reports).to.have.length(20);
    await clock.advanceTo(49);
    expect(transport.sent.map((b) => b.count), 'at 49 ms').to.deep.equal([10, 10]);
    await clock.advanceTo(50);
    expect(transport.sent.map((b) => b.count), 'at 50 ms').to.deep.equal([10, 10, 5]);
    expect(reports).to.have.length(25);
    await producer.stop();
  });

  it('a metadata refresh that moves a leader sends the moved partition\'s lingering messages to the new leader at once', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(2, 2);
    const { producer, reports } = producerWith(transport, { lingerMs: 60_000, partitioner: (_key, partitions) => partitions[0], scheduler: clock.scheduler });
    for (let i = 0; i < 10; i++) await producer.produce(value(i));
    await clock.advanceTo(10);
    expect(transport.sent, 'lingering').to.deep.equal([]);
    transport.moveLeader(0, 1);
    await transport.refreshMetadata();
    await clock.advanceTo(11);
    expect(transport.sent.map((b) => [b.broker, b.partition, b.count]), 'at the refresh, not at lingerMs').to.deep.equal([[1, 0, 10]]);
    expect(reports.filter((r) => !r.error)).to.have.length(10);
    await producer.stop();
  });

  it('a metadata refresh that moves no leader of what lingers leaves it to its linger', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(2, 2);
    const { producer } = producerWith(transport, { lingerMs: 60_000, partitioner: (_key, partitions) => partitions[0], scheduler: clock.scheduler });
    for (let i = 0; i < 10; i++) await producer.produce(value(i));
    transport.moveLeader(1, 0);
    await transport.refreshMetadata();
    await clock.advanceTo(10);
    expect(transport.sent).to.deep.equal([]);
    await producer.stop();
    expect(transport.sent.map((b) => [b.broker, b.partition, b.count])).to.deep.equal([[0, 0, 10]]);
  });

  it('retries after retryBackoffMs doubling per failure, and fails with DeliveryTimeoutError at deliveryTimeoutMs', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, {
      lingerMs: 0, minQueuedMessages: 1, deliveryTimeoutMs: 100, maxRetries: 1000, retryBackoffMs: 10, retryBackoffMaxMs: 40, scheduler: clock.scheduler,
    });
    transport.failNext(0, ...Array.from({ length: 50 }, () => 19)); // NOT_ENOUGH_REPLICAS, retriable and counted
    await producer.produce(value(0));
    const attemptsAt: Array<[number, number]> = [];
    for (let t = 0; t <= 100; t++) {
      await clock.advanceTo(t);
      if (attemptsAt.length === 0 || attemptsAt[attemptsAt.length - 1][1] !== transport.sent.length) attemptsAt.push([t, transport.sent.length]);
    }
    // Attempts at 0, then after pauses of 10, 20, 40, 40: 10, 30, 70; the next (110) is past the deadline.
    expect(attemptsAt.map(([t]) => t)).to.deep.equal([0, 10, 30, 70]);
    await clock.advanceTo(110);
    expect(reports).to.have.length(1);
    expect(reports[0].error).to.be.instanceOf(DeliveryTimeoutError);
    expect(transport.sent).to.have.length(4);
    await producer.stop();
  });

  it('stop() during an outage gives up exactly at pendingTimeoutMs, every message reported failed once', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { pendingTimeoutMs: 200, maxRetries: 1000, retryBackoffMs: 10, scheduler: clock.scheduler });
    transport.setDown(0, true);
    for (let i = 0; i < 20; i++) await producer.produce(value(i));
    let stoppedAt = -1;
    const stopped = producer.stop().then(() => (stoppedAt = clock.scheduler.frame));
    await clock.advanceTo(199);
    expect(stoppedAt, 'still waiting at 199 ms').to.equal(-1);
    expect(reports).to.have.length(0);
    await clock.advanceTo(201);
    await stopped;
    expect(stoppedAt).to.equal(200);
    expect(reports).to.have.length(20);
    expect(reports.every((r) => r.error instanceof ProducerStoppedError)).to.equal(true);
    let error: unknown;
    await producer.produce(value(99)).catch((e) => (error = e));
    expect(error, 'produce() after stop()').to.be.instanceOf(ProducerStoppedError);
  });

  it('sync mode: produce() stops waiting exactly at pendingTimeoutMs; the message keeps its own outcome', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(1);
    const { producer, reports } = producerWith(transport, { sync: true, pendingTimeoutMs: 100, deliveryTimeoutMs: 300, maxRetries: 1000, retryBackoffMs: 10, scheduler: clock.scheduler });
    transport.setDown(0, true);
    let rejectedAt = -1;
    let error: unknown;
    producer.produce(value(0)).catch((e) => {
      rejectedAt = clock.scheduler.frame;
      error = e;
    });
    await clock.advanceTo(99);
    expect(rejectedAt, 'still waiting at 99 ms').to.equal(-1);
    await clock.advanceTo(101);
    expect(rejectedAt).to.equal(100);
    expect(error).to.be.instanceOf(DeliveryTimeoutError);
    expect((error as Error).message).to.contain('pendingTimeoutMs (100 ms)');
    expect(reports, 'the message is still pending').to.have.length(0);
    await clock.advanceTo(310);
    expect(reports).to.have.length(1);
    expect(reports[0].error).to.be.instanceOf(DeliveryTimeoutError);
    await producer.stop();
  });

  it('sync mode: calls begun at different times each stop waiting exactly at their own pendingTimeoutMs (one timer serves all)', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(1);
    const { producer } = producerWith(transport, { sync: true, pendingTimeoutMs: 100, deliveryTimeoutMs: 1_000, maxRetries: 1000, retryBackoffMs: 10, scheduler: clock.scheduler });
    transport.setDown(0, true);
    const answers: Array<{ at: number; ok: boolean }> = [];
    const call = (i: number) =>
      producer.produce(value(i)).then(
        () => void (answers[i] = { at: clock.scheduler.frame, ok: true }),
        () => void (answers[i] = { at: clock.scheduler.frame, ok: false }),
      );
    void call(0);
    await clock.advanceTo(30);
    void call(1);
    await clock.advanceTo(60);
    void call(2);
    await clock.advanceTo(99);
    expect(answers, 'all still waiting at 99 ms').to.have.length(0);
    await clock.advanceTo(300);
    expect(answers).to.deep.equal([{ at: 100, ok: false }, { at: 130, ok: false }, { at: 160, ok: false }]);
    // Back up: a call is acknowledged; down again, a later call times out 100 ms after it began.
    transport.setDown(0, false);
    await clock.advanceTo(1_400);
    void call(3);
    await clock.advanceTo(1_450);
    expect(answers[3]?.ok, 'acknowledged').to.equal(true);
    transport.setDown(0, true);
    void call(4);
    await clock.advanceTo(1_700);
    expect(answers[4]).to.deep.equal({ at: 1_550, ok: false });
    expect(answers[3].ok, 'an answered call is never timed out later').to.equal(true);
    transport.setDown(0, false);
    await clock.advanceTo(3_000);
    await producer.stop();
  });

  it('getDeliveryReport({ timeoutMs }) resolves undefined exactly at timeoutMs, or with a report that comes sooner', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(1);
    const { producer } = producerWith(transport, { deliveryReports: true, lingerMs: 40, scheduler: clock.scheduler });
    const waits: Array<{ at: number; report: DeliveryReport | undefined }> = [];
    const pull = () => producer.getDeliveryReport({ timeoutMs: 30 }).then((report) => waits.push({ at: clock.scheduler.frame, report }));
    void pull();
    await clock.advanceTo(29);
    expect(waits, 'nothing at 29 ms').to.have.length(0);
    await clock.advanceTo(31);
    expect(waits).to.deep.equal([{ at: 30, report: undefined }]);
    await producer.produce(value(0)); // accepted at 31, sent at the end of its linger: 71
    void pull();
    await clock.advanceTo(70);
    expect(waits, 'the second wait ends at 61 with nothing').to.have.length(2);
    expect(waits[1]).to.deep.equal({ at: 61, report: undefined });
    void pull();
    await clock.advanceTo(80);
    expect(waits).to.have.length(3);
    expect(waits[2].at).to.equal(71);
    expect(waits[2].report!.message.value!.toString()).to.equal('message-0');
    await producer.stop();
  });
});
