import { KafkaRxError, kafkaRxBrand, type KafkaRxErrorOptions } from './base.js';

/** An option (producer, client or operator) with a value outside what it accepts. */
export class ConfigError extends KafkaRxError {
  constructor(
    readonly option: string,
    readonly accepted: string,
    readonly got?: unknown,
  ) {
    super(`invalid option ${option}: expected ${accepted}${arguments.length > 2 ? `, got ${describe(got)}` : ''}`);
  }
}

/** Bytes from the network that do not decode: truncated, oversized or malformed. */
export class ProtocolError extends KafkaRxError {
  constructor(message: string, options: KafkaRxErrorOptions = {}) {
    super(message, options);
  }
}

export interface VersionRange {
  min: number;
  max: number;
}

/** The broker supports none of the versions of an API that kafka-rx implements. */
export class UnsupportedVersionError extends KafkaRxError {
  constructor(
    readonly apiName: string,
    readonly client: VersionRange,
    readonly broker: VersionRange | null,
  ) {
    super(
      broker === null
        ? `the broker does not support ${apiName} (kafka-rx speaks v${client.min}-v${client.max})`
        : `no common version of ${apiName}: kafka-rx speaks v${client.min}-v${client.max}, the broker v${broker.min}-v${broker.max}`,
    );
  }
}

/**
 * A request asked to be encoded at a version of its API that kafka-rx does not implement: writing
 * it would put one version's number in the header over another version's layout, a frame the
 * broker rejects (or misreads). Raised before anything is written.
 */
export class VersionNotImplementedError extends KafkaRxError {
  constructor(
    readonly apiName: string,
    readonly version: number,
    readonly implemented: VersionRange,
  ) {
    super(`kafka-rx implements ${apiName} v${implemented.min}-v${implemented.max}, not v${version}`);
  }
}

/** A connection failed or was lost; another attempt (after a metadata refresh) may succeed. */
export class ConnectionError extends KafkaRxError {
  readonly broker: string | undefined;

  constructor(message: string, options: { broker?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause, retriable: true, refreshMetadata: true });
    this.broker = options.broker;
  }
}

/**
 * A request that never left: the connection was down (or could not be opened) before it was
 * written. Whatever it carried was not written by this attempt.
 */
export class RequestNotSentError extends ConnectionError {}

/**
 * The peer at a broker's address does not speak Kafka: it answered the first request (ApiVersions)
 * with bytes that are no Kafka response (an HTTP server's status line, say). Not retriable. A peer
 * that stays silent instead fails with a RequestTimeoutError whose firstContact is true.
 */
export class NotKafkaError extends KafkaRxError {
  readonly broker: string | undefined;

  constructor(message: string, options: { broker?: string; cause?: unknown }) {
    super(message, { cause: options.cause, retriable: false, refreshMetadata: false });
    this.broker = options.broker;
  }
}

/** No response within the request timeout. */
export class RequestTimeoutError extends KafkaRxError {
  /**
   * The request was a new connection's first (ApiVersions), which a Kafka broker answers at once:
   * the peer may be no Kafka broker at all, or one that is stalled.
   */
  readonly firstContact: boolean;

  constructor(message: string, options: { cause?: unknown; firstContact?: boolean } = {}) {
    super(message, { cause: options.cause, retriable: true, refreshMetadata: true });
    this.firstContact = options.firstContact ?? false;
  }
}

/** A response that answers no request in flight: the connection cannot be trusted any more. */
export class CorrelationError extends KafkaRxError {
  constructor(message: string) {
    super(message, { retriable: true, refreshMetadata: false });
  }
}

/** The broker's queue holds maxQueuedMessages, or the producer maxQueuedBytes, and blockOnQueueFull is false. */
export class QueueFullError extends KafkaRxError {}

/**
 * A record larger on its own than maxQueuedBytes, all the producer may hold: refused at produce(),
 * since no amount of waiting would make room for it.
 */
export class RecordTooLargeError extends KafkaRxError {}

/** produce() on a stopped producer, or a message still pending when stop() gave up. */
export class ProducerStoppedError extends KafkaRxError {}

/** A message without an outcome within deliveryTimeoutMs (or a sync produce() within pendingTimeoutMs). */
export class DeliveryTimeoutError extends KafkaRxError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

/**
 * A failed delivery whose outcome is unknown: a request carrying the message was in flight when its
 * connection died, timed out, or was answered with a timeout after the broker had appended it
 * (REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS_AFTER_APPEND), so the message may have been written.
 * `cause` is what ended the wait (DeliveryTimeoutError, ProducerStoppedError, RequestTimeoutError,
 * ConnectionError, or a broker's error). Every other failure in a delivery report means the message
 * was not written. Sending a MaybeWrittenError's message again may write it twice.
 */
export class MaybeWrittenError extends KafkaRxError {
  declare readonly cause: KafkaRxError;

  constructor(cause: KafkaRxError) {
    super(`outcome unknown, the message may have been written: ${cause.name}: ${cause.message}`, { cause, retriable: false });
  }
}

/** A source outran toKafka's budget and buffer. */
export class BackpressureOverflowError extends KafkaRxError {}

/** A partitioner's answer, or an explicit partition, that is not one of the topic's partitions. */
export class InvalidPartitionError extends KafkaRxError {}

/**
 * A partitioner that cannot place this message (e.g. a hashing partitioner given a null key), or a
 * caller's partitioner that threw: its error is the cause.
 */
export class PartitionerError extends KafkaRxError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

/** The producer's serializer threw for this record (jsonSerializer on a circular object, say); its error is the cause. */
export class SerializationError extends KafkaRxError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

/** client.producer() (or another request) on a KafkaClient after close(). */
export class ClientClosedError extends KafkaRxError {}

/**
 * A value, key or header of the wrong type (and no serializer to turn it into bytes). A TypeError,
 * as JavaScript users expect, and still `instanceof KafkaRxError`.
 */
export class RecordTypeError extends TypeError {
  readonly retriable = false;
  readonly refreshMetadata = false;
  readonly [kafkaRxBrand] = true;

  constructor(
    readonly field: string,
    readonly accepted: string,
    readonly got?: unknown,
  ) {
    super(`${field} must be ${accepted}, got ${describe(got)}`);
    this.name = 'RecordTypeError';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Node.js older than the oldest release kafka-rx supports (see lib/runtime-check.ts). */
export class UnsupportedRuntimeError extends KafkaRxError {
  constructor(readonly version: string, readonly oldestSupported: number) {
    super(`kafka-rx needs Node.js ${oldestSupported} or newer (the releases that are not end-of-life); this is Node.js ${version}`);
  }
}

/**
 * The TLS handshake with a broker failed in a way another attempt would repeat: a certificate
 * signed by a CA not trusted here, a certificate that does not cover the host name, a client
 * certificate the broker refused, or a port that does not speak TLS. Not retried.
 */
export class TlsHandshakeError extends KafkaRxError {
  readonly broker: string | undefined;
  /** Node's error code, e.g. SELF_SIGNED_CERT_IN_CHAIN or ERR_TLS_CERT_ALTNAME_INVALID. */
  readonly code: string | undefined;

  constructor(message: string, options: { broker?: string; code?: string } = {}) {
    super(message, { retriable: false, refreshMetadata: false });
    this.broker = options.broker;
    this.code = options.code;
  }
}
