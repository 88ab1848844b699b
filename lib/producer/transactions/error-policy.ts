import {
  ClusterAuthorizationFailedError,
  ConcurrentTransactionsError,
  CoordinatorLoadInProgressError,
  CoordinatorNotAvailableError,
  FencedInstanceIdError,
  GroupAuthorizationFailedError,
  IllegalGenerationError,
  InvalidProducerEpochError,
  InvalidProducerIdMappingError,
  InvalidTransactionTimeoutError,
  InvalidTxnStateError,
  KafkaRxError,
  NotCoordinatorError,
  OperationNotAttemptedError,
  OutOfOrderSequenceNumberError,
  ProducerFencedError,
  RebalanceInProgressError,
  RequestTimedOutError,
  TransactionAbortableError,
  TransactionalIdAuthorizationFailedError,
  TransactionCoordinatorFencedError,
  UnknownMemberIdError,
  UnknownProducerIdError,
  UnknownTopicOrPartitionError,
  UnsupportedVersionError,
} from '../../errors/index.js';

/**
 * What a transactional producer does about an error, as the Java producer's TransactionManager does:
 * - 'find-coordinator': the coordinator moved or is unreachable: look it up again, then retry;
 * - 'retry': the coordinator is busy (loading its log, finishing the previous transaction): retry;
 * - 'abortable': this transaction cannot commit; abort it, and the producer goes on;
 * - 'fatal': a newer instance fenced this one, or it may not act for the transactional id at all:
 *   the producer can only be closed.
 */
export type TransactionErrorAction = 'find-coordinator' | 'retry' | 'abortable' | 'fatal';

/** The action for an error answered by (or on the way to) a transaction or group coordinator. */
export function coordinatorErrorAction(error: unknown): TransactionErrorAction {
  if (error instanceof NotCoordinatorError || error instanceof CoordinatorNotAvailableError) return 'find-coordinator';
  if (
    error instanceof CoordinatorLoadInProgressError ||
    error instanceof ConcurrentTransactionsError ||
    error instanceof UnknownTopicOrPartitionError ||
    error instanceof OperationNotAttemptedError ||
    error instanceof RequestTimedOutError ||
    error instanceof RebalanceInProgressError
  ) {
    return 'retry';
  }
  // KIP-588: on a coordinator request an old epoch means a newer instance took over.
  if (
    error instanceof ProducerFencedError ||
    error instanceof InvalidProducerEpochError ||
    error instanceof TransactionalIdAuthorizationFailedError ||
    error instanceof ClusterAuthorizationFailedError ||
    error instanceof InvalidTxnStateError ||
    error instanceof InvalidProducerIdMappingError ||
    error instanceof InvalidTransactionTimeoutError ||
    error instanceof TransactionCoordinatorFencedError ||
    error instanceof UnsupportedVersionError
  ) {
    return 'fatal';
  }
  if (
    error instanceof TransactionAbortableError ||
    error instanceof GroupAuthorizationFailedError ||
    error instanceof UnknownMemberIdError ||
    error instanceof IllegalGenerationError ||
    error instanceof FencedInstanceIdError
  ) {
    return 'abortable';
  }
  // A lost connection or an unanswered request: the coordinator may have moved with it.
  if (error instanceof KafkaRxError && error.retriable) return 'find-coordinator';
  return 'abortable';
}

/**
 * The action for an error a record batch of the transaction failed with. Only a fencing or an
 * authorization refusal is fatal; anything else leaves the transaction to be aborted.
 */
export function recordErrorAction(error: unknown): 'abortable' | 'fatal' {
  if (
    error instanceof ProducerFencedError ||
    error instanceof TransactionalIdAuthorizationFailedError ||
    error instanceof ClusterAuthorizationFailedError ||
    error instanceof InvalidProducerIdMappingError ||
    error instanceof UnsupportedVersionError
  ) {
    return 'fatal';
  }
  return 'abortable';
}

/**
 * Whether the producer's sequence state is out of step with the broker after this record error,
 * so that (with transactions v1) the abort is followed by an epoch bump (KIP-360): a new epoch
 * starts every partition's sequence at 0 again. Transactions v2 bump the epoch at every end anyway.
 */
export function needsEpochBump(error: unknown): boolean {
  return error instanceof UnknownProducerIdError || error instanceof InvalidProducerEpochError || error instanceof OutOfOrderSequenceNumberError;
}
