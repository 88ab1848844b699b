/** Items per block: large enough that the link cost is nothing per item, small enough to free memory as the queue drains. */
const BLOCK_SIZE = 1024;

interface Block<T> {
  readonly items: Array<T | undefined>;
  next: Block<T> | null;
}

/**
 * A first-in first-out queue, O(1) per push and shift at any length. Array.prototype.shift() moves
 * every remaining element once an array is too large for V8 to trim in place, which made queues of
 * a million waiting callers quadratic. Items live in a chain of fixed-size blocks, each block
 * dropped once read.
 */
export class Fifo<T> {
  private head: Block<T> = { items: new Array(BLOCK_SIZE), next: null };
  private tail: Block<T> = this.head;
  private headIndex = 0;
  private tailIndex = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.tailIndex === BLOCK_SIZE) {
      const block: Block<T> = { items: new Array(BLOCK_SIZE), next: null };
      this.tail.next = block;
      this.tail = block;
      this.tailIndex = 0;
    }
    this.tail.items[this.tailIndex++] = item;
    this.count++;
  }

  /** The oldest item, left in place; undefined when empty. */
  peek(): T | undefined {
    if (this.count === 0) return undefined;
    return this.headIndex === BLOCK_SIZE ? this.head.next!.items[0] : this.head.items[this.headIndex];
  }

  /** Takes the oldest item out; undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    if (this.headIndex === BLOCK_SIZE) {
      this.head = this.head.next!;
      this.headIndex = 0;
    }
    const item = this.head.items[this.headIndex];
    this.head.items[this.headIndex++] = undefined;
    if (--this.count === 0) {
      // Empty again: the one block left (head and tail are the same) is reused from its start.
      this.headIndex = 0;
      this.tailIndex = 0;
    }
    return item;
  }

  /** Takes every item out, oldest first. */
  drain(): T[] {
    const all: T[] = new Array(this.count);
    for (let i = 0; i < all.length; i++) all[i] = this.shift()!;
    return all;
  }

  clear(): void {
    this.head = this.tail = { items: new Array(BLOCK_SIZE), next: null };
    this.headIndex = this.tailIndex = this.count = 0;
  }
}
