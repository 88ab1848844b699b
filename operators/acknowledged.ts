import { filter, type MonoTypeOperatorFunction } from 'rxjs';

/** Keeps the reports whose delivery succeeded. */
export function acknowledged<R extends { readonly error?: unknown }>(): MonoTypeOperatorFunction<R> {
  return filter((report) => report.error === undefined);
}
