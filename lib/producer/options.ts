import type { SchedulerLike } from 'rxjs';
import { ConfigError } from '../errors/index.js';
import { DEFAULT_MAX_IN_FLIGHT_REQUESTS } from '../network/connection.js';
import { integerOption, refuseUnknownOptions, schedulerOption } from '../option-checks.js';
import type { Compression } from '../records/index.js';
import type { Partitioner } from './partitioners.js';
import type { Serializer } from './serializers.js';

export type RequiredAcks = 0 | 1 | -1;

/**
 * The producer's options: pykafka's Producer parameters in camelCase, with pykafka's defaults and
 * meaning, plus what a modern producer needs (deliveryTimeoutMs, in-flight bound, stats, scheduler).
 */
export interface ProducerOptions {
  /** Chooses a partition for each message; pykafka's default is its (round-robin) RandomPartitioner. */
  partitioner?: Partitioner;
  /** Batch compression: a name or pykafka's CompressionType number (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
  compression?: Compression | 0 | 1 | 2 | 3 | 4;
  /**
   * Failed attempts a message may have after its first, counting only the failures a retry can
   * outlast by trying again: the leader's refusals (e.g. NOT_ENOUGH_REPLICAS) and requests left
   * unanswered for the request timeout. A failover's errors (no leader, NOT_LEADER_OR_FOLLOWER,
   * an unknown topic or partition, a lost or refused connection) are waited out uncounted, up to
   * deliveryTimeoutMs.
   */
  maxRetries?: number;
  /** First pause after a failed attempt; each further failure of the batch doubles it, up to retryBackoffMaxMs. */
  retryBackoffMs?: number;
  /** Beyond pykafka: the longest pause between attempts (KIP-580's retry.backoff.max.ms). */
  retryBackoffMaxMs?: number;
  /** 0 (no acknowledgement), 1 (leader), -1 or 'all' (all in-sync replicas). */
  requiredAcks?: RequiredAcks | 'all';
  /** Broker-side time limit for gathering acknowledgements, sent in each Produce request. */
  ackTimeoutMs?: number;
  /** Most messages waiting to be sent to one leader broker. */
  maxQueuedMessages?: number;
  /**
   * Beyond pykafka: most bytes of records (each record's size bound) the whole producer holds from
   * produce() until their outcomes, over all brokers and topics; the Java client's buffer.memory.
   * When full, produce() waits or rejects with QueueFullError as for maxQueuedMessages; a record
   * larger than this on its own is refused with RecordTooLargeError.
   */
  maxQueuedBytes?: number;
  /** A broker's batch leaves as soon as this many messages are waiting for it. */
  minQueuedMessages?: number;
  /** Upper bound on how long a message waits for its batch to fill. */
  lingerMs?: number;
  /** How long an idle broker group lives on (0: until stop(); -1: torn down at once when idle). */
  queueEmptyTimeoutMs?: number;
  /** When a broker's queue is full: wait for room (true) or reject with QueueFullError (false). */
  blockOnQueueFull?: boolean;
  /** Largest Produce request, measured on its real encoded bytes. */
  maxRequestSize?: number;
  /** produce() resolves only once the message is acknowledged (and rejects with its error). */
  sync?: boolean;
  /** Keep reports for the pull-style getDeliveryReport(). */
  deliveryReports?: boolean;
  /** How long a sync produce() and stop() wait for outcomes (-1: no limit). */
  pendingTimeoutMs?: number;
  /** Start at construction; otherwise call start(). */
  autoStart?: boolean;
  /** (value, key) => [valueBytes, keyBytes]. Without one, values and keys must be Buffers or null. */
  serializer?: Serializer<any, any> | null;
  /** Beyond pykafka: a message without an outcome this long after produce() fails with DeliveryTimeoutError. */
  deliveryTimeoutMs?: number;
  /**
   * Beyond pykafka: the idempotent producer (no duplicates from retries, order kept). On by default
   * when requiredAcks is all and retries are on, as in the Java client since 3.0; needs acks all.
   */
  enableIdempotence?: boolean;
  /** Beyond pykafka: Produce requests in flight per broker (pykafka has one). */
  maxInFlightRequestsPerBroker?: number;
  /** Beyond pykafka: how often stats$ emits. */
  statsIntervalMs?: number;
  /** Timers (linger, backoff, timeouts) run on this scheduler; tests pass a TestScheduler. */
  scheduler?: SchedulerLike;
  /**
   * Beyond pykafka: makes the producer transactional (initTransactions(), beginTransaction(),
   * commitTransaction(), ...). One id per logical producer: a new instance with the same id fences
   * the old one. Needs requiredAcks -1 (the default then) and idempotence.
   */
  transactionalId?: string | null;
  /** How long the coordinator lets a transaction stay open before it aborts it; the Java client's 60000. */
  transactionTimeoutMs?: number;
}

