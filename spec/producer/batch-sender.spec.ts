import { expect } from 'chai';
import { lastValueFrom, merge, type Subscription } from 'rxjs';
import { DeliveryTimeoutError } from '../../lib/errors/index.js';
import { BatchSender, type SenderContext } from '../../lib/producer/batch-sender.js';
import { DeliveryOutcomes } from '../../lib/producer/delivery-reports.js';
import { IdempotentState } from '../../lib/producer/idempotence.js';
import { PartitionBuffers, type SealedBatch } from '../../lib/producer/partition-buffer.js';
import type { ProducerOptions } from '../../lib/producer/options.js';
import { PendingMessage, type DeliveryReport } from '../../lib/producer/message.js';
import { resolveProducerOptions } from '../../lib/producer/options.js';
import { ProducerStats } from '../../lib/producer/stats.js';
import { encodeRecordBatch } from '../../lib/records/record-batch.js';
import { FakeTransport } from '../support/fake-transport.js';
import { virtualClock } from '../support/virtual-clock.js';

function message(value: string, deadline: number): PendingMessage {
  const bytes = Buffer.from(value);
  const pending = new PendingMessage<unknown, unknown>('t', 0, Date.now(), bytes, null, undefined, bytes, undefined, deadline, bytes.length + 24);
  pending.broker = 0;
  return pending;
}

describe('BatchSender', () => {
  it('does not send again the batch-mates of a message that expired: its sealed batch fails whole, once', async () => {
    const transport = new FakeTransport(1);
    const outcomes = new DeliveryOutcomes(false, 100);
    const context: SenderContext = {
      options: resolveProducerOptions({ requiredAcks: 1, retryBackoffMs: 0 }),
      transport,
      outcomes,
      stats: new ProducerStats(),
      idempotence: null,
    };
    // A sealed batch as an earlier attempt left it: `early` accepted first with the later deadline,
    // `late` accepted after waiting for room in the queue, its deadline (set before it waited) passed.
    const early = message('early', Date.now() + 60_000);
    const late = message('late', Date.now() - 1);
    const sealed: SealedBatch = { partition: 0, messages: [early, late], producerId: 7n, producerEpoch: 0, baseSequence: 0, records: encodeRecordBatch([early, late]), done: false };
    for (const m of [early, late]) {
      m.sealed = sealed;
      m.attempts = 1;
      outcomes.track(m);
    }
    const reports: DeliveryReport[] = [];
    early.onReport = late.onReport = (report) => reports.push(report);

    await lastValueFrom(new BatchSender(context).send([early, late]));

    expect(transport.sent, 'requests sent after the batch had failed').to.deep.equal([]);
    expect(reports.map((r) => r.message.value?.toString())).to.have.members(['early', 'late']);
    expect(reports).to.have.length(2);
    for (const report of reports) expect(report.error).to.be.instanceOf(DeliveryTimeoutError);
    expect(outcomes.pendingCount).to.equal(0);
  });

  it('sends again a batch its answer says nothing of, in a request of one batch or of several: retried once, then delivered', async () => {
    for (const partitions of [[0], [0, 1]]) {
      const transport = new FakeTransport(2);
      const outcomes = new DeliveryOutcomes(false, 100);
      const stats = new ProducerStats();
      const context: SenderContext = { options: resolveProducerOptions({ requiredAcks: 1, retryBackoffMs: 0 }), transport, outcomes, stats, idempotence: null };
      const reports: DeliveryReport[] = [];
      const messages = partitions.map((partition) => {
        const m = message(`m${partition}`, Date.now() + 60_000);
        m.partition = partition;
        m.onReport = (report) => reports.push(report);
        outcomes.track(m);
        return m;
      });
      transport.unansweredNext.add(0);

      await lastValueFrom(new BatchSender(context).send(messages));

      expect(reports.map((r) => [r.message.value?.toString(), r.error]), `partitions ${partitions}`).to.have.deep.members(partitions.map((p) => [`m${p}`, undefined]));
      expect(transport.sent.map((s) => s.partition), 'the unanswered batch sent again, alone').to.deep.equal([...partitions, 0]);
      expect(messages.map((m) => m.attempts)).to.deep.equal(partitions.map((p) => (p === 0 ? 2 : 1)));
      expect(stats.errors).to.equal(1);
      expect(outcomes.pendingCount).to.equal(0);
    }
  });
});

