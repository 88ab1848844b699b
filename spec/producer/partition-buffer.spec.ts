import { expect } from 'chai';
import { IdempotentState } from '../../lib/producer/idempotence.js';
import { PartitionBuffer, PartitionBuffers, type ProducerIdentity, type SealedBatch } from '../../lib/producer/partition-buffer.js';
import type { PendingMessage } from '../../lib/producer/message.js';

function batch(partition: number, baseSequence: number, count: number, producerEpoch = 0, producerId = 7n): SealedBatch {
  return { partition, messages: Array.from({ length: count }, () => ({ sealed: null }) as unknown as PendingMessage), producerId, producerEpoch, baseSequence, records: null, done: false };
}

describe('PartitionBuffer: what an acknowledgement proves', () => {
  it('knows an older batch was written once a later one of its partition is acknowledged under the same id and epoch', () => {
    const sequences = new PartitionBuffer('t', 0);
    const older = batch(0, 0, 10);
    sequences.acknowledged(batch(0, 10, 5));
    expect(sequences.writtenBeforeAcknowledged(older)).to.equal(true);
  });

  it('proves nothing for the acknowledged batch itself, a later one, another partition, epoch or id', () => {
    const sequences = new PartitionBuffer('t', 0);
    sequences.acknowledged(batch(0, 10, 5));
    expect(sequences.writtenBeforeAcknowledged(batch(0, 10, 5))).to.equal(false);
    expect(sequences.writtenBeforeAcknowledged(batch(0, 15, 5))).to.equal(false);
    expect(new PartitionBuffer('t', 1).writtenBeforeAcknowledged(batch(1, 0, 5)), 'another partition').to.equal(false);
    expect(sequences.writtenBeforeAcknowledged(batch(0, 0, 5, 1))).to.equal(false);
    expect(sequences.writtenBeforeAcknowledged(batch(0, 0, 5, 0, 8n))).to.equal(false);
  });

  it('keeps the furthest acknowledgement of an epoch, and follows a new epoch', () => {
    const sequences = new PartitionBuffer('t', 0);
    sequences.acknowledged(batch(0, 20, 5));
    sequences.acknowledged(batch(0, 10, 5));
    expect(sequences.writtenBeforeAcknowledged(batch(0, 15, 5))).to.equal(true);
    sequences.acknowledged(batch(0, 0, 3, 1));
    expect(sequences.writtenBeforeAcknowledged(batch(0, 15, 5))).to.equal(false);
  });

  it('leaves a batch proven written out of an epoch bump: it is delivered as it is, the others renumbered from 0', () => {
    const sequences = new PartitionBuffer('t', 0);
    const older = batch(0, 0, 10);
    const acked = batch(0, 10, 5);
    const newer = batch(0, 15, 4);
    for (const b of [older, acked, newer]) sequences.seal(b);
    sequences.finished(acked, false);
    const renumbered = sequences.renumber({ producerId: 7n, producerEpoch: 1 });
    expect(renumbered).to.deep.equal([newer]);
    expect(older.provenWritten).to.equal(true);
    expect(older.baseSequence).to.equal(0);
    expect(newer.baseSequence).to.equal(0);
    expect(newer.producerEpoch).to.equal(1);
    expect(sequences.peekSequence()).to.equal(4);
    expect(sequences.oldest()).to.equal(newer);
  });
});

function accepted(buffer: PartitionBuffer, count: number): PendingMessage[] {
  return Array.from({ length: count }, () => {
    const message = { sealed: null, settled: false, ordinal: 0 } as unknown as PendingMessage;
    buffer.accept(message);
    return message;
  });
}

function sealFrom(buffer: PartitionBuffer, messages: PendingMessage[], identity = { producerId: 7n, producerEpoch: 0 }): SealedBatch {
  const sealed: SealedBatch = { partition: buffer.partition, messages, ...identity, baseSequence: buffer.peekSequence(), records: null, done: false };
  buffer.seal(sealed);
  return sealed;
}

