/**
 * A connection's requests awaiting their answers, oldest first. Kafka answers a connection's
 * requests in the order they were written, so the next answer is always for the oldest one: a ring
 * of entries is all the bookkeeping that needs. (A Map by correlation id, whose keys only grow,
 * rehashed as entries came and went: an allocation every few requests when they go one at a time.)
 */
export class InFlightRequests<T> {
  /** Capacity is a power of two, doubled when full. */
  private ring: Array<T | undefined> = new Array<T | undefined>(8).fill(undefined);
  private head = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The newest request, written now. */
  push(entry: T): void {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) & (this.ring.length - 1)] = entry;
    this.count++;
  }

  /** The oldest request: the one the next answer is for. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.ring[this.head];
  }

  /** Takes out the oldest request (its answer came). */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const entry = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.count--;
    return entry;
  }

  /** Takes out the newest request (its write failed, so no answer will come for it). */
  pop(): T | undefined {
    if (this.count === 0) return undefined;
    this.count--;
    const at = (this.head + this.count) & (this.ring.length - 1);
    const entry = this.ring[at];
    this.ring[at] = undefined;
    return entry;
  }

  /** Takes out every request, oldest first. */
  drain(): T[] {
    const all: T[] = [];
    while (this.count > 0) all.push(this.shift()!);
    return all;
  }

  /** The requests, oldest first, without taking them out. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.ring[(this.head + i) & (this.ring.length - 1)]!;
  }

  private grow(): void {
    const ring = new Array<T | undefined>(this.ring.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) ring[i] = this.ring[(this.head + i) & (this.ring.length - 1)];
    this.ring = ring;
    this.head = 0;
  }
}
