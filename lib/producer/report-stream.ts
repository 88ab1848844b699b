import { Observable, type Subscriber } from 'rxjs';

/**
 * A hot multicast of delivery reports, like a Subject but with nothing allocated per emission.
 * RxJS ships its CommonJS build (what Node loads) down-levelled to ES5, where every Subject.next
 * makes a closure and an iterator per call: at one report per message that was a large share of
 * the producer's garbage. Subscribers are kept copy-on-write, so an emission walks a stable array
 * even when a subscriber leaves or joins during it, as Subject's snapshot does.
 */
export class ReportStream<T> {
  private subscribers: ReadonlyArray<Subscriber<T>> = [];
  private completed = false;

  readonly observable: Observable<T> = new Observable<T>((subscriber) => {
    if (this.completed) {
      subscriber.complete();
      return undefined;
    }
    this.subscribers = [...this.subscribers, subscriber];
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== subscriber);
    };
  });

  /** True while someone is subscribed: a value nobody would receive need not be made. */
  get observed(): boolean {
    return this.subscribers.length > 0;
  }

  next(value: T): void {
    const subscribers = this.subscribers;
    for (let i = 0; i < subscribers.length; i++) subscribers[i].next(value);
  }

  complete(): void {
    if (this.completed) return;
    this.completed = true;
    const subscribers = this.subscribers;
    this.subscribers = [];
    for (const subscriber of subscribers) subscriber.complete();
  }
}
