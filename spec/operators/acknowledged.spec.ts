import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import { NotEnoughReplicasError, type KafkaRxError } from '../../lib/errors/index.js';

/** The shape these operators read: a report with an error when its delivery failed. */
interface Report {
  readonly id: string;
  readonly error?: KafkaRxError;
}
import { acknowledged } from '../../operators/index.js';

describe('acknowledged (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  const reports: Record<string, Report> = { a: { id: 'a' }, b: { id: 'b', error: new NotEnoughReplicasError() }, c: { id: 'c' } };

  it('keeps the reports without an error, at the frame they come, and completes with the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', reports);
      expectObservable(source.pipe(acknowledged())).toBe('a---c|', reports);
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('passes the source\'s error on', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const failure = new Error('source failed');
      expectObservable(cold('ab-#', reports, failure).pipe(acknowledged())).toBe('a--#', reports, failure);
    });
  });

  it('unsubscribes from the source when unsubscribed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', reports);
      expectObservable(source.pipe(acknowledged()), '---!').toBe('a---', reports);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
