import { Observable } from 'rxjs';

const pullSource = Symbol('kafka-rx.pullSource');

/** An Observable over an iterable that toKafka can also read one value at a time, on demand. */
export interface PullableObservable<T> extends Observable<T> {
  readonly [pullSource]: () => Iterator<T> | AsyncIterator<T>;
}

/**
 * Like RxJS's `from(iterable)`, but lazy under toKafka: toKafka reads the next value only when its
 * in-flight budget has room, so a generator, an array, a readline interface or any Node stream
 * (all iterables) is never read ahead. Subscribed to directly, it behaves like `from()`.
 *
 * ```ts
 * lazyFrom(readline.createInterface({ input: fs.createReadStream(path) })).pipe(toKafka(producer, opts))
 * ```
 */
export function lazyFrom<T>(source: Iterable<T> | AsyncIterable<T>): PullableObservable<T> {
  const open = (): Iterator<T> | AsyncIterator<T> =>
    Symbol.asyncIterator in source ? (source as AsyncIterable<T>)[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
  const observable = new Observable<T>((subscriber) => {
    const iterator = open();
    let stopped = false;
    (async () => {
      try {
        while (!stopped) {
          const step = await iterator.next();
          if (step.done) break;
          subscriber.next(step.value);
        }
        subscriber.complete();
      } catch (error) {
        subscriber.error(error);
      }
    })();
    return () => {
      stopped = true;
      void iterator.return?.();
    };
  }) as Observable<T> & { [pullSource]: () => Iterator<T> | AsyncIterator<T> };
  observable[pullSource] = open;
  return observable;
}

/** The iterator behind a lazyFrom() source, or undefined for any other Observable. */
export function pullIteratorOf<T>(source: Observable<T>): Iterator<T> | AsyncIterator<T> | undefined {
  const open = (source as Partial<PullableObservable<T>>)[pullSource];
  return open?.();
}
