import { TransactionStateError } from '../../errors/index.js';

/**
 * Where a transactional producer stands, as the Java producer's TransactionManager names it:
 *
 * ```
 * uninitialized -> initializing -> ready -> in-transaction -> committing -> ready
 *                                    ^            |        \-> aborting  -> ready
 *                                    |            v              ^
 *                                    |      abortable-error -----/
 *                                    \--- (initTransactions again after an abortable error)
 * any state -> fatal-error (fenced by a newer instance, not authorized, invalid state): final
 * ```
 * An abortable error (a failed record, TRANSACTION_ABORTABLE) leaves the transaction unable to
 * commit: only abort moves on. A fatal error leaves the producer unable to do anything but close.
 */
export type TransactionState =
  | 'uninitialized'
  | 'initializing'
  | 'ready'
  | 'in-transaction'
  | 'committing'
  | 'aborting'
  | 'abortable-error'
  | 'fatal-error';

const allowed: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  uninitialized: ['initializing'],
  // Back to uninitialized when initTransactions() failed in a way another call may get past.
  initializing: ['ready', 'uninitialized'],
  ready: ['in-transaction', 'initializing'],
  'in-transaction': ['committing', 'aborting', 'abortable-error'],
  // A commit whose EndTxn failed for good cannot be retried as a commit: it is aborted instead.
  committing: ['ready', 'abortable-error'],
  // An abort that could not reach the coordinator stays abortable: abortTransaction() again.
  aborting: ['ready', 'abortable-error', 'initializing'],
  'abortable-error': ['aborting', 'abortable-error'],
  'fatal-error': [],
};

/** The state, its legal transitions, and the error that made it fatal or abortable. */
export class TransactionStateMachine {
  private current: TransactionState = 'uninitialized';
  private lastError: Error | null = null;

  get state(): TransactionState {
    return this.current;
  }

  /** The error behind abortable-error or fatal-error; null in other states. */
  get error(): Error | null {
    return this.lastError;
  }

  get isFatal(): boolean {
    return this.current === 'fatal-error';
  }

  /** Throws TransactionStateError unless `operation` may run now (one of `states`). */
  require(operation: string, states: readonly TransactionState[]): void {
    if (states.includes(this.current)) return;
    const detail =
      this.current === 'fatal-error' ? `the producer cannot go on (${this.lastError?.message ?? 'fatal error'})`
      : this.current === 'abortable-error' ? `abort the transaction first (${this.lastError?.message ?? 'abortable error'})`
      : undefined;
    throw new TransactionStateError(operation, this.current, detail);
  }

  canMoveTo(next: TransactionState): boolean {
    return this.current !== 'fatal-error' && (next === 'fatal-error' || allowed[this.current].includes(next));
  }

  transitionTo(next: TransactionState, error: Error | null = null): void {
    if (this.current === 'fatal-error') return;
    if (next === 'fatal-error') {
      this.current = next;
      this.lastError = error;
      return;
    }
    if (!allowed[this.current].includes(next)) {
      throw new TransactionStateError(`moving to ${next}`, this.current);
    }
    this.current = next;
    this.lastError = next === 'abortable-error' ? error : null;
  }
}
