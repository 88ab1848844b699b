import { expect } from 'chai';
import { PartitionSequences, type SealedBatch } from '../../lib/producer/idempotence.js';
import type { PendingMessage } from '../../lib/producer/message.js';

function batch(partition: number, baseSequence: number, count: number, producerEpoch = 0, producerId = 7n): SealedBatch {
  return { partition, messages: new Array(count).fill(null) as PendingMessage[], producerId, producerEpoch, baseSequence, records: null, done: false };
}

describe('PartitionSequences: what an acknowledgement proves', () => {
  it('knows an older batch was written once a later one of its partition is acknowledged under the same id and epoch', () => {
    const sequences = new PartitionSequences();
    const older = batch(0, 0, 10);
    sequences.acknowledged(batch(0, 10, 5));
    expect(sequences.writtenBeforeAcknowledged(older)).to.equal(true);
  });

  it('proves nothing for the acknowledged batch itself, a later one, another partition, epoch or id', () => {
    const sequences = new PartitionSequences();
    sequences.acknowledged(batch(0, 10, 5));
    expect(sequences.writtenBeforeAcknowledged(batch(0, 10, 5))).to.equal(false);
    expect(sequences.writtenBeforeAcknowledged(batch(0, 15, 5))).to.equal(false);
    expect(sequences.writtenBeforeAcknowledged(batch(1, 0, 5))).to.equal(false);
    expect(sequences.writtenBeforeAcknowledged(batch(0, 0, 5, 1))).to.equal(false);
    expect(sequences.writtenBeforeAcknowledged(batch(0, 0, 5, 0, 8n))).to.equal(false);
  });

  it('keeps the furthest acknowledgement of an epoch, and follows a new epoch', () => {
    const sequences = new PartitionSequences();
    sequences.acknowledged(batch(0, 20, 5));
    sequences.acknowledged(batch(0, 10, 5));
    expect(sequences.writtenBeforeAcknowledged(batch(0, 15, 5))).to.equal(true);
    sequences.acknowledged(batch(0, 0, 3, 1));
    expect(sequences.writtenBeforeAcknowledged(batch(0, 15, 5))).to.equal(false);
  });
});
