/** A wrong command line for npm run bench: printed as one sentence, exit status 1. */
export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}
