import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import { NotEnoughReplicasError, type KafkaRxError } from '../../lib/errors/index.js';

/** The shape these operators read: a report with an error when its delivery failed. */
interface Report {
  readonly id: string;
  readonly error?: KafkaRxError;
}
import { throwOnFailure } from '../../operators/index.js';

describe('throwOnFailure (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  const failure = new NotEnoughReplicasError('b was not written');
  const reports: Record<string, Report> = { a: { id: 'a' }, b: { id: 'b', error: failure }, c: { id: 'c' } };

  it('passes acknowledged reports and completes with the source', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('a-c|', reports).pipe(throwOnFailure())).toBe('a-c|', reports);
    });
  });

  it('errors with the first failed report\'s own error, at its frame, and unsubscribes the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c|', reports);
      expectObservable(source.pipe(throwOnFailure())).toBe('a-#', reports, failure);
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('passes the source\'s error on', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const sourceError = new Error('source failed');
      expectObservable(cold('a#', reports, sourceError).pipe(throwOnFailure())).toBe('a#', reports, sourceError);
    });
  });

  it('unsubscribes from the source when unsubscribed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-c-b|', reports);
      expectObservable(source.pipe(throwOnFailure()), '---!').toBe('a-c', reports);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
