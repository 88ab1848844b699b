import { expect } from 'chai';
import { DeliveryTimeoutError, MaybeWrittenError, ProducerStoppedError, QueueFullError, RecordTooLargeError, TopicAuthorizationFailedError } from '../../lib/errors/index.js';
import type { DeliveryReport } from '../../lib/producer/message.js';
import { DEFAULT_MAX_QUEUED_BYTES, type ProducerOptions } from '../../lib/producer/options.js';
import { Producer } from '../../lib/producer/producer.js';
import { recordSizeBound } from '../../lib/records/record-batch.js';
import { FakeTransport } from '../support/fake-transport.js';
import { virtualClock } from '../support/virtual-clock.js';

/** Values of one length, so each record's size bound is the same `unit`. */
const value = (i: number) => Buffer.from(`message-${String(i).padStart(4, '0')}`);
const unit = recordSizeBound(null, value(0), undefined);
/** A record whose size bound is between one and two units. */
const large = (i: number) => Buffer.concat([value(i), Buffer.alloc(unit / 2)]);

/** Records linger until flush() or stop(): the spec decides when bytes come back. */
function producerWith(options: ProducerOptions) {
  const clock = virtualClock();
  const transport = new FakeTransport(1);
  const producer = new Producer(transport, 'events', { lingerMs: 60_000, minQueuedMessages: 10_000, retryBackoffMs: 1, scheduler: clock.scheduler, ...options });
  const reports: DeliveryReport[] = [];
  producer.deliveryReports$.subscribe((report) => reports.push(report));
  return { producer, reports, transport, clock };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (error: unknown) => error);
}

