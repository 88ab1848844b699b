import { expect } from 'chai';
import { defer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { KafkaRxError } from '../../lib/errors/index.js';
import {
  INIT_PRODUCER_ID_RETRY,
  METADATA_RETRY,
  TOPIC_METADATA_RETRY,
  pauseAfter,
  retryOnSchedule,
  type RetrySchedule,
} from '../../lib/cluster/retry-schedule.js';

describe('retryOnSchedule (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  const always = () => true;

  it('pauses 2 then 4 (doubling) and, with no retries left, fails with the last error', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#');
      const schedule: RetrySchedule = { retries: 2, backoffMs: 2, growth: 'doubling' };
      expectObservable(source.pipe(retryOnSchedule(schedule, always, scheduler))).toBe('---------#');
      expectSubscriptions(source.subscriptions).toBe(['^!', '---^!', '--------^!']);
    });
  });

  it('linear pauses: 3, then 6', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const linear = cold('-#');
      expectObservable(linear.pipe(retryOnSchedule({ retries: 2, backoffMs: 3, growth: 'linear' }, always, scheduler))).toBe('------------#');
      // Fails at 1, pause 3; fails at 5, pause 6; fails at 12, no retries left.
      expectSubscriptions(linear.subscriptions).toBe(['^!', '----^!', '-----------^!']);
    });
  });

  it('constant pauses: 2 each time', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const constant = cold('-#');
      expectObservable(constant.pipe(retryOnSchedule({ retries: 3, backoffMs: 2, growth: 'constant' }, always, scheduler))).toBe('----------#');
      expectSubscriptions(constant.subscriptions).toBe(['^!', '---^!', '------^!', '---------^!']);
    });
  });

  it('stops at once on an error retryIf refuses, and passes that error on', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const refused = new KafkaRxError('not retriable');
      const source = cold('-#', undefined, refused);
      const retryIf = (error: unknown) => error instanceof KafkaRxError && error.retriable;
      expectObservable(source.pipe(retryOnSchedule(METADATA_RETRY, retryIf, scheduler))).toBe('-#', undefined, refused);
      expectSubscriptions(source.subscriptions).toBe(['^!']);
    });
  });

  it('a success after failures ends the retries', () => {
    scheduler.run(({ cold, expectObservable }) => {
      let attempts = 0;
      const failing = cold('-#');
      const succeeding = cold('-(a|)');
      const source = defer(() => (++attempts < 3 ? failing : succeeding));
      // Fails at 1, pause 2; fails at 4, pause 4; succeeds at 9.
      expectObservable(source.pipe(retryOnSchedule({ retries: 5, backoffMs: 2, growth: 'doubling' }, always, scheduler))).toBe('---------(a|)');
    });
  });

  it('unsubscribing during a pause cancels the next attempt', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#');
      expectObservable(source.pipe(retryOnSchedule({ retries: 5, backoffMs: 4, growth: 'constant' }, always, scheduler)), '---!').toBe('---');
      expectSubscriptions(source.subscriptions).toBe(['^!']);
    });
  });

  it('the named schedules: metadata 100/200/300 ms, topic metadata 100 ms doubling to 3.2 s, InitProducerId 100 ms to 1 s', () => {
    const pauses = (schedule: RetrySchedule) => Array.from({ length: schedule.retries }, (_, n) => pauseAfter(schedule, n + 1));
    expect(pauses(METADATA_RETRY)).to.deep.equal([100, 200, 300]);
    expect(pauses(TOPIC_METADATA_RETRY)).to.deep.equal([100, 200, 400, 800, 1600, 3200]);
    expect(pauses(INIT_PRODUCER_ID_RETRY)).to.deep.equal([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  });
});
