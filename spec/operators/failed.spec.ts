import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import { NotEnoughReplicasError, type KafkaRxError } from '../../lib/errors/index.js';

/** The shape these operators read: a report with an error when its delivery failed. */
interface Report {
  readonly id: string;
  readonly error?: KafkaRxError;
}
import { failed } from '../../operators/index.js';

describe('failed (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  const reports: Record<string, Report> = { a: { id: 'a' }, b: { id: 'b', error: new NotEnoughReplicasError() }, c: { id: 'c' }, d: { id: 'd', error: new NotEnoughReplicasError() } };

  it('keeps the reports with an error, at the frame they come, and completes with the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|', reports);
      expectObservable(source.pipe(failed())).toBe('--b---d|', reports);
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('passes the source\'s error on', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const failure = new Error('source failed');
      expectObservable(cold('ab-#', reports, failure).pipe(failed())).toBe('-b-#', reports, failure);
    });
  });

  it('unsubscribes from the source when unsubscribed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|', reports);
      expectObservable(source.pipe(failed()), '----!').toBe('--b-', reports);
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });
});
