import { expect } from 'chai';
import { PartitionBuffer, type SealedBatch } from '../../lib/producer/partition-buffer.js';
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
