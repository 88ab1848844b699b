import { expect } from 'chai';
import { InFlightRequests } from '../../lib/network/in-flight-requests.js';

describe('InFlightRequests', () => {
  it('gives requests back oldest first, across the ring wrapping round and growing', () => {
    const inFlight = new InFlightRequests<number>();
    let next = 0;
    let expected = 0;
    // Keep 1..20 in flight while 1,000 go through: the ring wraps many times and grows past 8 and 16.
    for (let round = 0; round < 1000; round++) {
      const target = 1 + (round % 20);
      while (inFlight.size < target) inFlight.push(next++);
      expect(inFlight.peek()).to.equal(expected);
      expect(inFlight.shift()).to.equal(expected++);
    }
    expect([...inFlight]).to.deep.equal(Array.from({ length: next - expected }, (_, i) => expected + i));
    expect(inFlight.drain()).to.deep.equal(Array.from({ length: next - expected }, (_, i) => expected + i));
    expect(inFlight.size).to.equal(0);
    expect(inFlight.peek()).to.equal(undefined);
    expect(inFlight.shift()).to.equal(undefined);
  });

  it('takes back the newest request (a failed write) and leaves the older ones in order', () => {
    const inFlight = new InFlightRequests<string>();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) inFlight.push(id);
    inFlight.shift();
    inFlight.shift();
    inFlight.push('h');
    inFlight.push('i');
    inFlight.push('j');
    expect(inFlight.pop()).to.equal('j');
    expect([...inFlight]).to.deep.equal(['c', 'd', 'e', 'f', 'g', 'h', 'i']);
    expect(inFlight.pop()).to.equal('i');
    expect(inFlight.size).to.equal(6);
    expect(new InFlightRequests<string>().pop()).to.equal(undefined);
  });

  it('holds nothing it gave back: its slots are cleared', () => {
    const inFlight = new InFlightRequests<object>();
    const entry = {};
    inFlight.push(entry);
    inFlight.shift();
    inFlight.push({});
    inFlight.pop();
    const ring = (inFlight as unknown as { ring: unknown[] }).ring;
    expect(ring.every((slot) => slot === undefined)).to.equal(true);
  });
});
