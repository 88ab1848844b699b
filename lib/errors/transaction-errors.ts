import { KafkaRxError } from './base.js';

/**
 * A transactional call made in a state that does not allow it: beginTransaction() inside a
 * transaction, commitTransaction() outside one, any call before initTransactions() or after the
 * producer was fenced. Nothing was sent.
 */
export class TransactionStateError extends KafkaRxError {
  constructor(
    readonly operation: string,
    readonly state: string,
    detail?: string,
  ) {
    super(`${operation} is not allowed while the transaction manager is ${state}${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * The transaction this record belonged to was aborted: the broker may hold the record, but no
 * read_committed reader will ever see it. `cause` says why the transaction was aborted when it was
 * not the caller's choice (a failed record, TRANSACTION_ABORTABLE, a window whose source failed).
 */
export class TransactionAbortedError extends KafkaRxError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause, retriable: false });
  }
}

/**
 * The transaction cannot commit because of an earlier error (a record that failed, an
 * abortable error from the coordinator): the caller must abort it, then may begin a new one.
 * `cause` holds that earlier error.
 */
export class TransactionAbortRequiredError extends KafkaRxError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause, retriable: false });
  }
}
