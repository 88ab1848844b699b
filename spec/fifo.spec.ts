import { expect } from 'chai';
import { Fifo } from '../lib/fifo.js';
import { prng } from './support/prng.js';

describe('Fifo', () => {
  it('keeps first-in first-out order through 200,000 random pushes and shifts across block boundaries', () => {
    const random = prng(15);
    const fifo = new Fifo<number>();
    const model: number[] = [];
    let modelHead = 0;
    let next = 0;
    for (let step = 0; step < 200_000; step++) {
      // Phases that grow past several blocks, then drain to empty, then hover near empty.
      const phase = Math.floor(step / 20_000) % 3;
      const pushChance = phase === 0 ? 0.8 : phase === 1 ? 0.2 : 0.5;
      if (random() < pushChance) {
        fifo.push(next);
        model.push(next++);
      } else {
        const expected = modelHead < model.length ? model[modelHead++] : undefined;
        expect(fifo.peek()).to.equal(expected);
        expect(fifo.shift()).to.equal(expected);
      }
      expect(fifo.length).to.equal(model.length - modelHead);
    }
    expect(fifo.drain()).to.deep.equal(model.slice(modelHead));
    expect(fifo.length).to.equal(0);
    expect(fifo.shift()).to.equal(undefined);
  });

  it('is empty and reusable after clear()', () => {
    const fifo = new Fifo<string>();
    for (let i = 0; i < 3000; i++) fifo.push(String(i));
    fifo.clear();
    expect(fifo.length).to.equal(0);
    expect(fifo.peek()).to.equal(undefined);
    fifo.push('a');
    expect(fifo.shift()).to.equal('a');
  });
});
