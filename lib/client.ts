import type { SchedulerLike } from 'rxjs';
import { ClientClosedError, ConfigError, ConnectionError, KafkaRxError, RequestNotSentError, kafkaErrorFor } from './errors/index.js';
import { functionOption, integerOption, refuseUnknownOptions, schedulerOption } from './option-checks.js';
import { Cluster, type ClusterOptions } from './cluster/cluster.js';
import { INIT_PRODUCER_ID_RETRY, attemptOnSchedule } from './cluster/retry-schedule.js';
import { DEFAULT_MAX_IN_FLIGHT_REQUESTS } from './network/connection.js';
import { ConnectionSecurity, type SaslOptions, type TlsOption } from './network/security.js';
import { InitProducerId } from './protocol/init-producer-id.js';
import { Produce, type ProduceRequest, type ProduceResponse } from './protocol/produce.js';
import type { ProducerIdentity } from './producer/idempotence.js';
import { Producer } from './producer/producer.js';
import { MAX_IDEMPOTENT_IN_FLIGHT, resolveProducerOptions, type ProducerOptions } from './producer/options.js';
import type { ProducerTransport } from './producer/transport.js';
import { clusterTransactionTransport } from './producer/transactions/cluster-transport.js';

export interface KafkaClientOptions extends Omit<ClusterOptions, 'brokers' | 'clientId' | 'security'> {
  /** Bootstrap brokers, as 'host:port' strings or one comma-separated string. */
  brokers: string[] | string;
  clientId?: string;
  /** Longest wait for any response (Produce waits at least ackTimeoutMs plus a second). */
  requestTimeoutMs?: number;
  /**
   * TLS on every connection: true (the system's CAs) or tls.connect options (ca, cert, key,
   * passphrase, servername, rejectUnauthorized, ...). The broker's host name is verified unless
   * rejectUnauthorized is false or checkServerIdentity says otherwise.
   */
  tls?: TlsOption;
  /** SASL on every connection: PLAIN, SCRAM-SHA-256/512, OAUTHBEARER or a custom mechanism. */
  sasl?: SaslOptions;
  /**
   * The clock and timers of the client (the metadata's max-age refresh, retries, reconnect
   * backoff) and the default `scheduler` of its producers (linger, backoff, timeouts): default
   * asyncScheduler; tests pass a TestScheduler. Socket-level timeouts (connecting, a request's
   * requestTimeoutMs, re-authentication) time real I/O and stay on the real clock.
   */
  scheduler?: SchedulerLike;
}

/**
 * The connection to a Kafka cluster: bootstrap, metadata and one connection per broker, shared by
 * the producers made from it. `client.producer(options)` makes a producer for any topic
 * (`client.producer(topic, options)` one with a default topic); `close()` stops
 * them and closes every connection.
 */
export class KafkaClient {
  readonly cluster: Cluster;
  readonly clientId: string;
  private readonly producers = new Set<Producer<any, any>>();
  private readonly transport: ProducerTransport;
  private readonly maxInFlightRequests: number;
  private closed = false;

