import { expect } from 'chai';
import { lineUp } from '../../bench/runner/line-up.js';

describe('bench line-up', () => {
  const clients = ['kafka-rx', 'kafkajs', 'platformatic', 'confluent', 'java', 'java-perf'];

  it('rotates the first slot so each client goes first once in as many rounds as there are clients', () => {
    const firsts = [1, 2, 3, 4, 5, 6].map((round) => lineUp(clients, round, 0, 7)[0]);
    expect(firsts).to.deep.equal(clients);
  });

  it('runs every client exactly once per line-up', () => {
    for (let round = 1; round <= 4; round++) {
      for (let w = 0; w < 10; w++) expect([...lineUp(clients, round, w, 42)].sort()).to.deep.equal([...clients].sort());
    }
  });

  it('gives the same line-ups for the same seed, so a run can be replayed', () => {
    expect(lineUp(clients, 2, 3, 123)).to.deep.equal(lineUp(clients, 2, 3, 123));
  });

  it('does not keep one predecessor for a client across rounds and workloads', () => {
    const predecessors = new Set<string>();
    for (let round = 1; round <= 3; round++) {
      for (let w = 0; w < 10; w++) {
        const order = lineUp(clients, round, w, 2026);
        const at = order.indexOf('kafka-rx');
        if (at > 0) predecessors.add(order[at - 1]);
      }
    }
    expect(predecessors.size).to.be.greaterThan(2);
  });

  it('handles one client and none', () => {
    expect(lineUp(['a'], 3, 1, 1)).to.deep.equal(['a']);
    expect(lineUp([], 1, 0, 1)).to.deep.equal([]);
  });
});
