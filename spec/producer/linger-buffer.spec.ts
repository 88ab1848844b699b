import { expect } from 'chai';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { lingerBuffer } from '../../lib/producer/linger-buffer.js';

describe('lingerBuffer (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('sends a batch as soon as it holds maxCount values', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-e-f-|');
      expectObservable(source.pipe(lingerBuffer({ lingerMs: 100, maxCount: 3, scheduler }))).toBe('-----x-----y-|', {
        x: ['a', 'b', 'c'],
        y: ['d', 'e', 'f'],
      });
    });
  });

  it('sends a partial batch lingerMs after its first value', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a--b-------------------|');
      expectObservable(source.pipe(lingerBuffer({ lingerMs: 10, maxCount: 100, scheduler }))).toBe('-----------x------------|', {
        x: ['a', 'b'],
      });
    });
  });

  it('never sends an empty batch and holds no timer while idle', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('----------------------------------------|');
      expectObservable(source.pipe(lingerBuffer({ lingerMs: 5, maxCount: 2, scheduler }))).toBe('----------------------------------------|');
    });
  });

  it('restarts the linger window with the first value after a send', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-ab------c--------|');
      expectObservable(source.pipe(lingerBuffer({ lingerMs: 4, maxCount: 2, scheduler }))).toBe('--x----------y----|', {
        x: ['a', 'b'],
        y: ['c'],
      });
    });
  });

  it('sends what it holds before a value that would take it past the byte budget', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-|', { a: 'xxxx', b: 'yyyy', c: 'zzzzz', d: 'w' });
      expectObservable(source.pipe(lingerBuffer<string>({ lingerMs: 50, maxCount: 100, maxBytes: 10, sizeOf: (s) => s.length, scheduler }))).toBe('-----x---(y|)', {
        x: ['xxxx', 'yyyy'],
        y: ['zzzzz', 'w'],
      });
    });
  });

  it('sends when the byte budget is reached', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-|', { a: 'xxxx', b: 'yyyyyy', c: 'z' });
      expectObservable(source.pipe(lingerBuffer<string>({ lingerMs: 50, maxCount: 100, maxBytes: 10, sizeOf: (s) => s.length, scheduler }))).toBe('---x---(y|)', {
        x: ['xxxx', 'yyyyyy'],
        y: ['z'],
      });
    });
  });

  it('counts chunks by what they hold when countOf is given (the producer passes chunks of messages)', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-|', { a: [1, 2], b: [3], c: [4, 5, 6], d: [7] });
      expectObservable(source.pipe(lingerBuffer<number[]>({ lingerMs: 20, maxCount: 3, countOf: (chunk) => chunk.length, scheduler }))).toBe('---x-y---(z|)', {
        x: [[1, 2], [3]],
        y: [[4, 5, 6]],
        z: [[7]],
      });
    });
  });

  it('flushes on demand, and an empty flush sends nothing', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const source = cold('-a-b-----c---|');
      const flush$ = hot('--f--f-------f-');
      expectObservable(source.pipe(lingerBuffer({ lingerMs: 100, maxCount: 100, flush$, scheduler }))).toBe('--x--y-------(z|)', {
        x: ['a'],
        y: ['b'],
        z: ['c'],
      });
    });
  });

  it('sends at once at a recheck when a value it holds must leave now, and holds on otherwise', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-----m-----|');
      const recheck$ = hot('--r---r----r----');
      const buffered = source.pipe(lingerBuffer<string>({ lingerMs: 100, maxCount: 100, recheck$, leavesNow: (v) => v === 'm', scheduler }));
      expectObservable(buffered).toBe('-----------x---|', { x: ['a', 'b', 'm'] });
      expectSubscriptions(recheck$.subscriptions).toBe('^--------------!');
    });
  });

  it('flushes what it holds when the source completes', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b|').pipe(lingerBuffer({ lingerMs: 100, maxCount: 100, scheduler }))).toBe('----(x|)', { x: ['a', 'b'] });
    });
  });

  it('forwards an error and drops its timer', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-#');
      expectObservable(source.pipe(lingerBuffer({ lingerMs: 100, maxCount: 100, scheduler }))).toBe('---#');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('unsubscribes from the source and the flush notifier on teardown', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-');
      const flush$ = hot('-----------');
      expectObservable(source.pipe(lingerBuffer({ lingerMs: 3, maxCount: 100, flush$, scheduler })), '------!').toBe('----x-', { x: ['a', 'b'] });
      expectSubscriptions(source.subscriptions).toBe('^-----!');
      expectSubscriptions(flush$.subscriptions).toBe('^-----!');
    });
  });
});

describe('lingerBuffer with lingerMs 0 on the real clock', () => {
  it('sends what one synchronous burst gave at the end of its microtasks, not after a clamped 1 ms timer', async () => {
    const source = new Subject<string>();
    const batches: string[][] = [];
    const subscription = source.pipe(lingerBuffer<string>({ lingerMs: 0, maxCount: 100 })).subscribe((batch) => batches.push(batch));
    source.next('a');
    source.next('b');
    source.next('c');
    expect(batches).to.deep.equal([]);
    // Registered after the buffer's own wake-up, so it runs after it; no timer has a chance to fire.
    await Promise.resolve();
    expect(batches).to.deep.equal([['a', 'b', 'c']]);
    source.next('d');
    await Promise.resolve();
    expect(batches).to.deep.equal([['a', 'b', 'c'], ['d']]);
    subscription.unsubscribe();
  });

  it('leaves nothing scheduled after teardown', async () => {
    const source = new Subject<string>();
    const batches: string[][] = [];
    const subscription = source.pipe(lingerBuffer<string>({ lingerMs: 0, maxCount: 100 })).subscribe((batch) => batches.push(batch));
    source.next('a');
    subscription.unsubscribe();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(batches).to.deep.equal([]);
  });
});

