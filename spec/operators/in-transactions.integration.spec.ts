// inTransactions against a real broker: windows of a stream become transactions; kcat in
// read_committed mode must see exactly the windows whose reports came out acknowledged.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { concat, ignoreElements, lastValueFrom, mergeMap, range, Subject, tap, throwError, timer, toArray, windowCount, type Observable } from 'rxjs';
import { KafkaClient } from '../../lib/client.js';
import { TransactionAbortedError } from '../../lib/errors/index.js';
import { inTransactions } from '../../operators/in-transactions.js';
import { bootstrap } from '../support/broker.js';
import { groupOffsets } from '../support/group-offsets.js';
import { consumeAll } from '../support/kcat.js';
import { createTopic } from '../support/topics.js';

describe('inTransactions against a real broker', function () {
  this.timeout(120_000);

  it('windows of 100 records are transactions (default options): a window whose source fails is aborted and invisible, the others are read back whole', async () => {
    const run = randomBytes(4).toString('hex');
    const topic = `in-txn-${run}`;
    await createTopic(topic, { partitions: 6 });
    const client = new KafkaClient({ brokers: bootstrap() });
    try {
      const producer = client.producer(topic, { transactionalId: `in-txn-${run}` });
      await producer.initTransactions();
      // 5 windows of 100; the third fails after 50 of its records were handed to the producer.
      // Each window comes once the previous one's reports are out, so each is the open transaction
      // when its records flow (a window already failed when its turn comes sends nothing at all).
      const windows = new Subject<Observable<number>>();
      const windowOf = (w: number): Observable<number> =>
        w === 2
          ? // Its records are flushed (written, in the open transaction) before it fails.
            concat(range(200, 50), timer(50).pipe(mergeMap(() => producer.flush()), ignoreElements()), throwError(() => new Error('window 2 failed')))
          : range(w * 100, 100);
      const boundaries = [100, 200, 250, 350, 450];
      let next = 0;
      const reports = lastValueFrom(
        windows.pipe(
          inTransactions(producer, { toRecord: (i: number) => ({ value: Buffer.from(`r${i}`), partition: i % 6 }) }),
          tap(() => {
            count++;
            if (count === boundaries[next - 1]) setImmediate(emitNext);
          }),
          toArray(),
        ),
      );
      let count = 0;
      const emitNext = () => {
        if (next === boundaries.length) return windows.complete();
        windows.next(windowOf(next++));
      };
      emitNext();
      const all = await reports;
      const acknowledged = all.filter((r) => !r.error).map((r) => r.message.value!.toString()).sort();
      const failed = all.filter((r) => r.error);
      expect(all).to.have.length(450);
      expect(failed).to.have.length(50);
      expect(failed.every((r) => r.error instanceof TransactionAbortedError)).to.equal(true);
      expect(failed.every((r) => Number(r.message.value!.toString().slice(1)) >= 200 && Number(r.message.value!.toString().slice(1)) < 250)).to.equal(true);
      const readCommitted = (await consumeAll(topic, { config: { 'isolation.level': 'read_committed' } })).map((r) => r.value!.toString()).sort();
      expect(readCommitted).to.deep.equal(acknowledged);
      expect(readCommitted).to.have.length(400);
      const readAll = await consumeAll(topic, { config: { 'isolation.level': 'read_uncommitted' } });
      expect(readAll, 'the aborted window was written, then hidden').to.have.length(450);
      await producer.stop();
    } finally {
      await client.close();
    }
  });

  it('inputOffsets: windows that all wait at once are written whole, and the group ends committed at the end of the input (judged by ConsumerGroupCommand and kcat)', async () => {
    const run = randomBytes(4).toString('hex');
    const input = `in-txn-offsets-${run}`;
    const output = `${input}-out`;
    const group = `in-txn-offsets-${run}`;
    await createTopic(input, { partitions: 3 });
    await createTopic(output, { partitions: 3 });
    const client = new KafkaClient({ brokers: bootstrap() });
    try {
      // 600 input records: record i at partition i % 3, offset floor(i / 3).
      const feeder = client.producer(input);
      for (let i = 0; i < 600; i++) await feeder.produce(Buffer.from(`r${i}`), { partition: i % 3 });
      await feeder.stop();
      const producer = client.producer(output, { transactionalId: group });
      await producer.initTransactions();
      // A synchronous source: every window comes (and ends) before the first transaction ends, so
      // offsets sent from inside a window would go into an earlier window's transaction.
      const reports = await lastValueFrom(
        range(0, 600).pipe(
          windowCount(100),
          inTransactions(producer, {
            toRecord: (i: number) => ({ value: Buffer.from(`R${i}`) }),
            inputOffsets: { group: { groupId: group }, positionOf: (i: number) => ({ topic: input, partition: i % 3, offset: BigInt(Math.floor(i / 3)) }) },
          }),
          toArray(),
        ),
      );
      await producer.stop();
      expect(reports.filter((r) => r.error).map((r) => r.error!.message)).to.deep.equal([]);
      expect(reports).to.have.length(600);
      const offsets = await groupOffsets(group);
      expect([0, 1, 2].map((p) => offsets.get(`${input}:${p}`))).to.deep.equal(['200', '200', '200']);
      expect(await consumeAll(output, { config: { 'isolation.level': 'read_committed' } })).to.have.length(600);
    } finally {
      await client.close();
    }
  });
});
