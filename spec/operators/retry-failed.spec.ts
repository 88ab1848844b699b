import { expect } from 'chai';
import { map, tap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  ConfigError, DeliveryTimeoutError, MaybeWrittenError, MessageSizeTooLargeError, NotEnoughReplicasError, RequestTimeoutError, type KafkaRxError,
} from '../../lib/errors/index.js';
import type { DeliveryReport } from '../../lib/producer/message.js';
import { retryFailed, type RetriedReport } from '../../operators/index.js';
import { ProducerDouble } from '../support/producer-double.js';

function report(value: string, error?: KafkaRxError, attempts = 1): DeliveryReport<string, unknown> {
  const message = {
    topic: 'double', partition: 2, offset: error === undefined ? 7n : -1n, timestamp: 1000, value: Buffer.from(value), key: Buffer.from(`k-${value}`),
    headers: [{ key: 'h', value: Buffer.from('1') }], input: value, inputKey: Buffer.from(`k-${value}`), attempts,
  };
  return error === undefined ? { message } : { message, error };
}

const summary = map((r: RetriedReport<string, unknown>) => `${r.message.input}${r.error === undefined ? '' : '!'}${r.resends}`);

describe('retryFailed (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('passes acknowledged reports through and re-sends a not-written failure after the delay', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const producer = new ProducerDouble(scheduler, {});
      producer.script.set('b', [null]);
      const source = cold('-a-b-c-|', { a: report('a'), b: report('b', new DeliveryTimeoutError('no ack in time')), c: report('c') });
      expectObservable(source.pipe(retryFailed(producer, { count: 3, delay: 2, scheduler }), summary)).toBe('-a---cd|', { a: 'a0', c: 'c0', d: 'b1' });
      flush();
      expect(producer.records).to.have.length(1);
      const { value, record } = producer.records[0];
      expect(value).to.equal('b');
      // Same key, headers, timestamp and partition as the first send.
      expect(record.key).to.deep.equal(Buffer.from('k-b'));
      expect(record.headers).to.deep.equal([{ key: 'h', value: Buffer.from('1') }]);
      expect(record.timestamp).to.equal(1000);
      expect(record.partition).to.equal(2);
    });
  });

  it('never re-sends a MaybeWrittenError, even one whose cause is retriable', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const producer = new ProducerDouble(scheduler, {});
      const maybe = new MaybeWrittenError(new RequestTimeoutError('no answer'));
      const source = cold('-a-|', { a: report('a', maybe) });
      expectObservable(source.pipe(retryFailed(producer, { count: 5, delay: 1, scheduler, retryIf: () => true }), summary)).toBe('-a-|', { a: 'a!0' });
      flush();
      expect(producer.sentValues()).to.deep.equal([]);
    });
  });

  it('passes through failures that would fail again (a record too large)', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const producer = new ProducerDouble(scheduler, {});
      const source = cold('-a|', { a: report('a', new MessageSizeTooLargeError()) });
      expectObservable(source.pipe(retryFailed(producer, { count: 5, delay: 1, scheduler }), summary)).toBe('-a|', { a: 'a!0' });
      flush();
      expect(producer.sentValues()).to.deep.equal([]);
    });
  });

  it('gives up after count re-sends and reports the last failure with every attempt counted', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const producer = new ProducerDouble(scheduler, {});
      const retriable = new NotEnoughReplicasError('still short');
      producer.script.set('a', [retriable, retriable]);
      const source = cold('a|', { a: report('a', retriable, 3) });
      const reports: RetriedReport<string, unknown>[] = [];
      // a at 0, re-send 1 at 2 fails at 3, re-send 2 at 5 (delay 2 each) fails at 6.
      const result = source.pipe(retryFailed(producer, { count: 2, delay: 2, scheduler }), tap((r) => reports.push(r)));
      expectObservable(result.pipe(summary)).toBe('------(a|)', { a: 'a!2' });
      flush();
      expect(producer.sentValues()).to.deep.equal(['a', 'a']);
      expect(reports[0].totalAttempts).to.equal(5);
      expect(reports[0].error).to.equal(retriable);
    });
  });

  it('spaces re-sends by a delay function of the re-send number', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, {});
      const timeout = new DeliveryTimeoutError('no ack');
      producer.script.set('a', [timeout, null]);
      // a at 0; re-send 1 after 1 -> at 1, fails at 2; re-send 2 after 4 -> at 6, acked at 7.
      const result = cold('a|', { a: report('a', timeout) }).pipe(retryFailed(producer, { count: 3, delay: (n) => n * n, scheduler }), summary);
      expectObservable(result).toBe('-------(a|)', { a: 'a2' });
    });
  });

  it('re-sends only what retryIf accepts', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const producer = new ProducerDouble(scheduler, {});
      producer.script.set('a', [null]);
      const source = cold('ab|', { a: report('a', new NotEnoughReplicasError()), b: report('b', new DeliveryTimeoutError('x')) });
      const result = source.pipe(retryFailed(producer, { count: 1, delay: 1, scheduler, retryIf: (e) => e instanceof NotEnoughReplicasError }), summary);
      expectObservable(result).toBe('-b(a|)', { a: 'a1', b: 'b!0' });
      flush();
      expect(producer.sentValues()).to.deep.equal(['a']);
    });
  });

  it('reports a re-send the producer refuses as not written with no attempt', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const refused = new DeliveryTimeoutError('queue gone');
      const producer = { topic: 'double', send: () => Promise.reject(refused) };
      const reports: RetriedReport<string, unknown>[] = [];
      const result = cold('a|', { a: report('a', new DeliveryTimeoutError('x'), 2) }).pipe(retryFailed(producer, { count: 1, delay: 1, scheduler }));
      result.subscribe((r) => reports.push(r));
      expectObservable(result.pipe(summary)).toBe('-');
      return Promise.resolve().then(() => {
        // The refusal settles in a microtask, outside virtual time.
        expect(reports.map((r) => [r.error, r.resends, r.totalAttempts])).to.deep.equal([[refused, 1, 2]]);
      });
    });
  });

  it('completes only once every re-send is reported', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const producer = new ProducerDouble(scheduler, { a: 5 });
      producer.script.set('a', [null]);
      const result = cold('a|', { a: report('a', new DeliveryTimeoutError('x')) }).pipe(retryFailed(producer, { count: 1, delay: 3, scheduler }), summary);
      expectObservable(result).toBe('--------(a|)', { a: 'a1' });
    });
  });

  it('passes a source error on at once and cancels the re-sends still waiting', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const producer = new ProducerDouble(scheduler, {});
      const source = cold('a-#', { a: report('a', new DeliveryTimeoutError('x')) }, new Error('source broke'));
      expectObservable(source.pipe(retryFailed(producer, { count: 1, delay: 5, scheduler }), summary)).toBe('--#', undefined, new Error('source broke'));
      expectSubscriptions(source.subscriptions).toBe('^-!');
      flush();
      expect(producer.sentValues()).to.deep.equal([]);
    });
  });

  it('cancels waiting re-sends on unsubscribe', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const producer = new ProducerDouble(scheduler, {});
      const source = cold('ab----|', { a: report('a'), b: report('b', new DeliveryTimeoutError('x')) });
      expectObservable(source.pipe(retryFailed(producer, { count: 1, delay: 5, scheduler }), summary), '^--!').toBe('a', { a: 'a0' });
      expectSubscriptions(source.subscriptions).toBe('^--!');
      flush();
      expect(producer.sentValues()).to.deep.equal([]);
    });
  });

  it('re-sends each record through the producer a function of its report picks', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const orders = new ProducerDouble(scheduler, {}, new Set(), 1, 'orders');
      const payments = new ProducerDouble(scheduler, {}, new Set(), 1, 'payments');
      const timeout = new DeliveryTimeoutError('x');
      const source = cold('ab|', { a: report('o', timeout), b: report('p', timeout) });
      const pick = (r: DeliveryReport<string, unknown>) => (r.message.input === 'o' ? orders : payments);
      expectObservable(source.pipe(retryFailed(pick, { count: 1, delay: 1, scheduler }), summary)).toBe('--a(b|)', { a: 'o1', b: 'p1' });
      flush();
      expect(orders.sentValues()).to.deep.equal(['o']);
      expect(payments.sentValues()).to.deep.equal(['p']);
    });
  });

  it('errors the stream when picking the producer throws', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const broken = new Error('no producer for this topic');
      const pick = (): never => {
        throw broken;
      };
      expectObservable(cold('a--|', { a: report('a', new DeliveryTimeoutError('x')) }).pipe(retryFailed(pick, { count: 1, delay: 1, scheduler }), summary)).toBe('-#', undefined, broken);
    });
  });

  it('refuses options it does not know, and a missing count', () => {
    const producer = { topic: 't', send: () => Promise.reject(new Error('unused')) };
    expect(() => retryFailed(producer, {} as never)).to.throw(ConfigError, /count/);
    expect(() => retryFailed(producer, { count: 1, dealy: 5 } as never)).to.throw(ConfigError, /dealy/);
    expect(() => retryFailed(producer, { count: 1, delay: -1 })).to.throw(ConfigError, /delay/);
  });
});
