import { expect } from 'chai';
import { defer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { retryBackoff } from '../../lib/producer/retry-backoff.js';
import { retryDelayMs } from '../../lib/producer/retry-policy.js';
import { resolveProducerOptions } from '../../lib/producer/options.js';

describe('retryBackoff (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('doubles the pause after each failure up to retryBackoffMaxMs, and completes when retryAfter says no', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#');
      const seen: number[] = [];
      const retryAfter = (_error: unknown, failures: number) => {
        seen.push(failures);
        return failures < 4;
      };
      expectObservable(source.pipe(retryBackoff({ retryBackoffMs: 2, retryBackoffMaxMs: 4, retryAfter, scheduler }))).toBe('--------------|');
      // Failures at 1, 4, 9 and 14; pauses 2, 4, then 4 (the cap).
      expectSubscriptions(source.subscriptions).toBe(['^!', '---^!', '--------^!', '-------------^!']);
      scheduler.flush();
      expect(seen).to.deep.equal([1, 2, 3, 4]);
    });
  });

  it('with the default options: 100, 200, 400, 800 ms, then 1 s between attempts', () => {
    const { retryBackoffMs, retryBackoffMaxMs } = resolveProducerOptions({});
    expect([retryBackoffMs, retryBackoffMaxMs]).to.deep.equal([100, 1_000]);
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#');
      const retryAfter = (_error: unknown, failures: number) => failures < 7;
      expectObservable(source.pipe(retryBackoff({ retryBackoffMs, retryBackoffMaxMs, retryAfter, scheduler }))).toBe('3507ms |');
      expectSubscriptions(source.subscriptions).toBe([
        '^!',
        '101ms ^!',
        '302ms ^!',
        '703ms ^!',
        '1504ms ^!',
        '2505ms ^!',
        '3506ms ^!',
      ]);
    });
  });

  it('passes on the first attempt that succeeds, after the pauses before it', () => {
    scheduler.run(({ cold, expectObservable }) => {
      let attempt = 0;
      const source = defer(() => (++attempt < 3 ? cold('-#') : cold('-a|')));
      // Failures at 1 and 12; pauses 10 and 20; the third attempt starts at 32.
      expectObservable(source.pipe(retryBackoff({ retryBackoffMs: 10, retryBackoffMaxMs: 1_000, retryAfter: () => true, scheduler }))).toBe('33ms a|');
    });
  });

  it('retries at once with retryBackoffMs 0', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#');
      expectObservable(source.pipe(retryBackoff({ retryBackoffMs: 0, retryBackoffMaxMs: 0, retryAfter: (_e, failures) => failures < 3, scheduler }))).toBe('---|');
      expectSubscriptions(source.subscriptions).toBe(['^!', '-^!', '--^!']);
    });
  });

  it('unsubscribed during a pause: the pending attempt never starts', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#');
      expectObservable(source.pipe(retryBackoff({ retryBackoffMs: 10, retryBackoffMaxMs: 10, retryAfter: () => true, scheduler })), '5ms !').toBe('');
      expectSubscriptions(source.subscriptions).toBe(['^!']);
    });
  });

  it('the pause is the first one whatever the cap, when the cap is below it', () => {
    const options = resolveProducerOptions({ retryBackoffMs: 300, retryBackoffMaxMs: 50 });
    expect([1, 2, 5].map((failures) => retryDelayMs(options, failures))).to.deep.equal([300, 300, 300]);
    expect([1, 2, 40].map((failures) => retryDelayMs({ retryBackoffMs: 100, retryBackoffMaxMs: 2 ** 40 }, failures))).to.deep.equal([100, 200, 100 * 2 ** 30]);
  });

  it('ends a pause at the first emission of wake, and only a pause', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold('-#');
      // Pauses of 10: the first, begun at 1, is cut short by wake at 4; the second, begun at 5, runs
      // its full 10 (wake emits no more).
      const wake = hot('----w------------------------');
      const retryAfter = (_error: unknown, failures: number) => failures < 3;
      expectObservable(source.pipe(retryBackoff({ retryBackoffMs: 10, retryBackoffMaxMs: 10, retryAfter, wake, scheduler }))).toBe('----------------|');
      expectSubscriptions(source.subscriptions).toBe(['^!', '----^!', '---------------^!']);
    });
  });
});
