import type { PendingMessage } from './message.js';

/** Slots per block: a batch of one partition mostly finds its messages' slots in a few blocks. */
const BLOCK_SLOTS = 64;

/** Consecutive slots of pending messages, in the order produce() accepted them. */
export class PendingBlock {
  readonly slots = new Array<PendingMessage | null>(BLOCK_SLOTS).fill(null);
  /** Slots handed out; only the newest block has any left. */
  used = 0;
  /** Slots whose message is still pending. */
  live = 0;
  previous: PendingBlock | null = null;
  next: PendingBlock | null = null;
}

/**
 * Every message a producer has accepted and not yet settled, so that stop() can fail what is left.
 *
 * Each message takes the next slot of a block, and the block goes once its last message settles.
 * Messages used to form a list linked through themselves, and settling one rewrote its two
 * neighbours. Neighbours in produce order belong to other partitions when records are keyed or go to
 * many topics, while messages settle a partition's batch at a time: every settle touched two objects
 * nothing else was touching (settle was 8% of a 20-topic pass's CPU: bench/PROFILE.md). A block is
 * shared by the messages produced around each one, which a batch of the same partition mostly
 * also holds.
 */
export class PendingMessages {
  private oldest: PendingBlock | null = null;
  private newest: PendingBlock | null = null;
  size = 0;

  add(message: PendingMessage): void {
    let block = this.newest;
    if (block === null || block.used === BLOCK_SLOTS) block = this.append();
    message.pendingBlock = block;
    message.pendingSlot = block.used;
    block.slots[block.used++] = message;
    block.live++;
    this.size++;
  }

  /** Takes the message out; false if it was not pending here. */
  remove(message: PendingMessage): boolean {
    const block = message.pendingBlock;
    if (block === null) return false;
    block.slots[message.pendingSlot] = null;
    message.pendingBlock = null;
    this.size--;
    // A block with slots left is the newest: it stays, to be filled.
    if (--block.live === 0 && block.used === BLOCK_SLOTS) this.drop(block);
    return true;
  }

  /** The pending messages, oldest first. */
  all(): PendingMessage[] {
    const all: PendingMessage[] = [];
    for (let block = this.oldest; block !== null; block = block.next) {
      const { slots } = block;
      for (let i = 0; i < block.used; i++) {
        const message = slots[i];
        if (message !== null) all.push(message);
      }
    }
    return all;
  }

  private append(): PendingBlock {
    const block = new PendingBlock();
    block.previous = this.newest;
    if (this.newest !== null) this.newest.next = block;
    else this.oldest = block;
    this.newest = block;
    return block;
  }

  private drop(block: PendingBlock): void {
    const { previous, next } = block;
    if (previous !== null) previous.next = next;
    else this.oldest = next;
    if (next !== null) next.previous = previous;
    else this.newest = previous;
    block.previous = block.next = null;
  }
}
