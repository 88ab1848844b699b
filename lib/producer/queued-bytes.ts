import { Fifo } from '../fifo.js';
import type { PendingMessage } from './message.js';
import type { Pressure } from './pressure.js';

interface Waiter {
  readonly message: PendingMessage;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The bytes of records the producer holds, producer-wide, from acceptance until each record's
 * outcome (queued, lingering, in flight, waiting to retry), bounded by maxQueuedBytes: the memory
 * bound that a per-broker count of messages cannot give. A record's bytes are its size bound
 * (PendingMessage.size). Callers that find no room wait in one line; freed bytes go to the head of
 * the line first and are taken for it before it wakes, so no later caller overtakes an earlier one
 * (a large record at the head holds back smaller ones behind it). Whether a record holds bytes is
 * marked on it, so they are given back exactly once, and never by a record that did not take them.
 */
export class QueuedBytes {
  private held = 0;
  private readonly waiters = new Fifo<Waiter>();

  constructor(
    readonly limit: number,
    /** Told the bytes held after each change (pressure$). */
    private readonly pressure: Pressure | null = null,
  ) {}

  /** Takes the record's bytes if they fit now and nobody waits before it. */
  tryTake(message: PendingMessage): boolean {
    if (this.waiters.length > 0 || this.held + message.size > this.limit) return false;
    this.held += message.size;
    message.holdsBytes = true;
    this.pressure?.bytesNow(this.held);
    return true;
  }

  /** Waits in line for the record's bytes; they are already taken for it when this resolves. */
  waitFor(message: PendingMessage): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ message, resolve, reject }));
  }

  /** Gives back a record's bytes if it holds them (its outcome is known), and hands them down the line. */
  release(message: PendingMessage): void {
    if (!message.holdsBytes) return;
    message.holdsBytes = false;
    this.held -= message.size;
    if (this.waiters.length > 0) this.wakeWaiters();
    this.pressure?.bytesNow(this.held);
  }

  /** Fails every caller still waiting for bytes (stop()). */
  rejectWaiters(error: Error): void {
    for (const waiter of this.waiters.drain()) waiter.reject(error);
  }

  get total(): number {
    return this.held;
  }

  private wakeWaiters(): void {
    for (let next = this.waiters.peek(); next !== undefined && this.held + next.message.size <= this.limit; next = this.waiters.peek()) {
      this.waiters.shift();
      this.held += next.message.size;
      next.message.holdsBytes = true;
      next.resolve();
    }
  }
}
