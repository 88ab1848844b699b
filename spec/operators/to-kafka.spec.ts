import { expect } from 'chai';
import { catchError, map, Observable, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { BackpressureOverflowError, KafkaRxError, NotEnoughReplicasError } from '../../lib/errors/index.js';
import { lazyFrom, toKafka, type SourceReport } from '../../operators/index.js';
import { ProducerDouble } from '../support/producer-double.js';

describe('toKafka (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  const summary = map((report: SourceReport<string, string, unknown>) => (report.error ? `${report.passThrough}!` : report.passThrough));

  it('emits reports in source order by default, whatever order the acknowledgements come in', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, { a: 5, b: 1, c: 2 });
      const result = cold('abc|').pipe(toKafka(producer), summary);
      expectObservable(result).toBe('-----(abc|)');
    });
  });

  it("emits in acknowledgement order with order: 'completion'", () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, { a: 5, b: 1, c: 2 });
      const result = cold('abc|').pipe(toKafka(producer, { order: 'completion' }), summary);
      expectObservable(result).toBe('--b-c(a|)');
    });
  });

  it('completes only after every outstanding report was emitted', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, { a: 3, b: 10 });
      expectObservable(cold('a-b|').pipe(toKafka(producer), summary)).toBe('---a--------(b|)');
    });
  });

  it("lets failed reports flow by default (onError: 'emit')", () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, { a: 1, b: 1, c: 1 }, new Set(['b']));
      expectObservable(cold('a-b-c|').pipe(toKafka(producer), summary)).toBe('-a-b-(c|)', { a: 'a', b: 'b!', c: 'c' });
    });
  });

  it("errors with the first failure after reporting what was in flight (onError: 'fail')", () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const producer = new ProducerDouble(scheduler, { a: 4, b: 1, c: 1, d: 1 }, new Set(['b']));
      const source = cold('abc---d|');
      const result = source.pipe(toKafka(producer, { onError: 'fail' }), summary);
      expectObservable(result).toBe('----(abc#)', { a: 'a', b: 'b!', c: 'c' }, producer.errorFor('b'));
      expectSubscriptions(source.subscriptions).toBe('^---!');
      flush();
      expect(producer.sentValues()).to.deep.equal(['a', 'b', 'c']);
    });
  });

  it('keeps at most maxInFlight records outstanding and never reads a lazy source ahead', () => {
    scheduler.run(({ expectObservable, flush }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 10);
      let read = 0;
      function* values() {
        for (let i = 0; i < 10; i++) {
          read++;
          yield `v${i}`;
        }
      }
      const result = lazyFrom(values()).pipe(toKafka(producer, { maxInFlight: 3 }), map((r) => r.passThrough));
      expectObservable(result).toBe('----------(abc)-----(def)-----(ghi)-----(j|)', {
        a: 'v0', b: 'v1', c: 'v2', d: 'v3', e: 'v4', f: 'v5', g: 'v6', h: 'v7', i: 'v8', j: 'v9',
      });
      flush();
      expect(read).to.equal(10);
      expect(producer.maxOutstanding).to.equal(3);
    });
  });

  it('reads nothing more from a lazy source while the byte budget is spent', () => {
    scheduler.run(({ expectObservable }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 5);
      const big = ['xxxxxxxx', 'yyyyyyyy', 'zz'];
      const result = lazyFrom(big).pipe(toKafka(producer, { maxInFlightBytes: 10 }), map((r) => r.passThrough));
      expectObservable(result).toBe('-----x----(yz|)', { x: 'xxxxxxxx', y: 'yyyyyyyy', z: 'zz' });
    });
  });

  it('fails with BackpressureOverflowError when a source that cannot pause overruns maxBuffered', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 10);
      const result = cold('abcdef|').pipe(
        toKafka(producer, { maxInFlight: 2, maxBuffered: 2 }),
        summary,
        catchError((error) => of(error instanceof BackpressureOverflowError ? 'overflow' : 'other')),
      );
      expectObservable(result).toBe('----(o|)', { o: 'overflow' });
    });
  });

  it('unsubscribes the source the moment it overflows', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 10);
      const source = cold('a-b-c-d-e-f-g|');
      const result = source.pipe(toKafka(producer, { maxInFlight: 2, maxBuffered: 1 }), catchError(() => of('overflow')));
      expectObservable(result).toBe('------(o|)', { o: 'overflow' });
      // a and b are handed over, c waits, d is one too many: e, f and g are never read.
      expectSubscriptions(source.subscriptions).toBe('^-----!');
    });
  });

  it('stops a synchronous source in the middle of its run on overflow, holding no more than the budget', () => {
    scheduler.run(({ expectObservable, flush }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 10);
      let read = 0;
      // As range(0, 1e6): every value emitted synchronously in subscribe, until the subscriber closes.
      const synchronous = new Observable<string>((subscriber) => {
        while (!subscriber.closed && read < 1_000_000) subscriber.next(`v${read++}`);
        subscriber.complete();
      });
      const result = synchronous.pipe(toKafka(producer, { maxInFlight: 2, maxBuffered: 3 }), catchError((error) => of(error instanceof BackpressureOverflowError ? 'overflow' : 'other')));
      expectObservable(result).toBe('(o|)', { o: 'overflow' });
      flush();
      // 2 handed over, 3 buffered, the sixth one too many; nothing read after it.
      expect(read).to.equal(6);
      expect(producer.sentValues()).to.deep.equal(['v0', 'v1']);
    });
  });

  it('turns one value into several records, or none, and reports it when all its records have their outcome', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, { 'a.1': 2, 'a.2': 6, 'b.1': 1 });
      const result = cold('ab-c|').pipe(
        toKafka<string, string, string, unknown>(producer, {
          toRecord: (v) => (v === 'c' ? null : v === 'a' ? [{ value: 'a.1' }, { value: 'a.2' }] : { value: 'b.1' }),
        }),
        map((r) => `${r.passThrough}:${r.reports.length}`),
      );
      expectObservable(result).toBe('------(xyz|)', { x: 'a:2', y: 'b:1', z: 'c:0' });
    });
  });

  it('stops reading on unsubscribe and leaves handed-over records to the producer', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 4);
      const source = cold('a-b-c-d-e-|');
      expectObservable(source.pipe(toKafka(producer), summary), '-----!').toBe('----a-');
      expectSubscriptions(source.subscriptions).toBe('^----!');
      flush();
      expect(producer.sentValues()).to.deep.equal(['a', 'b', 'c']);
      expect(producer.reported).to.equal(3);
    });
  });

  it('carries a pass-through of the caller\'s choosing', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 1);
      const result = cold('a|').pipe(toKafka(producer, { passThrough: (v) => ({ id: v }) }), map((r) => r.passThrough.id));
      expectObservable(result).toBe('-(a|)');
    });
  });

  it('errors at once when the source errors, as a KafkaRxError with the source\'s error as cause', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 5);
      const boom = new Error('source failed');
      const source = cold('a-#', undefined, boom);
      const result = source.pipe(
        toKafka(producer),
        summary,
        catchError((error) => of(error instanceof KafkaRxError && error.cause === boom ? 'E' : 'other')),
      );
      // a's report (due at 5) is not waited for: an error ends the stream when it comes.
      expectObservable(result).toBe('--(E|)');
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('passes a KafkaRxError from the source on unchanged', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 1);
      const typed = new BackpressureOverflowError('upstream overflowed');
      expectObservable(cold('a-#', undefined, typed).pipe(toKafka(producer), summary)).toBe('-a#', { a: 'a' }, typed);
    });
  });

  it('errors when toRecord throws, and stops reading the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 1);
      const source = cold('a-b-c|');
      const result = source.pipe(
        toKafka<string, string, string, unknown>(producer, {
          toRecord: (v) => {
            if (v === 'b') throw new TypeError('no record for b');
            return { value: v };
          },
        }),
        summary,
        catchError((error) => of(error instanceof KafkaRxError && error.cause instanceof TypeError ? 'E' : 'other')),
      );
      expectObservable(result).toBe('-a(E|)');
      expectSubscriptions(source.subscriptions).toBe('^-!');
      flush();
      expect(producer.sentValues()).to.deep.equal(['a']);
    });
  });

  it('unsubscribing while values wait for room drops them: only what was handed over is sent', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const producer = new ProducerDouble(scheduler, {}, new Set(), 4);
      const source = cold('(abcd)-e|');
      expectObservable(source.pipe(toKafka(producer, { maxInFlight: 2 }), summary), '--!').toBe('--');
      expectSubscriptions(source.subscriptions).toBe('^-!');
      flush();
      expect(producer.sentValues()).to.deep.equal(['a', 'b']);
    });
  });

  it('reports a record the producer refuses with its typed error', async () => {
    const producer = {
      topic: 't',
      send: () => Promise.reject(new NotEnoughReplicasError()),
    };
    const { lastValueFrom } = await import('rxjs');
    const report = await lastValueFrom(lazyFrom(['a']).pipe(toKafka(producer)));
    expect(report.error).to.be.instanceOf(KafkaRxError);
  });
});
