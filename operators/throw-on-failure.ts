import { map, type MonoTypeOperatorFunction } from 'rxjs';

/** Passes acknowledged reports through and errors the stream with the first failed report's error. */
export function throwOnFailure<R extends { readonly error?: unknown }>(): MonoTypeOperatorFunction<R> {
  return map((report) => {
    if (report.error !== undefined) throw report.error;
    return report;
  });
}
