import { expect } from 'chai';
import { catchError, lastValueFrom, map, of, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { KafkaRxError } from '../../lib/errors/index.js';
import { lazyFrom, toKafka } from '../../operators/index.js';
import { ProducerDouble } from '../support/producer-double.js';

describe('lazyFrom', () => {
  describe('read by toKafka (virtual time)', () => {
    let scheduler: TestScheduler;
    beforeEach(() => {
      scheduler = new TestScheduler((actual, expected) => {
        expect(actual).to.deep.equal(expected);
      });
    });

    it('is read one value at a time, only when a report frees room in the budget', () => {
      scheduler.run(({ expectObservable, flush }) => {
        const producer = new ProducerDouble(scheduler, {}, new Set(), 2);
        const readAt: number[] = [];
        function* values() {
          for (const value of ['a', 'b', 'c']) {
            readAt.push(scheduler.now());
            yield value;
          }
        }
        const result = lazyFrom(values()).pipe(toKafka(producer, { maxInFlight: 1 }), map((r) => r.passThrough));
        expectObservable(result).toBe('--a-b-(c|)');
        flush();
        expect(readAt).to.deep.equal([0, 2, 4]);
      });
    });

    it('an iterator that throws ends the stream then, with a KafkaRxError whose cause is what it threw', () => {
      scheduler.run(({ expectObservable }) => {
        const producer = new ProducerDouble(scheduler, {}, new Set(), 2);
        const boom = new Error('the file went away');
        function* values() {
          yield 'a';
          yield 'b';
          throw boom;
        }
        const result = lazyFrom(values()).pipe(
          toKafka(producer, { maxInFlight: 1 }),
          map((r) => r.passThrough),
          catchError((error) => of(error instanceof KafkaRxError && error.cause === boom ? 'E' : 'other')),
        );
        expectObservable(result).toBe('--a-(bE|)');
      });
    });

    it('unsubscribing returns the iterator: a generator\'s finally runs, nothing more is read', () => {
      scheduler.run(({ expectObservable, flush }) => {
        const producer = new ProducerDouble(scheduler, {}, new Set(), 2);
        let read = 0;
        let closed = false;
        function* values() {
          try {
            for (;;) {
              read++;
              yield `v${read}`;
            }
          } finally {
            closed = true;
          }
        }
        expectObservable(lazyFrom(values()).pipe(toKafka(producer, { maxInFlight: 1 }), map((r) => r.passThrough)), '---!').toBe('--a', { a: 'v1' });
        flush();
        expect(closed).to.equal(true);
        expect(read).to.equal(2);
      });
    });
  });

  describe('subscribed directly (as from())', () => {
    it('emits every value of an iterable, sync or async, then completes', async () => {
      expect(await lastValueFrom(lazyFrom(['a', 'b', 'c']).pipe(toArray()))).to.deep.equal(['a', 'b', 'c']);
      async function* values() {
        yield 1;
        yield 2;
      }
      expect(await lastValueFrom(lazyFrom(values()).pipe(toArray()))).to.deep.equal([1, 2]);
    });

    it('errors with what the iterator threw', async () => {
      const boom = new Error('boom');
      async function* values() {
        yield 1;
        throw boom;
      }
      const error = await lastValueFrom(lazyFrom(values())).then(() => undefined, (e: unknown) => e);
      expect(error).to.equal(boom);
    });

    it('unsubscribing returns the iterator', async () => {
      let closed = false;
      async function* values() {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          closed = true;
        }
      }
      const seen: number[] = [];
      await new Promise<void>((resolve) => {
        const subscription = lazyFrom(values()).subscribe((value) => {
          seen.push(value);
          if (value === 2) {
            subscription.unsubscribe();
            resolve();
          }
        });
      });
      // return() on an async generator settles once its pending next() has.
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).to.deep.equal([0, 1, 2]);
      expect(closed).to.equal(true);
    });
  });
});
