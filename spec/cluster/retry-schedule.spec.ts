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

  it('doubling up to maxBackoffMs: 2, 4, then 5 each time', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#');
      const capped: RetrySchedule = { retries: 4, backoffMs: 2, growth: 'doubling', maxBackoffMs: 5 };
      // Fails at 1, pause 2; at 4, pause 4; at 9, pause 5; at 15, pause 5; at 21, no retries left.
      expectObservable(source.pipe(retryOnSchedule(capped, always, scheduler))).toBe('---------------------#');
      expectSubscriptions(source.subscriptions).toBe(['^!', '---^!', '--------^!', '--------------^!', '--------------------^!']);
    });
    expect([1, 2, 3, 40, 2000].map((failures) => pauseAfter({ retries: Infinity, backoffMs: 100, growth: 'doubling', maxBackoffMs: 1_000 }, failures))).to.deep.equal([100, 200, 400, 1_000, 1_000]);
    expect(pauseAfter({ retries: Infinity, backoffMs: 0, growth: 'doubling' }, 2000), 'an endless schedule of no pause stays 0, not NaN').to.equal(0);
  });

  it('tells retryIf the pause that would follow, so a deadline can refuse a pause that would end past it', () => {
    const pauses: number[] = [];
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#');
      const deadline = 8;
      const beforeDeadline = (_error: unknown, pauseMs: number) => {
        pauses.push(pauseMs);
        return scheduler.now() + pauseMs <= deadline;
      };
      // Fails at 1, pause 2 (ends at 3); at 4, pause 4 (ends at 8); at 9, pause 8 would end at 17: the error.
      expectObservable(source.pipe(retryOnSchedule({ retries: Infinity, backoffMs: 2, growth: 'doubling' }, beforeDeadline, scheduler))).toBe('---------#');
      expectSubscriptions(source.subscriptions).toBe(['^!', '---^!', '--------^!']);
    });
    expect(pauses).to.deep.equal([2, 4, 8]);
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