describe('PartitionBuffer: sequence numbers', () => {
  it('numbers batches one after the other from 0, and wraps after the int32 maximum', () => {
    const buffer = new PartitionBuffer('t', 0);
    const first = sealFrom(buffer, accepted(buffer, 3));
    const second = sealFrom(buffer, accepted(buffer, 2));
    expect([first.baseSequence, second.baseSequence, buffer.peekSequence()]).to.deep.equal([0, 3, 5]);
    expect(first.messages.every((m) => m.sealed === first)).to.equal(true);
    const near = new PartitionBuffer('t', 1);
    near.seal({ partition: 1, messages: accepted(near, 1), producerId: 7n, producerEpoch: 0, baseSequence: 2 ** 31 - 2, records: null, done: false });
    expect(near.peekSequence()).to.equal(2 ** 31 - 1);
    sealFrom(near, accepted(near, 2));
    expect(near.peekSequence(), 'wrapped').to.equal(1);
  });

  it('keeps one batch open until the broker has confirmed the producer id here, then any number', () => {
    const buffer = new PartitionBuffer('t', 0);
    const first = sealFrom(buffer, accepted(buffer, 2));
    const waiting = accepted(buffer, 2);
    expect(buffer.isProbing()).to.equal(true);
    expect(buffer.sealable(waiting)).to.deep.equal({ now: [], later: waiting });
    buffer.finished(first, false);
    expect(buffer.isConfirmed).to.equal(true);
    expect(buffer.sealable(waiting).now).to.deep.equal(waiting);
    const second = sealFrom(buffer, waiting.slice(0, 1));
    const third = sealFrom(buffer, waiting.slice(1));
    expect(buffer.isProbing()).to.equal(false);
    expect([buffer.isOldest(second), buffer.isOldest(third)]).to.deep.equal([true, false]);
    buffer.forgetConfirmation();
    expect(buffer.isProbing(), 'a new producer id probes again').to.equal(true);
  });

  it('a failed first batch confirms nothing, and leaves the oldest open batch to the next', () => {
    const buffer = new PartitionBuffer('t', 0);
    const first = sealFrom(buffer, accepted(buffer, 1));
    buffer.finished(first, true);
    expect(buffer.isConfirmed).to.equal(false);
    expect(first.done).to.equal(true);
    expect(buffer.oldest()).to.equal(undefined);
    const second = sealFrom(buffer, accepted(buffer, 1));
    expect(buffer.isOldest(second)).to.equal(true);
  });
});

describe('PartitionBuffer: accept order', () => {
  it('lets a message take sequence numbers only once every older one has them or its outcome', () => {
    const buffer = new PartitionBuffer('t', 0);
    const [a, b, c, d] = accepted(buffer, 4);
    buffer.finished(sealFrom(buffer, []), false);
    // c and d reach the planner before a and b (a and b were on a leader that died).
    expect(buffer.sealable([c, d])).to.deep.equal({ now: [], later: [c, d] });
    expect(buffer.sealable([b, a])).to.deep.equal({ now: [a, b], later: [] });
    sealFrom(buffer, [a]);
    (b as { settled: boolean }).settled = true;
    expect(buffer.oldestUnsealed()).to.equal(c);
    expect(buffer.sealable([d, c])).to.deep.equal({ now: [c, d], later: [] });
  });

  it('keeps accept order across the compaction of a long run of sealed messages', () => {
    const buffer = new PartitionBuffer('t', 0);
    buffer.finished(sealFrom(buffer, []), false);
    const first = accepted(buffer, 9000);
    for (let i = 0; i < first.length; i += 500) sealFrom(buffer, first.slice(i, i + 500));
    const rest = accepted(buffer, 3);
    // 9,000 passed of 9,003: the list is compacted here.
    expect(buffer.oldestUnsealed()).to.equal(rest[0]);
    expect(buffer.sealable([rest[2], rest[1]])).to.deep.equal({ now: [], later: [rest[1], rest[2]] });
    const more = accepted(buffer, 2);
    expect(more.map((m) => m.ordinal)).to.deep.equal([9003, 9004]);
    expect(buffer.sealable([...more, ...rest])).to.deep.equal({ now: [...rest, ...more], later: [] });
    sealFrom(buffer, [...rest, more[0]]);
    expect(buffer.oldestUnsealed()).to.equal(more[1]);
    (more[1] as { settled: boolean }).settled = true;
    const last = accepted(buffer, 1);
    expect(buffer.oldestUnsealed()).to.equal(last[0]);
    expect(buffer.sealable(last)).to.deep.equal({ now: last, later: [] });
  });

  it('keeps a long unsealed tail in accept order across a compaction, sealed batch by batch from the head', () => {
    const buffer = new PartitionBuffer('t', 0);
    buffer.finished(sealFrom(buffer, []), false);
    const all = accepted(buffer, 7000);
    for (let i = 0; i < 5000; i += 1000) sealFrom(buffer, all.slice(i, i + 1000));
    // 5,000 passed of 7,000: compacted on this look, the 2,000 unsealed kept in order.
    expect(buffer.oldestUnsealed()).to.equal(all[5000]);
    const tail = all.slice(5000);
    expect(buffer.sealable([...tail].reverse())).to.deep.equal({ now: tail, later: [] });
    sealFrom(buffer, tail.slice(0, 1999));
    expect(buffer.oldestUnsealed()).to.equal(all[6999]);
    const next = accepted(buffer, 1);
    expect(next[0].ordinal).to.equal(7000);
    expect(buffer.sealable([next[0]])).to.deep.equal({ now: [], later: [next[0]] });
    expect(buffer.sealable([next[0], all[6999]])).to.deep.equal({ now: [all[6999], next[0]], later: [] });
  });

  it('parks messages until the oldest unsealed one is parked too, then releases them in accept order, settled ones left out', () => {
    const buffer = new PartitionBuffer('t', 0);
    buffer.finished(sealFrom(buffer, []), false);
    const [a, b, c, d] = accepted(buffer, 4);
    buffer.park(d);
    buffer.park(c);
    expect(buffer.hasWaiting).to.equal(true);
    expect(buffer.release(), 'a and b are still on their way').to.deep.equal([]);
    sealFrom(buffer, [a]);
    expect(buffer.release(), 'b is still on its way').to.deep.equal([]);
    (c as { settled: boolean }).settled = true; // expired while parked
    buffer.park(b);
    expect(buffer.release()).to.deep.equal([b, d]);
    expect(buffer.hasWaiting).to.equal(false);
  });

  it('holds parked messages while the first batch of a new producer id waits for its answer', () => {
    const buffer = new PartitionBuffer('t', 0);
    const [a, b] = accepted(buffer, 2);
    const probe = sealFrom(buffer, [a]);
    buffer.park(b);
    expect(buffer.release()).to.deep.equal([]);
    buffer.finished(probe, false);
    expect(buffer.release()).to.deep.equal([b]);
  });

  it('holds a batch refused as out of order until every older batch is done, then releases the held ones in sequence order', () => {
    const buffer = new PartitionBuffer('t', 0);
    const older = sealFrom(buffer, accepted(buffer, 2));
    buffer.finished(older, false);
    const oldest = sealFrom(buffer, accepted(buffer, 2));
    const second = sealFrom(buffer, accepted(buffer, 1));
    const third = sealFrom(buffer, accepted(buffer, 3));
    buffer.hold(third);
    buffer.hold(second);
    expect(buffer.release(), 'the oldest batch is still under way').to.deep.equal([]);
    buffer.finished(oldest, false);
    expect(buffer.release()).to.deep.equal([...second.messages, ...third.messages]);
    expect(buffer.hasWaiting).to.equal(false);
  });

  it('forgets a held batch that got its outcome while it waited', () => {
    const buffer = new PartitionBuffer('t', 0);
    buffer.finished(sealFrom(buffer, []), false);
    const oldest = sealFrom(buffer, accepted(buffer, 1));
    const held = sealFrom(buffer, accepted(buffer, 1));
    buffer.hold(held);
    buffer.finished(held, true); // expired while held
    buffer.finished(oldest, false);
    expect(buffer.release()).to.deep.equal([]);
    expect(buffer.hasWaiting).to.equal(false);
  });
});

