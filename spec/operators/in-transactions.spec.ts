import { expect } from 'chai';
import { tap, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ConfigError, ProducerFencedError, QueueFullError, TransactionAbortableError, TransactionAbortedError, type KafkaRxError } from '../../lib/errors/index.js';
import type { DeliveryReport } from '../../lib/producer/message.js';
import type { RecordFields } from '../../lib/producer/record.js';
import type { GroupMetadata, OffsetToCommit } from '../../lib/producer/transactions/transaction-manager.js';
import { inTransactions, type TransactionalProducerLike } from '../../operators/in-transactions.js';
import { ProducerDouble } from '../support/producer-double.js';

/** A promise-like settled in virtual time, whose callbacks run at once (no microtask hop). */
class VirtualPromise implements PromiseLike<void> {
  private outcome: { ok: boolean; error?: unknown } | null = null;
  private readonly waiting: Array<[((v: void) => unknown) | null | undefined, ((e: unknown) => unknown) | null | undefined]> = [];

  settle(ok: boolean, error?: unknown): void {
    this.outcome = { ok, error };
    for (const [onOk, onError] of this.waiting.splice(0)) this.run(onOk, onError);
  }

  then<A = void, B = never>(onOk?: ((v: void) => A | PromiseLike<A>) | null, onError?: ((e: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    if (this.outcome === null) this.waiting.push([onOk, onError]);
    else this.run(onOk, onError);
    return new VirtualPromise() as unknown as PromiseLike<A | B>;
  }

  private run(onOk: ((v: void) => unknown) | null | undefined, onError: ((e: unknown) => unknown) | null | undefined): void {
    if (this.outcome!.ok) onOk?.();
    else onError?.(this.outcome!.error);
  }
}

/**
 * A transactional producer double: ProducerDouble's sends and acknowledgements, plus begin, commit
 * and abort logged with their virtual time. A commit waits for every outstanding send (as the
 * producer's does), then takes `endDelay` frames; `commitErrors`/`abortErrors` fail the next ones.
 */
class TransactionalDouble implements TransactionalProducerLike<string, unknown> {
  readonly log: string[] = [];
  readonly commitErrors: KafkaRxError[] = [];
  readonly abortErrors: KafkaRxError[] = [];
  readonly offsetsErrors: KafkaRxError[] = [];
  /** Values the producer refuses before accepting them (its send() rejects, no report). */
  readonly refused = new Map<string, KafkaRxError>();
  readonly sends: ProducerDouble;

  constructor(
    private readonly scheduler: TestScheduler,
    delays: Record<string, number> = {},
    private readonly endDelay = 1,
  ) {
    this.sends = new ProducerDouble(scheduler, delays);
  }

  send(value: string, record: RecordFields<unknown>, onReport: (report: DeliveryReport<string, unknown>) => void): PromiseLike<unknown> {
    const refusal = this.refused.get(value);
    if (refusal === undefined) return this.sends.send(value, record, onReport);
    const refused = new VirtualPromise();
    refused.settle(false, refusal);
    return refused;
  }

  beginTransaction(): void {
    this.log.push(`begin@${this.scheduler.now()}`);
  }

  commitTransaction(): PromiseLike<void> {
    this.log.push(`commit@${this.scheduler.now()}`);
    return this.end(this.commitErrors.shift());
  }

  abortTransaction(): PromiseLike<void> {
    this.log.push(`abort@${this.scheduler.now()}`);
    return this.end(this.abortErrors.shift());
  }

  /** Logged as offsets@T(group:topic/partition=offset,...); answered 1 frame later. */
  sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: GroupMetadata): PromiseLike<void> {
    this.log.push(`offsets@${this.scheduler.now()}(${group.groupId}:${offsets.map((o) => `${o.topic}/${o.partition}=${o.offset}`).join(',')})`);
    const answered = new VirtualPromise();
    const error = this.offsetsErrors.shift();
    this.scheduler.schedule(() => answered.settle(error === undefined, error), 1);
    return answered;
  }

  private end(error: KafkaRxError | undefined): PromiseLike<void> {
    const ended = new VirtualPromise();
    const settleWhenDrained = () => {
      if (this.sends.outstanding > 0) return this.scheduler.schedule(settleWhenDrained, 1);
      this.scheduler.schedule(() => ended.settle(error === undefined, error), this.endDelay);
    };
    settleWhenDrained();
    return ended;
  }
}

function runWith(body: (helpers: Parameters<Parameters<TestScheduler['run']>[0]>[0], scheduler: TestScheduler) => void): void {
  const scheduler = new TestScheduler((actual, expected) => {
    expect(actual).to.deep.equal(expected);
  });
  scheduler.run((helpers) => body(helpers, scheduler));
}

/** What came out, with the frame: "6:1" acknowledged, "6:1!" failed with TransactionAbortedError. */
function collect(source: Observable<DeliveryReport<string, unknown>>, scheduler: TestScheduler) {
  const out: string[] = [];
  let end = '';
  source.subscribe({
    next: (report) => {
      if (report.error !== undefined && !(report.error instanceof TransactionAbortedError)) throw new Error(`unexpected ${report.error.name}`);
      out.push(`${scheduler.now()}:${report.message.input}${report.error ? '!' : ''}`);
    },
    error: (error: Error) => (end = `${scheduler.now()}:error ${error.name}`),
    complete: () => (end = `${scheduler.now()}:complete`),
  });
  return { out, end: () => end };
}

describe('inTransactions', () => {
  it('one transaction per window: begins at the window, commits at its end after every record, emits its reports after the commit', () => {
    runWith(({ cold, hot, flush }, scheduler) => {
      const producer = new TransactionalDouble(scheduler);
      const a = cold('-1-2|');
      const b = cold('-3|');
      const windows = hot('-a------b---|', { a, b });
      const result = collect(windows.pipe(inTransactions(producer)), scheduler);
      flush();
      expect(producer.log).to.deep.equal(['begin@1', 'commit@5', 'begin@8', 'commit@10']);
      // The commit at 5 finds 2's acknowledgement (due at 5) outstanding, sees it done at 6 and
      // ends 1 frame later: the reports come at 7; b's at 12.
      expect(result.out).to.deep.equal(['7:1', '7:2', '12:3']);
      expect(result.end()).to.equal('12:complete');
    });
  });

  it('a window that errors is aborted, its records reported failed; the next window is a new transaction', () => {
    runWith(({ cold, hot, flush, expectSubscriptions }, scheduler) => {
      const producer = new TransactionalDouble(scheduler);
      const a = cold('-1-2-#');
      const b = cold('-3|');
      const windows = hot('-a-------b--|', { a, b });
      const result = collect(windows.pipe(inTransactions(producer)), scheduler);
      flush();
      expect(producer.log).to.deep.equal(['begin@1', 'abort@6', 'begin@9', 'commit@11']);
      expect(result.out).to.deep.equal(['7:1!', '7:2!', '13:3']);
      expect(result.end()).to.equal('13:complete');
      expectSubscriptions(a.subscriptions).toBe('-^----!');
    });
  });

  describe('every value has one report, also those a failed window does not send', () => {
    it('a value whose record cannot be made fails the window: it and the values after it are not sent, each is reported failed with that cause', () => {
      runWith(({ cold, hot, flush }, scheduler) => {
        const producer = new TransactionalDouble(scheduler);
        const unreadable = new Error('cannot map x');
        const toRecord = (v: string) => {
          if (v === 'x') throw unreadable;
          return { value: v };
        };
        const windows = hot('-a------b--|', { a: cold('-1-x-3|'), b: cold('-4|') });
        const reports: DeliveryReport<string, unknown>[] = [];
        const result = collect(windows.pipe(inTransactions(producer, { toRecord }), tap((report) => reports.push(report))), scheduler);
        flush();
        expect(producer.log).to.deep.equal(['begin@1', 'abort@7', 'begin@8', 'commit@10']);
        expect(producer.sends.records.map((r) => r.value)).to.deep.equal(['1', '4']);
        expect(result.out).to.deep.equal(['8:1!', '8:x!', '8:3!', '12:4']);
        const [, x, three] = reports;
        for (const unsent of [x, three]) {
          expect(unsent.error).to.be.instanceOf(TransactionAbortedError);
          expect((unsent.error!.cause as Error).message).to.contain('cannot map x');
          expect(unsent.message).to.include({ partition: -1, offset: -1n, attempts: 0, topic: '' });
        }
        expect(reports[0].message.attempts).to.equal(1);
        expect(result.end()).to.equal('12:complete');
      });
    });

    it('a record the producer refuses (its send rejects, no report) is reported failed with the refusal as cause; the window is aborted', () => {
      runWith(({ cold, hot, flush }, scheduler) => {
        const producer = new TransactionalDouble(scheduler);
        const refusal = new QueueFullError('queue full');
        producer.refused.set('r', refusal);
        const windows = hot('-a------|', { a: cold('-1-r-3|') });
        const reports: DeliveryReport<string, unknown>[] = [];
        const result = collect(windows.pipe(inTransactions(producer, { toRecord: (v: string) => ({ value: v, topic: 'named' }) }), tap((report) => reports.push(report))), scheduler);
        flush();
        expect(producer.log).to.deep.equal(['begin@1', 'abort@7']);
        expect(producer.sends.records.map((r) => r.value)).to.deep.equal(['1']);
        expect(result.out).to.deep.equal(['8:1!', '8:r!', '8:3!']);
        expect(reports[1].error!.cause).to.equal(refusal);
        expect(reports[2].error!.cause).to.equal(refusal);
        expect(reports[1].message).to.include({ topic: 'named', partition: -1, input: 'r' });
        expect(result.end()).to.equal('8:complete');
      });
    });

    it('a held window whose source errors before its turn: none of its values is sent, each is reported failed', () => {
      runWith(({ hot, flush }, scheduler) => {
        const producer = new TransactionalDouble(scheduler, {}, 5);
        const a = hot('--1|');
        const b = hot('----23#', undefined, new Error('window b failed'));
        const windows = hot('-ab------|', { a, b });
        const result = collect(windows.pipe(inTransactions(producer)), scheduler);
        flush();
        expect(producer.log).to.deep.equal(['begin@1', 'commit@3', 'begin@9', 'abort@9']);
        expect(producer.sends.records.map((r) => r.value)).to.deep.equal(['1']);
        expect(result.out).to.deep.equal(['9:1', '14:2!', '14:3!']);
        expect(result.end()).to.equal('14:complete');
      });
    });
  });

  it('windows that come while a transaction ends are held (hot windows lose nothing) and run after it, in order', () => {
    runWith(({ hot, flush }, scheduler) => {
      const producer = new TransactionalDouble(scheduler, {}, 5);
      const a = hot('--1|');
      const b = hot('----2-3|');
      const windows = hot('-ab------|', { a, b });
      const result = collect(windows.pipe(inTransactions(producer)), scheduler);
      flush();
      // a commits at 3 and ends at 3+1(ack)+5 = 9; b's 2 and 3 were held and go out at its begin.
      expect(producer.log).to.deep.equal(['begin@1', 'commit@3', 'begin@9', 'commit@9']);
      expect(result.out).to.deep.equal(['9:1', '15:2', '15:3']);
      expect(result.end()).to.equal('15:complete');
      expect(producer.sends.records.map((r) => r.value)).to.deep.equal(['1', '2', '3']);
    });
  });

  it('a commit that fails (TRANSACTION_ABORTABLE) is followed by an abort: the records are reported failed and the stream goes on', () => {
    runWith(({ cold, hot, flush }, scheduler) => {
      const producer = new TransactionalDouble(scheduler);
      producer.commitErrors.push(new TransactionAbortableError());
      const windows = hot('-a----b--|', { a: cold('-1|'), b: cold('-2|') });
      const result = collect(windows.pipe(inTransactions(producer)), scheduler);
      flush();
      expect(producer.log).to.deep.equal(['begin@1', 'commit@3', 'abort@5', 'begin@6', 'commit@8']);
      expect(result.out).to.deep.equal(['6:1!', '10:2']);
      expect(result.end()).to.equal('10:complete');
    });
  });

  it('fenced (the commit fails and so does the abort): the records are reported failed, then the stream errors', () => {
    runWith(({ cold, hot, flush }, scheduler) => {
      const producer = new TransactionalDouble(scheduler);
      producer.commitErrors.push(new ProducerFencedError());
      producer.abortErrors.push(new ProducerFencedError());
      const windows = hot('-a----b--|', { a: cold('-1|'), b: cold('-2|') });
      const result = collect(windows.pipe(inTransactions(producer)), scheduler);
      flush();
      expect(result.out).to.deep.equal(['6:1!']);
      expect(result.end()).to.equal('6:error ProducerFencedError');
      expect(producer.log).to.deep.equal(['begin@1', 'commit@3', 'abort@5']);
    });
  });

  it('unsubscribed inside a window: stops reading it and aborts the open transaction', () => {
    runWith(({ cold, hot, expectObservable, expectSubscriptions, flush }, scheduler) => {
      const producer = new TransactionalDouble(scheduler);
      const a = cold('-1---2|');
      const windows = hot('-a------|', { a });
      expectObservable(windows.pipe(inTransactions(producer)), '^--!').toBe('----');
      flush();
      expectSubscriptions(a.subscriptions).toBe('-^-!');
      expect(producer.log).to.deep.equal(['begin@1', 'abort@3']);
    });
  });

  it('the source of windows errors: the open transaction is aborted, then the error passes on', () => {
    runWith(({ cold, hot, flush }, scheduler) => {
      const producer = new TransactionalDouble(scheduler);
      const windows = hot('-a--#', { a: cold('-1-----|') }, new Error('the windows failed'));
      const result = collect(windows.pipe(inTransactions(producer)), scheduler);
      flush();
      expect(producer.log).to.deep.equal(['begin@1', 'abort@4']);
      expect(result.end()).to.equal('5:error Error');
    });
  });

  describe('inputOffsets', () => {
    // Values are read from input partition (value % 2) at offset (value).
    const inputOffsets = { group: { groupId: 'g' }, positionOf: (value: string) => ({ topic: 'in', partition: Number(value) % 2, offset: BigInt(value) }) };

    it('each window\'s next offsets per input partition go into its own transaction, just before its commit, also for a window that ended while an earlier one committed', () => {
      runWith(({ hot, flush }, scheduler) => {
        const producer = new TransactionalDouble(scheduler, {}, 5);
        const a = hot('--4-7-6|');
        const b = hot('---------8-9|');
        const windows = hot('-a------b-----|', { a, b });
        const result = collect(windows.pipe(inTransactions(producer, { inputOffsets })), scheduler);
        flush();
        // a's commit (asked at 8, after its offsets' answer) ends at 8+5 = 13; b ended at 12 and
        // waited: its offsets go in its own transaction, after a's.
        expect(producer.log).to.deep.equal(['begin@1', 'offsets@7(g:in/0=7,in/1=8)', 'commit@8', 'begin@13', 'offsets@13(g:in/0=9,in/1=10)', 'commit@14']);
        expect(result.out).to.deep.equal(['13:4', '13:7', '13:6', '19:8', '19:9']);
        expect(result.end()).to.equal('19:complete');
      });
    });

    it('offsets refused (TRANSACTION_ABORTABLE): no commit, the window is aborted, its records reported failed with that cause; the next window goes on', () => {
      runWith(({ cold, hot, flush }, scheduler) => {
        const producer = new TransactionalDouble(scheduler);
        producer.offsetsErrors.push(new TransactionAbortableError());
        const windows = hot('-a------b--|', { a: cold('-1|'), b: cold('-2|') });
        const causes: unknown[] = [];
        const result = collect(windows.pipe(inTransactions(producer, { inputOffsets }), tap((report) => causes.push(report.error?.cause))), scheduler);
        flush();
        expect(producer.log).to.deep.equal(['begin@1', 'offsets@3(g:in/1=2)', 'abort@4', 'begin@8', 'offsets@10(g:in/0=3)', 'commit@11']);
        expect(result.out).to.deep.equal(['5:1!', '12:2']);
        expect(causes[0]).to.be.instanceOf(TransactionAbortableError);
        expect(result.end()).to.equal('12:complete');
      });
    });

    it('a window with no values sends no offsets', () => {
      runWith(({ cold, hot, flush }, scheduler) => {
        const producer = new TransactionalDouble(scheduler);
        const windows = hot('-a--|', { a: cold('-|') });
        collect(windows.pipe(inTransactions(producer, { inputOffsets })), scheduler);
        flush();
        expect(producer.log).to.deep.equal(['begin@1', 'commit@2']);
      });
    });

    it('refuses a producer without sendOffsetsToTransaction()', () => {
      const producer = { send: () => Promise.resolve(), beginTransaction: () => undefined, commitTransaction: () => Promise.resolve(), abortTransaction: () => Promise.resolve() };
      expect(() => inTransactions(producer, { inputOffsets })).to.throw(ConfigError, /inputOffsets/);
    });
  });

  it('toRecord maps each value to its record', () => {
    runWith(({ cold, hot, flush }, scheduler) => {
      const producer = new TransactionalDouble(scheduler);
      const windows = hot('-a--|', { a: cold('-x|') });
      const result = collect(windows.pipe(inTransactions(producer, { toRecord: (v: string) => ({ value: v.toUpperCase(), partition: 2 }) })), scheduler);
      flush();
      expect(producer.sends.records).to.deep.equal([{ value: 'X', record: { partition: 2 } }]);
      expect(result.out).to.deep.equal(['5:X']);
    });
  });
  it('past maxBuffered values held for waiting windows the stream fails with BackpressureOverflowError (a commit under way goes on; an open transaction would be aborted)', () => {
    runWith(({ hot, flush }, scheduler) => {
      const producer = new TransactionalDouble(scheduler, {}, 10);
      const a = hot('--1|');
      const b = hot('----234|');
      const windows = hot('-ab------|', { a, b });
      const result = collect(windows.pipe(inTransactions(producer, { maxBuffered: 2 })), scheduler);
      flush();
      // a's commit (at 3) takes 10 frames; b's third value (at 6) is one too many to hold.
      expect(result.end()).to.equal('6:error BackpressureOverflowError');
      expect(result.out).to.deep.equal([]);
      expect(producer.log).to.deep.equal(['begin@1', 'commit@3']);
    });
  });

  it('refuses a maxBuffered that is not an integer >= 1', () => {
    const producer = { send: () => Promise.resolve(), beginTransaction: () => undefined, commitTransaction: () => Promise.resolve(), abortTransaction: () => Promise.resolve() };
    expect(() => inTransactions(producer, { maxBuffered: 0 })).to.throw(ConfigError);
  });
});