/** A sender wired as the producer wires it, idempotent, over a FakeTransport. */
class IdempotentRig {
  readonly buffers = new PartitionBuffers();
  readonly outcomes = new DeliveryOutcomes(false, 1000);
  readonly reports: DeliveryReport[] = [];
  readonly idempotence: IdempotentState;
  readonly sender: BatchSender;
  private readonly running: Subscription;

  constructor(readonly transport: FakeTransport, options: ProducerOptions = {}) {
    this.idempotence = new IdempotentState(this.buffers, (current) => transport.initProducerId(current));
    this.sender = new BatchSender({
      options: resolveProducerOptions({ requiredAcks: -1, retryBackoffMs: 5, ...options }),
      transport,
      outcomes: this.outcomes,
      stats: new ProducerStats(),
      idempotence: this.idempotence,
    });
    this.running = this.sender.releasedSends$.subscribe();
  }

  /** Messages accepted in this order, as produce() accepts them. */
  accept(partition: number, ...values: string[]): PendingMessage[] {
    return values.map((value) => {
      const bytes = Buffer.from(value);
      const m = new PendingMessage<unknown, unknown>('t', partition, Date.now(), bytes, null, undefined, bytes, undefined, Date.now() + 60_000, bytes.length + 24);
      m.broker = this.transport.leaderOf('t', partition);
      m.buffer = this.buffers.of('t', partition);
      m.buffer.accept(m);
      m.onReport = (report) => this.reports.push(report);
      this.outcomes.track(m);
      return m;
    });
  }

  async settle(...batches: PendingMessage[][]): Promise<void> {
    await this.idempotence.start();
    await lastValueFrom(merge(...batches.map((batch) => this.sender.send(batch))));
    await this.outcomes.whenIdle();
    this.running.unsubscribe();
  }

  /** Acknowledged values in offset order. */
  written(): string[] {
    expect(this.reports.filter((r) => r.error).map((r) => r.error!.message)).to.deep.equal([]);
    return [...this.reports].sort((a, b) => Number(a.message.offset - b.message.offset)).map((r) => r.message.value!.toString());
  }
}