  constructor(options: KafkaClientOptions) {
    if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object with at least { brokers }', options);
    const brokers = typeof options.brokers === 'string' ? options.brokers.split(',').map((b) => b.trim()).filter(Boolean) : options.brokers;
    if (!Array.isArray(brokers) || brokers.length === 0 || !brokers.every((b) => typeof b === 'string' && /^[^\s:]+:\d+$/.test(b))) {
      throw new ConfigError('brokers', "a non-empty list of 'host:port' strings", options.brokers);
    }
    const clientId = options.clientId ?? 'kafka-rx';
    if (typeof clientId !== 'string') throw new ConfigError('clientId', 'a string', clientId);
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs <= 0) throw new ConfigError('requestTimeoutMs', 'an integer > 0 (milliseconds)', requestTimeoutMs);
    checkClusterOptions(options);
    const scheduler = schedulerOption('scheduler', options.scheduler);
    this.clientId = clientId;
    this.maxInFlightRequests = options.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS;
    // The raw tls and sasl options (passwords, keys) are not kept: only the checked, opaque security.
    const security = ConnectionSecurity.from(options.tls, options.sasl);
    const { requestTimeoutMs: _ignored, tls: _tls, sasl: _sasl, ...clusterOptions } = options;
    this.cluster = new Cluster({ ...clusterOptions, brokers, clientId, requestTimeoutMs, security, scheduler });
    this.transport = clusterTransport(this.cluster, clientId, requestTimeoutMs);
  }

  /**
   * A producer for any topic: `client.producer(options)`, whose records each name their topic
   * (`produce(value, { topic, key })`), or `client.producer(topic, options)` (pykafka's
   * topic.get_producer()), whose records go to `topic` unless they name another.
   */
  producer<V = Buffer | null, K = Buffer | null>(options?: ProducerOptions): Producer<V, K>;
  producer<V = Buffer | null, K = Buffer | null>(topic: string, options?: ProducerOptions): Producer<V, K>;
  producer<V = Buffer | null, K = Buffer | null>(topicOrOptions?: string | ProducerOptions, maybeOptions?: ProducerOptions): Producer<V, K> {
    const optionsForm = maybeOptions === undefined && (topicOrOptions === undefined || (topicOrOptions !== null && typeof topicOrOptions === 'object'));
    const topic = optionsForm ? undefined : (topicOrOptions as string);
    const options = (optionsForm ? topicOrOptions : maybeOptions) ?? {};
    // A producer of a closed client would only fail later, at its first produce().
    if (this.closed) throw new ClientClosedError('the client is closed: create a new KafkaClient for new producers');
    // The producer bounds its own requests per broker, but one of its sends may take several
    // requests: only the connection's bound keeps an idempotent partition within the 5 batches
    // a broker remembers per producer (the Java client refuses more than 5 in flight likewise).
    if (this.maxInFlightRequests > MAX_IDEMPOTENT_IN_FLIGHT && resolveProducerOptions(options).enableIdempotence) {
      throw new ConfigError(
        'maxInFlightRequests',
        `at most ${MAX_IDEMPOTENT_IN_FLIGHT} on a client with an idempotent producer (the broker remembers the last ${MAX_IDEMPOTENT_IN_FLIGHT} batches per producer and partition), or enableIdempotence: false`,
        this.maxInFlightRequests,
      );
    }
    // The client's clock is its producers' unless a producer names its own (options that are no
    // object go to the producer as they are, to be refused there).
    const inheritsClock = typeof options === 'object' && options !== null && options.scheduler === undefined;
    const producer = new Producer<V, K>(this.transport, topic, inheritsClock ? { ...options, scheduler: this.cluster.scheduler } : options);
    this.producers.add(producer);
    return producer;
  }

  /** Creates topics with exact partition counts and replication factors. */
  createTopics(...args: Parameters<Cluster['createTopics']>): ReturnType<Cluster['createTopics']> {
    return this.cluster.createTopics(...args);
  }

  deleteTopics(...args: Parameters<Cluster['deleteTopics']>): ReturnType<Cluster['deleteTopics']> {
    return this.cluster.deleteTopics(...args);
  }

  /** Stops every producer made from this client (each flushes first), then closes connections. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.producers].map((producer) => producer.stop()));
    this.producers.clear();
    await this.cluster.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What the client is, for logs: its id, bootstrap and security kind; never credentials. */
  toJSON(): { clientId: string; cluster: ReturnType<Cluster['toJSON']>; producers: Array<string | null> } {
    return { clientId: this.clientId, cluster: this.cluster.toJSON(), producers: [...this.producers].map((p) => p.topic ?? null) };
  }
}

const clientOptionNames = [
  'brokers', 'clientId', 'requestTimeoutMs', 'connectTimeoutMs', 'firstContactTimeoutMs', 'metadataMaxAgeMs', 'metadataMaxIdleMs', 'unknownTopicCacheMs',
  'reconnectBackoffMs', 'reconnectBackoffMaxMs', 'maxInFlightRequests', 'socketFactory', 'tls', 'sasl', 'scheduler',
] as const satisfies ReadonlyArray<keyof KafkaClientOptions>;

