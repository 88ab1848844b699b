import { expect } from 'chai';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ConfigError } from '../../lib/errors/index.js';
import { routeToKafka, type SourceReport } from '../../operators/index.js';
import { ProducerDouble } from '../support/producer-double.js';

describe('routeToKafka (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  const summary = map((r: SourceReport<string, string, unknown>) => `${r.message?.topic}:${r.passThrough}${r.error ? '!' : ''}`);
  const topicOf = (value: string) => (value.startsWith('o') ? 'orders' : 'payments');

  it('sends each value to its topic\'s producer and reports in source order', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const orders = new ProducerDouble(scheduler, { o1: 1, o2: 6 }, new Set(), 1, 'orders');
      const payments = new ProducerDouble(scheduler, { p1: 2 }, new Set(), 1, 'payments');
      const result = cold('-a--b--c--|', { a: 'o1', b: 'p1', c: 'o2' }).pipe(routeToKafka({ producers: { orders, payments }, by: topicOf }), summary);
      expectObservable(result).toBe('--a---b------(c|)', { a: 'orders:o1', b: 'payments:p1', c: 'orders:o2' });
      flush();
      expect(orders.sentValues()).to.deep.equal(['o1', 'o2']);
      expect(payments.sentValues()).to.deep.equal(['p1']);
    });
  });

  it('keeps each topic\'s records in source order and shares one maxInFlight budget across topics', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const orders = new ProducerDouble(scheduler, {}, new Set(), 4, 'orders');
      const payments = new ProducerDouble(scheduler, {}, new Set(), 4, 'payments');
      const route = (value: string) => (topicOf(value) === 'orders' ? orders : payments);
      const values = { a: 'o1', b: 'p1', c: 'o2', d: 'p2', e: 'o3' };
      // Two in flight at most over both producers: pairs leave every 4 ticks.
      const result = cold('(abcde|)', values).pipe(routeToKafka(route, { maxInFlight: 2 }), map((r) => r.passThrough));
      expectObservable(result).toBe('----(ab)(cd)(e|)', values);
      flush();
      expect(orders.sentValues()).to.deep.equal(['o1', 'o2', 'o3']);
      expect(payments.sentValues()).to.deep.equal(['p1', 'p2']);
      expect(orders.maxOutstanding + payments.maxOutstanding).to.be.at.most(2);
      expect(Math.max(orders.maxOutstanding, payments.maxOutstanding)).to.equal(1);
    });
  });

  it('errors the stream on a value routed to no producer, and on a source error; tears down on unsubscribe', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const orders = new ProducerDouble(scheduler, {}, new Set(), 1, 'orders');
      const unknown = cold('a-b|', { a: 'o1', b: 'x1' });
      expectObservable(unknown.pipe(routeToKafka({ producers: { orders }, by: (v: string) => (v.startsWith('o') ? 'orders' : 'refunds') }), summary))
        .toBe('-a#', { a: 'orders:o1' }, new ConfigError('route', "one of the producers' names (orders)", 'refunds'));
      expectSubscriptions(unknown.subscriptions).toBe('^-!');
      const long = cold('a--a--a|', { a: 'o1' });
      expectObservable(long.pipe(routeToKafka(() => orders), summary), '^----!').toBe('-a--a', { a: 'orders:o1' });
      expectSubscriptions(long.subscriptions).toBe('^----!');
    });
  });

  it('refuses a route that is neither a function nor a table', () => {
    expect(() => routeToKafka({ producers: {} } as never)).to.throw(ConfigError, /route/);
  });
});
