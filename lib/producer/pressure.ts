import { BehaviorSubject } from 'rxjs';

/**
 * One bound's watermarks, with hysteresis: high from the moment its total reaches `on`, low again
 * once it falls to `off`.
 */
class Watermark {
  high = false;

  constructor(
    private readonly on: number,
    private readonly off: number,
  ) {}

  /** Whether the state changed. */
  update(total: number): boolean {
    if (this.high ? total > this.off : total < this.on) return false;
    this.high = !this.high;
    return true;
  }
}

/**
 * The producer's pressure$: true from the moment it holds 80% of either of its memory bounds, the
 * messages queued for its brokers (maxQueuedMessages, a broker's worth counted over all brokers)
 * or the bytes of records not yet settled (maxQueuedBytes), and false again once both are at or
 * below 50%. With the count alone, a source of large records filled maxQueuedBytes and made
 * produce() wait while pressure$ still said false: a source that pauses on pressure$ instead piled
 * up waiting calls, each holding its record.
 */
export class Pressure {
  readonly high$ = new BehaviorSubject(false);
  private readonly messages: Watermark;
  private readonly bytes: Watermark;

  constructor(maxQueuedMessages: number, maxQueuedBytes: number) {
    this.messages = new Watermark(Math.ceil(maxQueuedMessages * 0.8), Math.floor(maxQueuedMessages * 0.5));
    this.bytes = new Watermark(Math.ceil(maxQueuedBytes * 0.8), Math.floor(maxQueuedBytes * 0.5));
  }

  messagesNow(total: number): void {
    if (this.messages.update(total)) this.publish();
  }

  bytesNow(held: number): void {
    if (this.bytes.update(held)) this.publish();
  }

  private publish(): void {
    const high = this.messages.high || this.bytes.high;
    if (high !== this.high$.value) this.high$.next(high);
  }
}
