import { Fifo } from '../fifo.js';
import type { Pressure } from './pressure.js';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * How many messages wait for each leader broker, bounded by maxQueuedMessages per broker as in
 * pykafka. A caller that finds the queue full waits in line (blockOnQueueFull); freed room is
 * handed to the waiters in order, reserved for them before they wake, so no later caller can take
 * it first. Messages waiting in their partition buffer enter without waiting: they were accepted
 * already, and making them wait for room that only they can free is how pykafka deadlocks.
 */
export class BrokerQueues {
  private readonly queued = new Map<number, number>();
  /** Callers waiting for room, per broker: a million un-awaited produce() calls may wait here. */
  private readonly waiters = new Map<number, Fifo<Waiter>>();
  private total = 0;

  constructor(
    private readonly maxQueuedPerBroker: number,
    /** Told the total after each change (pressure$). */
    private readonly pressure: Pressure,
  ) {}

  /** Takes a place in the broker's queue if there is one and nobody waits before us. */
  tryAdd(broker: number): boolean {
    const count = this.queued.get(broker) ?? 0;
    if (count >= this.maxQueuedPerBroker || this.waiters.get(broker)?.length) return false;
    this.add(broker, 1);
    return true;
  }

  /** Waits in line for a place; the place is already taken for the caller when this resolves. */
  waitForRoom(broker: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let line = this.waiters.get(broker);
      if (line === undefined) this.waiters.set(broker, (line = new Fifo()));
      line.push({ resolve, reject });
    });
  }

  /** Enters without waiting (messages waiting in their partition buffer). */
  add(broker: number, count: number): void {
    this.queued.set(broker, (this.queued.get(broker) ?? 0) + count);
    this.total += count;
    this.pressure.messagesNow(this.total);
  }

  remove(broker: number, count: number): void {
    let left = (this.queued.get(broker) ?? 0) - count;
    if (left < 0) left = 0;
    this.total -= count;
    if (this.total < 0) this.total = 0;
    const line = this.waiters.get(broker);
    while (line !== undefined && line.length > 0 && left < this.maxQueuedPerBroker) {
      left++;
      this.total++;
      line.shift()!.resolve();
    }
    // An emptied queue keeps its entry at 0: deleting and re-adding it at each batch (one record
    // at a time) makes the map shrink and grow again.
    this.queued.set(broker, left);
    this.pressure.messagesNow(this.total);
  }

  /** Fails every caller still waiting for room (stop()). */
  rejectWaiters(error: Error): void {
    for (const line of this.waiters.values()) {
      for (const waiter of line.drain()) waiter.reject(error);
    }
  }

  get totalQueued(): number {
    return this.total;
  }

  snapshot(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const [broker, count] of this.queued) if (count > 0) out[broker] = count;
    return out;
  }
}