/** The options handed on to the cluster, refused here rather than misbehaving later. */
function checkClusterOptions(options: KafkaClientOptions): void {
  refuseUnknownOptions(options, clientOptionNames);
  integerOption('connectTimeoutMs', options.connectTimeoutMs, 0, 1);
  integerOption('firstContactTimeoutMs', options.firstContactTimeoutMs, 0, 1);
  integerOption('unknownTopicCacheMs', options.unknownTopicCacheMs, 0, 0);
  integerOption('metadataMaxAgeMs', options.metadataMaxAgeMs, 0, 1);
  integerOption('metadataMaxIdleMs', options.metadataMaxIdleMs, 0, 1);
  integerOption('reconnectBackoffMs', options.reconnectBackoffMs, 0, 0);
  integerOption('reconnectBackoffMaxMs', options.reconnectBackoffMaxMs, 0, 0);
  integerOption('maxInFlightRequests', options.maxInFlightRequests, 0, 1);
  functionOption('socketFactory', options.socketFactory, 'a function (host, port) => net.Socket');
}

function clusterTransport(cluster: Cluster, clientId: string, requestTimeoutMs: number): ProducerTransport {
  return {
    clientId,
    metadataChanges$: cluster.metadata$,
    partitionsOf: async (topic) => {
      await cluster.partitionsOf(topic);
      return cluster.knownPartitionIdsOf(topic) ?? [];
    },
    knownPartitionsOf: (topic) => cluster.knownPartitionIdsOf(topic),
    leaderOf: (topic, partition) => cluster.leaderOf(topic, partition),
    topicIdOf: (topic) => cluster.topicIdOf(topic),
    refreshMetadata: (topic) => cluster.refreshMetadata([topic]).then(() => undefined),
    produceVersion: async (broker) => (await cluster.connectionTo(broker)).versionOf(Produce),
    knownProduceVersion: (broker) => cluster.openConnectionTo(broker)?.versionOf(Produce),
    produce: (broker, request: ProduceRequest, ackTimeoutMs) => {
      const timeoutMs = Math.max(requestTimeoutMs, ackTimeoutMs + 1_000);
      // An open connection takes the request at once; only a broker not connected yet is waited for.
      const open = cluster.openConnectionTo(broker);
      if (open !== undefined) return open.send(Produce, request, { timeoutMs }) as Promise<ProduceResponse | undefined>;
      return cluster.connectionTo(broker).then(
        (connection) => connection.send(Produce, request, { timeoutMs }) as Promise<ProduceResponse | undefined>,
        (error: unknown) => {
          // No connection, so nothing was written: the producer may say "not written" for sure.
          throw error instanceof ConnectionError && !(error instanceof RequestNotSentError) ? new RequestNotSentError(error.message, { broker: error.broker, cause: error }) : error;
        },
      );
    },
    initProducerId: (current) => initProducerId(cluster, current),
    transactions: clusterTransactionTransport(cluster, requestTimeoutMs),
  };
}

/**
 * Asks any broker for a producer id (idempotence needs no transaction coordinator). With a current
 * identity and a broker that speaks InitProducerId v3+ (Kafka 2.5+), the same id comes back with
 * its epoch bumped; older brokers hand out a new id. Retriable errors are retried a few times.
 */
async function initProducerId(cluster: Cluster, current: ProducerIdentity | null): Promise<ProducerIdentity> {
  const ask = async () => {
    const connection = await cluster.anyConnection();
    const bump = current !== null && connection.versionOf(InitProducerId) >= 3;
    const response = await connection.send(InitProducerId, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: bump ? current.producerId : -1n,
      producerEpoch: bump ? current.producerEpoch : -1,
    });
    if (response === undefined) throw new KafkaRxError('InitProducerId always has a response');
    if (response.errorCode !== 0) throw kafkaErrorFor(response.errorCode, 'InitProducerId');
    return { producerId: response.producerId, producerEpoch: response.producerEpoch };
  };
  return attemptOnSchedule(ask, INIT_PRODUCER_ID_RETRY, (error) => error instanceof KafkaRxError && error.retriable, cluster.scheduler);
}