export interface ResolvedProducerOptions {
  partitioner: Partitioner | undefined;
  compression: Compression;
  maxRetries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  requiredAcks: RequiredAcks;
  ackTimeoutMs: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  minQueuedMessages: number;
  lingerMs: number;
  queueEmptyTimeoutMs: number;
  blockOnQueueFull: boolean;
  maxRequestSize: number;
  sync: boolean;
  deliveryReports: boolean;
  pendingTimeoutMs: number;
  autoStart: boolean;
  serializer: Serializer<any, any> | null;
  deliveryTimeoutMs: number;
  enableIdempotence: boolean;
  maxInFlightRequestsPerBroker: number;
  statsIntervalMs: number;
  scheduler: SchedulerLike;
  transactionalId: string | null;
  transactionTimeoutMs: number;
}

const compressionByNumber: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const knownOptions: readonly string[] = [
  'partitioner', 'compression', 'maxRetries', 'retryBackoffMs', 'retryBackoffMaxMs', 'requiredAcks', 'ackTimeoutMs',
  'maxQueuedMessages', 'maxQueuedBytes', 'minQueuedMessages', 'lingerMs', 'queueEmptyTimeoutMs', 'blockOnQueueFull',
  'maxRequestSize', 'sync', 'deliveryReports', 'pendingTimeoutMs', 'autoStart', 'serializer',
  'deliveryTimeoutMs', 'enableIdempotence', 'maxInFlightRequestsPerBroker', 'statsIntervalMs', 'scheduler',
  'transactionalId', 'transactionTimeoutMs',
];

function integer(options: ProducerOptions, name: keyof ProducerOptions, fallback: number, min: number, max?: number): number {
  return integerOption(name, options[name], fallback, min, max);
}

function boolean(options: ProducerOptions, name: keyof ProducerOptions, fallback: boolean): boolean {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(name, 'true or false', value);
  return value;
}

/** Timeouts accept -1 for "no limit", as pykafka's pending_timeout_ms does. */
function timeout(options: ProducerOptions, name: keyof ProducerOptions, fallback: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(Number.isInteger(value) || value === Infinity) || (value < 0 && value !== -1)) {
    throw new ConfigError(name, 'an integer >= 0 (milliseconds), or -1 for no limit', value);
  }
  return value === -1 ? Infinity : value;
}

/**
 * Most requests an idempotent producer may have in flight to one broker: a broker remembers the
 * last 5 batches per producer and partition, and recognises a resend as a duplicate only among them.
 */
export const MAX_IDEMPOTENT_IN_FLIGHT = 5;

/**
 * maxQueuedBytes when not given: 256 MiB. maxQueuedMessages alone lets 100,000 records of 1 MB
 * each (100 GB) pile up; this stops that long before the process runs out of memory, yet is far
 * above what pykafka-parity use and the bench hold (100,000 records of 1 KiB are about 100 MB), so
 * for them the count stays the bound that acts.
 */
export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024;