describe('BatchSender: idempotent answers', () => {
  it('numbers a partition\'s batches in accept order and the broker takes them in that order', async () => {
    const rig = new IdempotentRig(new FakeTransport(2));
    await rig.settle([...rig.accept(0, 'a', 'b'), ...rig.accept(1, 'x')]);
    const next = new IdempotentRig(rig.transport);
    expect(rig.written().sort()).to.deep.equal(['a', 'b', 'x']);
    expect(rig.buffers.of('t', 0).peekSequence()).to.equal(2);
    expect(rig.buffers.of('t', 1).peekSequence()).to.equal(1);
    expect(next.buffers.of('t', 0).peekSequence(), 'state belongs to the producer, not the module').to.equal(0);
  });

  it('sends a sealed batch again, after its answered attempt gave back its bytes, exactly as first encoded', async () => {
    const rig = new IdempotentRig(new FakeTransport(1));
    rig.transport.failNext(0, 6); // NOT_LEADER_OR_FOLLOWER: retriable, the batch keeps its sequence numbers
    const messages = rig.accept(0, 'a', 'b', 'c');
    await rig.settle(messages);
    expect(rig.transport.arrived).to.have.length(2);
    expect(rig.transport.arrived[1].equals(rig.transport.arrived[0]), 'the same bytes: same producer id, epoch, sequence, records').to.equal(true);
    expect(rig.written()).to.deep.equal(['a', 'b', 'c']);
    expect(rig.transport.logEnd(0)).to.equal(3n);
  });

  it('delivers a batch whose answer was lost once the broker calls its resend a duplicate, written once', async () => {
    const rig = new IdempotentRig(new FakeTransport(1));
    rig.transport.loseAnswers = 1;
    await rig.settle(rig.accept(0, 'a', 'b', 'c'));
    expect(rig.reports).to.have.length(3);
    expect(rig.reports.every((r) => r.error === undefined)).to.equal(true);
    expect(rig.transport.duplicatesRejected).to.equal(1);
    expect(rig.transport.logEnd(0)).to.equal(3n);
  });

  it('holds a batch refused as out of order behind an older one that failed, and sends it once the older one is written', async () => {
    const rig = new IdempotentRig(new FakeTransport(1));
    await rig.settle(rig.accept(0, 'first')); // the partition now knows the producer id
    // Two batches in flight at once.
    const older = rig.accept(0, 'a', 'b');
    const newer = rig.accept(0, 'c');
    rig.transport.ackDelayMs = 5;
    rig.transport.failNext(0, 19); // NOT_ENOUGH_REPLICAS: the older batch is not written
    const running = rig.sender.releasedSends$.subscribe();
    await lastValueFrom(merge(rig.sender.send(older), rig.sender.send(newer)));
    await rig.outcomes.whenIdle();
    running.unsubscribe();
    expect(rig.written()).to.deep.equal(['first', 'a', 'b', 'c']);
    const codes = rig.transport.sent.map((s) => s.count);
    // older refused (19), newer refused out of order (45) and held, older again, then newer.
    expect(codes).to.deep.equal([1, 2, 1, 2, 1]);
    expect(rig.idempotence.epochBumps).to.equal(0);
  });

  it('bumps the epoch when the broker forgot the producer (UNKNOWN_PRODUCER_ID) and writes the batch renumbered', async () => {
    const rig = new IdempotentRig(new FakeTransport(1));
    rig.transport.failNext(0, 59);
    await rig.settle(rig.accept(0, 'a', 'b'));
    expect(rig.written()).to.deep.equal(['a', 'b']);
    expect(rig.idempotence.epochBumps).to.equal(1);
    expect(rig.idempotence.identity.producerEpoch).to.equal(1);
  });

  it('keeps accept order when newer messages reach the sender before older ones (a leader move): the newer wait in their buffer', async () => {
    const rig = new IdempotentRig(new FakeTransport(1));
    await rig.settle(rig.accept(0, 'first'));
    const older = rig.accept(0, 'a', 'b', 'c');
    const newer = rig.accept(0, 'd', 'e');
    const running = rig.sender.releasedSends$.subscribe();
    await lastValueFrom(rig.sender.send(newer));
    expect(rig.buffers.of('t', 0).hasWaiting, 'd and e wait for a, b and c').to.equal(true);
    expect(rig.transport.sent).to.have.length(1);
    await lastValueFrom(rig.sender.send(older));
    await rig.outcomes.whenIdle();
    running.unsubscribe();
    expect(rig.written()).to.deep.equal(['first', 'a', 'b', 'c', 'd', 'e']);
  });
});

