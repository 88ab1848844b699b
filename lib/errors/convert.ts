import { KafkaError, KafkaRxError } from './base.js';
import { errorClasses } from './codes.js';
import { ProtocolError } from './kafka-rx-errors.js';

/** A Kafka error code as its typed error; codes kafka-rx does not know keep their number. */
export function kafkaErrorFor(code: number, message?: string): KafkaError {
  const ErrorClass = errorClasses.get(code);
  return ErrorClass === undefined ? new KafkaError(code, message) : new ErrorClass(message);
}

/**
 * Whatever was thrown, as a KafkaRxError: every report and every error kafka-rx emits carries one,
 * so callers can read `retriable` and branch on `instanceof` without a second case for foreign
 * throwables (a caller's callback that threw a string, a bug's TypeError). Errors of kafka-rx's
 * own pass through unchanged; anything else is wrapped and kept as the cause. `context` says what
 * was being done; `wrap` picks the class when a plain KafkaRxError would say too little (a
 * ConnectionError for a failed handshake, so the connection's retry policy applies).
 */
export function asKafkaRxError(
  error: unknown,
  context?: string,
  wrap: (message: string, cause: unknown) => KafkaRxError = (message, cause) => new KafkaRxError(message, { cause }),
): KafkaRxError {
  if (error instanceof KafkaRxError) return error;
  return wrap(context === undefined ? String(error) : `${context}: ${String(error)}`, error);
}

/** Bytes that do not decode (a corrupt frame, a batch that does not decompress), as a ProtocolError. */
export function asProtocolError(error: unknown, context: string): KafkaRxError {
  return asKafkaRxError(error, context, (message, cause) => new ProtocolError(message, { cause }));
}