export function resolveProducerOptions(options: ProducerOptions = {}): ResolvedProducerOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('options', 'an object of producer options', options);
  }
  refuseUnknownOptions(options, knownOptions);

  let compression: Compression = 'none';
  if (options.compression !== undefined) {
    const value = options.compression;
    const named = typeof value === 'number' ? compressionByNumber[value] : value;
    if (!named || !compressionByNumber.includes(named)) {
      throw new ConfigError('compression', `one of ${compressionByNumber.join(', ')} (or 0-4)`, value);
    }
    compression = named;
  }

  const transactionalId = options.transactionalId ?? null;
  if (transactionalId !== null && (typeof transactionalId !== 'string' || transactionalId.length === 0)) {
    throw new ConfigError('transactionalId', 'a non-empty string, or null for a producer without transactions', transactionalId);
  }
  // A transaction is all-or-nothing only when every in-sync replica has each of its batches.
  let requiredAcks: RequiredAcks = transactionalId === null ? 1 : -1;
  if (options.requiredAcks !== undefined) {
    const value = options.requiredAcks;
    if (value === 'all' || value === -1) requiredAcks = -1;
    else if (value === 0 || value === 1) requiredAcks = value;
    else throw new ConfigError('requiredAcks', "0, 1, -1 or 'all'", value);
  }

  const partitioner = options.partitioner;
  if (partitioner !== undefined && typeof partitioner !== 'function' && !(partitioner && typeof (partitioner as { partition?: unknown }).partition === 'function')) {
    throw new ConfigError('partitioner', 'a function (key, partitions) => partition or a partitioner object', partitioner);
  }
  const serializer = options.serializer ?? null;
  if (serializer !== null && typeof serializer !== 'function') {
    throw new ConfigError('serializer', 'a function (value, key) => [value, key], or null', serializer);
  }
  const scheduler = schedulerOption('scheduler', options.scheduler);

  const sync = boolean(options, 'sync', false);
  const maxQueuedMessages = integer(options, 'maxQueuedMessages', 100_000, 1);
  // pykafka forces min_queued_messages to 1 in sync mode: each call waits for its own message.
  const minQueuedMessages = sync ? 1 : integer(options, 'minQueuedMessages', 70_000, 1);
  const queueEmptyTimeoutMs = integer(options, 'queueEmptyTimeoutMs', 0, -1);
  const maxRetries = integer(options, 'maxRetries', 3, 0);
  const enableIdempotence = boolean(options, 'enableIdempotence', transactionalId !== null || (requiredAcks === -1 && maxRetries > 0));
  if (transactionalId !== null && !enableIdempotence) {
    throw new ConfigError('enableIdempotence', 'true (or unset) with a transactionalId: transactions build on the idempotent producer', false);
  }
  if (transactionalId !== null && options.sync === true) {
    throw new ConfigError('sync', 'false with a transactionalId: a record is acknowledged only when its transaction commits, after produce() returned', true);
  }
  if (transactionalId !== null && requiredAcks !== -1) {
    throw new ConfigError('requiredAcks', "-1 ('all', the default) with a transactionalId", options.requiredAcks);
  }
  const maxInFlightRequestsPerBroker = integer(options, 'maxInFlightRequestsPerBroker', DEFAULT_MAX_IN_FLIGHT_REQUESTS, 1, 1000);
  if (enableIdempotence && requiredAcks !== -1) {
    throw new ConfigError('enableIdempotence', "false unless requiredAcks is -1 ('all'): an idempotent producer needs every in-sync replica's acknowledgement", true);
  }
  if (enableIdempotence && maxInFlightRequestsPerBroker > MAX_IDEMPOTENT_IN_FLIGHT) {
    throw new ConfigError('maxInFlightRequestsPerBroker', `at most ${MAX_IDEMPOTENT_IN_FLIGHT} with enableIdempotence (the broker remembers the last ${MAX_IDEMPOTENT_IN_FLIGHT} batches per producer and partition)`, maxInFlightRequestsPerBroker);
  }

  const retryBackoffMs = integer(options, 'retryBackoffMs', 100, 0);
  const resolved: ResolvedProducerOptions = {
    partitioner,
    compression,
    maxRetries,
    retryBackoffMs,
    // A cap below the first pause would make it no cap: the first pause then stays constant.
    retryBackoffMaxMs: Math.max(retryBackoffMs, integer(options, 'retryBackoffMaxMs', 1_000, 0)),
    requiredAcks,
    ackTimeoutMs: integer(options, 'ackTimeoutMs', 10_000, 0, 2 ** 31 - 1),
    maxQueuedMessages,
    maxQueuedBytes: integer(options, 'maxQueuedBytes', DEFAULT_MAX_QUEUED_BYTES, 1),
    minQueuedMessages,
    lingerMs: integer(options, 'lingerMs', 5_000, 0),
    queueEmptyTimeoutMs,
    blockOnQueueFull: boolean(options, 'blockOnQueueFull', true),
    maxRequestSize: integer(options, 'maxRequestSize', 1_000_012, 1024, 2 ** 31 - 1),
    sync,
    deliveryReports: boolean(options, 'deliveryReports', false),
    pendingTimeoutMs: timeout(options, 'pendingTimeoutMs', 5_000),
    autoStart: boolean(options, 'autoStart', true),
    serializer,
    deliveryTimeoutMs: timeout(options, 'deliveryTimeoutMs', 120_000),
    enableIdempotence,
    maxInFlightRequestsPerBroker,
    statsIntervalMs: integer(options, 'statsIntervalMs', 1_000, 1),
    scheduler,
    transactionalId,
    transactionTimeoutMs: integer(options, 'transactionTimeoutMs', 60_000, 1, 2 ** 31 - 1),
  };
  return resolved;
}