describe('BatchSender: messages of interleaved partitions', () => {
  /** Messages in accept order over the given partitions, as the round-robin partitioner spreads them. */
  async function sendInterleaved(partitions: Array<number | [string, number]>, transport: FakeTransport): Promise<string[]> {
    const outcomes = new DeliveryOutcomes(false, 100);
    const reports: DeliveryReport[] = [];
    const batch = partitions.map((entry, i) => {
      const [topic, partition] = typeof entry === 'number' ? ['t', entry] : entry;
      const bytes = Buffer.from(`m${i}`);
      const m = new PendingMessage<unknown, unknown>(topic, partition, Date.now(), bytes, null, undefined, bytes, undefined, Date.now() + 60_000, bytes.length + 24);
      m.broker = transport.leaderOf(topic, partition);
      m.onReport = (report) => reports.push(report);
      outcomes.track(m);
      return m;
    });
    const context: SenderContext = { options: resolveProducerOptions({ requiredAcks: 1 }), transport, outcomes, stats: new ProducerStats(), idempotence: null };
    await lastValueFrom(new BatchSender(context).send(batch));
    expect(reports.filter((r) => r.error !== undefined)).to.deep.equal([]);
    return reports.map((r) => r.message.value!.toString()).sort();
  }

  it('sends partitions that take turns in one request when they share a leader', async () => {
    const transport = new FakeTransport(3, 1);
    const written = await sendInterleaved([0, 1, 2, 0, 1, 2, 0], transport);
    expect(written).to.have.length(7);
    expect(new Set(transport.sent.map((s) => s.broker))).to.deep.equal(new Set([0]));
    expect(transport.sent.map((s) => [s.partition, s.count]).sort()).to.deep.equal([[0, 3], [1, 2], [2, 2]]);
  });

  it('splits by leader when a partition first seen late has another leader than the partitions seen before it', async () => {
    // Leaders: partitions 0 and 2 on broker 0, partition 1 on broker 1; partition 1 comes last.
    const transport = new FakeTransport(3, 2);
    const written = await sendInterleaved([0, 2, 0, 2, 0, 1], transport);
    expect(written).to.have.length(6);
    expect(transport.sent.map((s) => [s.broker, s.partition, s.count]).sort()).to.deep.equal([[0, 0, 3], [0, 2, 2], [1, 1, 1]]);
  });

  it('splits by leader when a partition of a second topic has another leader than the first topic\'s', async () => {
    // Partition 0 on broker 0 and partition 1 on broker 1, in both topics; only topic u writes to partition 1.
    const transport = new FakeTransport(2, 2);
    const written = await sendInterleaved([['t', 0], ['u', 0], ['t', 0], ['u', 1]], transport);
    expect(written).to.have.length(4);
    expect(transport.sent.map((s) => [s.broker, s.partition, s.count]).sort()).to.deep.equal([[0, 0, 1], [0, 0, 2], [1, 1, 1]]);
  });
});

describe('BatchSender: leader moves', () => {
  it('sends a batch whose leader moved mid-flight to the new leader, at once, without a pause (virtual time)', async () => {
    const clock = virtualClock();
    const transport = new FakeTransport(2, 2);
    transport.scheduler = clock.scheduler;
    const rig = new IdempotentRig(transport, { retryBackoffMs: 5_000, retryBackoffMaxMs: 5_000, scheduler: clock.scheduler });
    transport.ackDelayMs = 20;
    const batch = [...rig.accept(0, 'a', 'b'), ...rig.accept(1, 'x')];
    clock.scheduler.schedule(() => transport.moveLeader(0, 1), 5);
    let settledAt = -1;
    const settled = rig.settle(batch).then(() => (settledAt = clock.scheduler.frame));
    // Answers take 20 ms each: a re-send at once is done by ~60 ms; a backoff would end at 5,000.
    for (let t = 0; t < 4_999 && settledAt < 0; t += 10) await clock.advanceTo(t);
    expect(settledAt, 'settled before the 5 s backoff could end').to.be.within(0, 200);
    await settled;
    expect(rig.written().sort()).to.deep.equal(['a', 'b', 'x']);
    expect(transport.sent.map((s) => [s.broker, s.partition])).to.deep.equal([[0, 0], [1, 1], [1, 0]]);
  });

  it('waits without counting attempts while a partition has no leader, and goes on once one is named', async () => {
    const transport = new FakeTransport(1, 2);
    const rig = new IdempotentRig(transport, { maxRetries: 0, retryBackoffMs: 2, retryBackoffMaxMs: 4 });
    transport.setDown(0, true);
    const batch = rig.accept(0, 'a');
    setTimeout(() => {
      transport.moveLeader(0, 1);
    }, 30);
    await rig.settle(batch);
    expect(rig.written()).to.deep.equal(['a']);
    expect(transport.sent.map((s) => s.broker)).to.deep.equal([1]);
  });
});
