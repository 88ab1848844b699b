import { filter, type MonoTypeOperatorFunction } from 'rxjs';

/** Keeps the reports whose delivery failed. */
export function failed<R extends { readonly error?: unknown }>(): MonoTypeOperatorFunction<R> {
  return filter((report) => report.error !== undefined);
}