describe('IdempotentState: epoch bump', () => {
  it('bumps the epoch itself once nothing is in flight and renumbers every partition from 0 under it', async () => {
    const buffers = new PartitionBuffers();
    const calls: Array<ProducerIdentity | null> = [];
    const state = new IdempotentState(buffers, async (current) => {
      calls.push(current);
      return { producerId: 7n, producerEpoch: 0 };
    });
    await state.start();
    const p0 = buffers.of('t', 0);
    const p1 = buffers.of('u', 0);
    const first = sealFrom(p0, accepted(p0, 3), state.identity);
    const second = sealFrom(p0, accepted(p0, 2), state.identity);
    const other = sealFrom(p1, accepted(p1, 4), state.identity);
    p0.finished(first, true);
    state.resetNeeded = true;
    state.inFlightRequests = 1;
    expect(await state.prepare(), 'waits for the request in flight').to.equal(false);
    state.inFlightRequests = 0;
    expect(await state.prepare()).to.equal(true);
    expect(state.identity).to.deep.equal({ producerId: 7n, producerEpoch: 1 });
    expect(state.epochBumps).to.equal(1);
    expect(calls, 'InitProducerId only at start').to.deep.equal([null]);
    expect([second.baseSequence, second.producerEpoch, second.records]).to.deep.equal([0, 1, null]);
    expect([other.baseSequence, other.producerEpoch]).to.deep.equal([0, 1]);
    expect(p0.peekSequence()).to.equal(2);
    expect(p1.peekSequence()).to.equal(4);
    expect(buffers.of('t', 0), 'keyed by topic and partition').to.not.equal(buffers.of('u', 0));
  });

  it('asks for a new producer id once the epoch is exhausted, and every partition probes again', async () => {
    const buffers = new PartitionBuffers();
    const state = new IdempotentState(buffers, async (current) => (current === null ? { producerId: 7n, producerEpoch: 32767 } : { producerId: 8n, producerEpoch: 0 }));
    await state.start();
    const p0 = buffers.of('t', 0);
    p0.finished(sealFrom(p0, accepted(p0, 1), state.identity), false);
    expect(p0.isConfirmed).to.equal(true);
    state.resetNeeded = true;
    await state.prepare();
    expect(state.identity).to.deep.equal({ producerId: 8n, producerEpoch: 0 });
    expect(p0.isConfirmed).to.equal(false);
  });
});

describe('PartitionBuffers', () => {
  it('gives one buffer per topic and partition, whichever topic was looked up last, and lists each once', () => {
    const buffers = new PartitionBuffers();
    const t3 = buffers.of('t', 3);
    const u3 = buffers.of('u', 3);
    const t0 = buffers.of('t', 0);
    expect(buffers.of('t', 3)).to.equal(t3);
    expect(buffers.of('u', 3)).to.equal(u3);
    expect(buffers.of('t', 0)).to.equal(t0);
    expect(u3).to.not.equal(t3);
    expect([t3.topic, t3.partition, u3.topic, u3.partition]).to.deep.equal(['t', 3, 'u', 3]);
    expect([...buffers]).to.have.members([t3, u3, t0]);
    expect([...buffers]).to.have.length(3);
  });
});