describe('Producer maxQueuedBytes (the bytes held from produce() until each outcome, producer-wide)', () => {
  it('defaults to 256 MiB and counts each record by its size bound in stats', async () => {
    const { producer } = producerWith({});
    expect(producer.options.maxQueuedBytes).to.equal(DEFAULT_MAX_QUEUED_BYTES).and.equal(268_435_456);
    await producer.produce(value(0));
    await producer.produce(large(1));
    expect(producer.statsSnapshot().queuedBytes).to.equal(unit + recordSizeBound(null, large(1), undefined));
    await producer.flush();
    expect(producer.statsSnapshot().queuedBytes).to.equal(0);
    await producer.stop();
  });

  it('makes produce() wait for bytes in FIFO order: a later caller never overtakes an earlier one, even when it would fit', async () => {
    expect(recordSizeBound(null, large(0), undefined)).to.be.greaterThan(unit).and.at.most(2 * unit);
    const { producer, reports } = producerWith({ maxQueuedBytes: 3 * unit });
    await producer.produce(value(0));
    await producer.produce(value(1));
    const order: string[] = [];
    // One unit is free: too little for the large record, enough for the small one behind it.
    const first = producer.produce(large(2)).then(() => order.push('large-2'));
    const second = producer.produce(value(3)).then(() => order.push('message-0003'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order, 'both wait while two units are held').to.deep.equal([]);
    expect(producer.statsSnapshot().queuedBytes).to.equal(2 * unit);
    await producer.flush();
    await Promise.all([first, second]);
    expect(order).to.deep.equal(['large-2', 'message-0003']);
    expect(reports.map((r) => r.error)).to.deep.equal([undefined, undefined, undefined, undefined]);
    expect(producer.statsSnapshot().queuedBytes).to.equal(0);
    await producer.stop();
  });

  it('rejects with QueueFullError naming maxQueuedBytes when blockOnQueueFull is false; refused records take and give back nothing', async () => {
    const { producer, reports } = producerWith({ maxQueuedBytes: 2 * unit, blockOnQueueFull: false });
    for (let round = 0; round < 2; round++) {
      await producer.produce(value(0));
      await producer.produce(value(1));
      const refused = [await rejection(producer.produce(value(2))), await rejection(producer.produce(value(3)))];
      for (const error of refused) {
        expect(error).to.be.instanceOf(QueueFullError);
        expect((error as Error).message).to.contain('maxQueuedBytes').and.contain(`${2 * unit}`);
      }
      expect(producer.statsSnapshot().queuedBytes, `round ${round}`).to.equal(2 * unit);
      await producer.flush();
      // Neither leaked (fewer admitted next round) nor given back bytes never taken (more admitted).
      expect(producer.statsSnapshot().queuedBytes, `round ${round} flushed`).to.equal(0);
    }
    expect(reports).to.have.length(4);
    await producer.stop();
  });

  it('gives back the bytes of a record refused by the count bound (maxQueuedMessages) without blocking', async () => {
    const { producer } = producerWith({ maxQueuedMessages: 2, maxQueuedBytes: 3 * unit, blockOnQueueFull: false });
    await producer.produce(value(0));
    await producer.produce(value(1));
    const error = await rejection(producer.produce(value(2)));
    expect(error).to.be.instanceOf(QueueFullError);
    expect((error as Error).message).to.contain('maxQueuedMessages');
    expect(producer.statsSnapshot().queuedBytes).to.equal(2 * unit);
    await producer.stop();
    expect(producer.statsSnapshot().queuedBytes).to.equal(0);
  });

  for (const blockOnQueueFull of [true, false]) {
    it(`refuses at once with RecordTooLargeError a record larger than maxQueuedBytes on its own (blockOnQueueFull ${blockOnQueueFull})`, async () => {
      const { producer, reports } = producerWith({ maxQueuedBytes: unit + 1, blockOnQueueFull });
      await producer.produce(value(0));
      // The budget is full, yet the record is refused for its size, not left waiting.
      const error = await rejection(producer.produce(large(1)));
      expect(error).to.be.instanceOf(RecordTooLargeError);
      expect((error as Error).message).to.contain('maxQueuedBytes').and.contain(`${unit + 1}`);
      await producer.flush();
      expect(reports).to.have.length(1);
      expect(producer.statsSnapshot().queuedBytes).to.equal(0);
      await producer.stop();
    });
  }

  it('gives the bytes back when a record fails, and the records waiting for them are then admitted', async () => {
    const { producer, reports, transport } = producerWith({ maxQueuedBytes: 2 * unit, maxRetries: 0 });
    transport.failNext(0, 29); // TOPIC_AUTHORIZATION_FAILED
    const calls = [0, 1, 2, 3].map((i) => producer.produce(value(i)));
    await producer.flush();
    await Promise.all(calls);
    expect(reports.map((r) => r.error?.constructor)).to.deep.equal([TopicAuthorizationFailedError, TopicAuthorizationFailedError, undefined, undefined]);
    expect(producer.statsSnapshot().queuedBytes).to.equal(0);
    await producer.stop();
  });

  it('gives the bytes back when a record expires (deliveryTimeoutMs), and the records waiting for them are then admitted', async () => {
    const { producer, reports, transport, clock } = producerWith({ maxQueuedBytes: 2 * unit, deliveryTimeoutMs: 100, lingerMs: 0, minQueuedMessages: 1, maxRetries: 1000, retryBackoffMaxMs: 5 });
    transport.setDown(0, true);
    const expiring = [0, 1].map((i) => producer.produce(value(i)));
    await clock.advanceTo(50);
    // Produced at 50, due at 150: admitted when the first two expire at 100, written once the broker is back.
    const waiting = [2, 3].map((i) => producer.produce(value(i)));
    await clock.advanceTo(60);
    expect(producer.statsSnapshot().queuedBytes).to.equal(2 * unit);
    expect(producer.statsSnapshot().pending, 'two waiting for bytes, not accepted').to.equal(2);
    await clock.advanceTo(120);
    expect(reports.map((r) => r.error?.constructor)).to.deep.equal([DeliveryTimeoutError, DeliveryTimeoutError]);
    expect(producer.statsSnapshot().queuedBytes).to.equal(2 * unit);
    transport.setDown(0, false);
    await clock.advanceTo(140);
    await Promise.all([...expiring, ...waiting]);
    expect(reports.map((r) => r.error?.constructor)).to.deep.equal([DeliveryTimeoutError, DeliveryTimeoutError, undefined, undefined]);
    expect(producer.statsSnapshot().queuedBytes).to.equal(0);
    await producer.stop();
  });

  it('stop() giving up: the bytes of records held come back, and records that waited for bytes give back none they did not take', async () => {
    const { producer, reports, transport, clock } = producerWith({ maxQueuedBytes: 2 * unit, pendingTimeoutMs: 100, lingerMs: 0, minQueuedMessages: 1, maxRetries: 1000 });
    transport.setDown(0, true);
    const calls = [0, 1, 2, 3, 4].map((i) => producer.produce(value(i)));
    await clock.advanceTo(10);
    expect(producer.statsSnapshot().queuedBytes).to.equal(2 * unit);
    const stopping = producer.stop();
    await clock.advanceTo(200);
    await stopping;
    const settled = await Promise.allSettled(calls);
    expect(settled.filter((s) => s.status === 'rejected'), 'a call made before stop() is reported, not rejected').to.have.length(0);
    expect(reports).to.have.length(5);
    for (const report of reports) expect(report.error).to.be.instanceOf(ProducerStoppedError);
    expect(reports.filter((r) => r.error instanceof MaybeWrittenError)).to.have.length(0);
    // 2 units taken, 2 given back; the 3 that waited took none and gave none (not -3 units).
    expect(producer.statsSnapshot().queuedBytes).to.equal(0);
  });

  it('lets parked records (behind an idempotent producer\'s unanswered first batch) re-enter their queue without waiting for bytes', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(1);
    transport.scheduler = clock.scheduler;
    transport.ackDelayMs = 5;
    const rounds = 5;
    // Every record's bytes held at once: a re-entering record that waited for bytes would wait forever.
    const producer = new Producer(transport, 'events', {
      requiredAcks: -1, lingerMs: 0, minQueuedMessages: 1, maxInFlightRequestsPerBroker: 5, retryBackoffMs: 1, maxQueuedBytes: 2 * rounds * unit, pendingTimeoutMs: 1_000, scheduler: clock.scheduler,
    });
    const reports: DeliveryReport[] = [];
    producer.deliveryReports$.subscribe((report) => reports.push(report));
    transport.failNext(0, 19); // NOT_ENOUGH_REPLICAS for the first batch: the records behind it are parked until it is written
    const calls: Array<Promise<unknown>> = [];
    for (let round = 0; round < rounds; round++) {
      calls.push(producer.produce(value(2 * round)), producer.produce(value(2 * round + 1)));
      await clock.advanceTo(round + 1);
    }
    expect(producer.statsSnapshot().queuedBytes, 'all held').to.equal(2 * rounds * unit);
    await clock.advanceTo(200);
    await Promise.all(calls);
    expect(reports.filter((r) => r.error)).to.deep.equal([]);
    expect(reports).to.have.length(2 * rounds);
    expect(transport.logEnd(0)).to.equal(BigInt(2 * rounds));
    // The first batch failed and was sent again; the 8 records behind it were parked meanwhile.
    expect(transport.sent.map((b) => b.count)).to.deep.equal([2, 2, 8]);
    expect(producer.statsSnapshot().queuedBytes).to.equal(0);
    await producer.stop();
  });
});
