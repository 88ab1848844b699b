import { expect } from 'chai';
import { map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { requestSlots } from '../../lib/producer/request-slots.js';

describe('requestSlots (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  /** Each batch of letters is one string; a send of it lasts `frames` frames and then emits it joined. */
  const sendFor = (cold: TestScheduler['createColdObservable'], frames: number, sent: string[][]) => (batch: string[]): Observable<string> => {
    sent.push(batch.slice());
    return cold(`${'-'.repeat(frames)}(x|)`, { x: batch.join('') }).pipe(map((joined) => joined));
  };
  const bytes = (batch: readonly string[]) => batch.join('').length;

  it('sends a batch at once while a slot is free', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const sent: string[][] = [];
      const source = cold('-a-b-|', { a: ['a'], b: ['b'] });
      expectObservable(source.pipe(requestSlots(sendFor(cold, 3, sent), { slots: 2, maxBytes: 100, sizeOf: bytes }))).toBe('----a-(b|)');
    });
  });

  it('joins the batches that wait for a slot into one send (natural batching)', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const sent: string[][] = [];
      const source = cold('-a-b-c-d-------|', { a: ['a'], b: ['b'], c: ['c'], d: ['d'] });
      expectObservable(source.pipe(requestSlots(sendFor(cold, 8, sent), { slots: 1, maxBytes: 100, sizeOf: bytes }))).toBe('---------a-------(x|)', { a: 'a', x: 'bcd' });
      flush();
      expect(sent).to.deep.equal([['a'], ['b', 'c', 'd']]);
    });
  });

  it('starts a new waiting batch when a join would pass maxBytes, keeping order', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const sent: string[][] = [];
      const source = cold('-a-b-c-d-|', { a: ['a'], b: ['bb'], c: ['cc'], d: ['d'] });
      expectObservable(source.pipe(requestSlots(sendFor(cold, 3, sent), { slots: 1, maxBytes: 3, sizeOf: bytes }))).toBe('----a--x--(y|)', { a: 'a', x: 'bb', y: 'ccd' });
      flush();
      expect(sent).to.deep.equal([['a'], ['bb'], ['cc', 'd']]);
    });
  });

  it('never has more sends under way than slots', () => {
    scheduler.run(({ cold, flush }) => {
      const sent: string[][] = [];
      let underway = 0;
      let most = 0;
      const send = (batch: string[]) => {
        underway++;
        most = Math.max(most, underway);
        return sendFor(cold, 5, sent)(batch).pipe(map((x) => (underway--, x)));
      };
      const source = cold('abcdefgh|', Object.fromEntries([...'abcdefgh'].map((c) => [c, [c]])));
      source.pipe(requestSlots(send, { slots: 2, maxBytes: 2, sizeOf: bytes })).subscribe();
      flush();
      expect(sent.flat().join('')).to.equal('abcdefgh');
      expect(sent.slice(0, 2)).to.deep.equal([['a'], ['b']]);
      for (const batch of sent) expect(batch.join('').length).to.be.at.most(2);
      expect(sent.length).to.be.below(8);
      expect(most).to.equal(2);
    });
  });

  it('leaves the caller\'s arrays as given when it joins them', () => {
    scheduler.run(({ cold, flush }) => {
      const first = ['a'];
      const second = ['b'];
      const third = ['c'];
      const source = cold('-x-y-z-|', { x: first, y: second, z: third });
      source.pipe(requestSlots(sendFor(cold, 10, []), { slots: 1, maxBytes: 100, sizeOf: bytes })).subscribe();
      flush();
      expect([first, second, third]).to.deep.equal([['a'], ['b'], ['c']]);
    });
  });

  it('completes only after the last waiting batch is sent', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('ab|', { a: ['a'], b: ['b'] });
      expectObservable(source.pipe(requestSlots(sendFor(cold, 4, []), { slots: 1, maxBytes: 100, sizeOf: bytes }))).toBe('----a---(b|)');
    });
  });

  it('passes a send\'s error on and tears the other sends down', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold('--------(x|)', { x: 'a' });
      const failing = cold('--#', undefined, new Error('boom'));
      const sends = [slow, failing];
      const source = cold('ab-----|', { a: ['a'], b: ['b'] });
      expectObservable(source.pipe(requestSlots(() => sends.shift()!, { slots: 2, maxBytes: 100, sizeOf: bytes }))).toBe('---#', undefined, new Error('boom'));
      expectSubscriptions(slow.subscriptions).toBe('^--!');
    });
  });

  it('passes the source\'s error on', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('a-#', { a: ['a'] }, new Error('source'));
      expectObservable(source.pipe(requestSlots(sendFor(cold, 5, []), { slots: 1, maxBytes: 100, sizeOf: bytes }))).toBe('--#', undefined, new Error('source'));
    });
  });

  it('unsubscribes the source and every send on unsubscription, and sends nothing that waited', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions, flush }) => {
      const sent: string[][] = [];
      const source = hot('-a-b-c-----|', { a: ['a'], b: ['b'], c: ['c'] });
      const send = cold('------(x|)', { x: 'a' });
      const project = (batch: string[]) => {
        sent.push(batch);
        return send;
      };
      expectObservable(source.pipe(requestSlots(project, { slots: 1, maxBytes: 100, sizeOf: bytes })), '^---!').toBe('-----');
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectSubscriptions(send.subscriptions).toBe('-^--!');
      flush();
      expect(sent).to.deep.equal([['a']]);
    });
  });
});
