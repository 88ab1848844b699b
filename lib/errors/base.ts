import { errorCodes } from './table.js';

/** Options every kafka-rx error takes. */
export interface KafkaRxErrorOptions {
  cause?: unknown;
  /** Another attempt may succeed. */
  retriable?: boolean;
  /** The client should refresh its metadata before that attempt. */
  refreshMetadata?: boolean;
}

const brand = Symbol.for('kafka-rx.error');

/**
 * Base of every error kafka-rx raises or reports. Each says whether another attempt may succeed
 * (`retriable`) and whether metadata should be refreshed first (`refreshMetadata`).
 */
export class KafkaRxError extends Error {
  readonly retriable: boolean;
  readonly refreshMetadata: boolean;

  constructor(message: string, options: KafkaRxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.refreshMetadata = options.refreshMetadata ?? false;
  }

  /** kafka-rx errors that must extend a built-in (RecordTypeError is a TypeError) carry a brand instead. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this === KafkaRxError && typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }
}

export const kafkaRxBrand = brand;

/** An error code a Kafka broker answered with. */
export class KafkaError extends KafkaRxError {
  /** Kafka's name for the code, e.g. NOT_LEADER_OR_FOLLOWER. */
  readonly errorName: string;

  constructor(
    readonly code: number,
    message?: string,
  ) {
    const info = errorCodes.get(code);
    const errorName = info?.name ?? `UNKNOWN_ERROR_CODE_${code}`;
    super(message ? `${errorName} (${code}): ${message}` : `${errorName} (${code})`, {
      retriable: info?.retriable ?? false,
      refreshMetadata: info?.refreshMetadata ?? false,
    });
    this.errorName = errorName;
  }
}
