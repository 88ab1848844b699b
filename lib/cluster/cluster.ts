import type { Socket } from 'node:net';
import { asyncScheduler, BehaviorSubject, interval, type SchedulerLike, type Subscription } from 'rxjs';
import {
  ConnectionError,
  KafkaRxError,
  LeaderNotAvailableError,
  NotKafkaError,
  RequestTimeoutError,
  UnknownTopicOrPartitionError,
  kafkaErrorFor,
  type KafkaError,
} from '../errors/index.js';
import type { Connection } from '../network/connection.js';
import type { ConnectionSecurity } from '../network/security.js';
import { CreateTopics } from '../protocol/create-topics.js';
import { DeleteTopics } from '../protocol/delete-topics.js';
import { Metadata } from '../protocol/metadata.js';
import { BrokerPool } from './broker-pool.js';
import { ClusterMetadata, type PartitionMetadata } from './metadata.js';
import { METADATA_RETRY, TOPIC_LEADERS_POLL, TOPIC_METADATA_RETRY, attemptOnSchedule } from './retry-schedule.js';

export interface ClusterOptions {
  /** Bootstrap brokers as 'host:port'. */
  brokers: string[];
  clientId: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Longest wait for a new connection's first answer (ApiVersions) before the peer is taken for no Kafka broker. */
  firstContactTimeoutMs?: number;
  /**
   * How long a topic the cluster said it does not have is taken as missing without asking again
   * (default 3000 ms; 0 asks every time). createTopics() on this client forgets it at once.
   */
  unknownTopicCacheMs?: number;
  /** Known topics are refreshed at least this often (the Java client's metadata.max.age.ms). */
  metadataMaxAgeMs?: number;
  /**
   * A topic nobody produced to for this long leaves the metadata: no longer refreshed, no longer
   * cached, fetched again at its next use (the Java client's metadata.max.idle.ms, 5 minutes).
   * Judged at each max-age refresh, so a topic leaves between this and this + metadataMaxAgeMs
   * after its last use. A producer writing to ever new topics would otherwise ask for every topic
   * it ever wrote to at each refresh, and keep them all.
   */
  metadataMaxIdleMs?: number;
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  maxInFlightRequests?: number;
  socketFactory?: (host: string, port: number) => Socket;
  /** TLS and SASL for every connection (bootstrap and per broker). */
  security?: ConnectionSecurity;
  /** The metadata's max-age refresh, pauses between retries and the clock of the deadlines run on this scheduler; specs pass a TestScheduler. */
  scheduler?: SchedulerLike;
}

export interface NewTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  configs?: Record<string, string>;
}

const DEFAULT_UNKNOWN_TOPIC_CACHE_MS = 3000;
/** The Java client's metadata.max.age.ms: 5 minutes. */
const DEFAULT_METADATA_MAX_AGE_MS = 300_000;
/** The Java client's metadata.max.idle.ms: 5 minutes. */
const DEFAULT_METADATA_MAX_IDLE_MS = 300_000;

/** A topic a refresh asks for: whether it was used since the last max-age refresh, and when it was last seen used. */
interface WantedTopic {
  used: boolean;
  usedAt: number;
}

/** What a topic just created (or auto-created) answers until its leaders are elected: worth asking again. */
const isTopicNotReady = (error: unknown) => error instanceof UnknownTopicOrPartitionError || error instanceof LeaderNotAvailableError;

/** A retriable failure, except a peer that stayed silent past the first-contact timeout: it has had its chance. */
const isWorthAskingAgain = (error: unknown) =>
  error instanceof KafkaRxError && error.retriable && !(error instanceof RequestTimeoutError && error.firstContact);

/**
 * What kafka-rx knows of a cluster: bootstrap, a metadata cache refreshed on demand and on a
 * maximum age (concurrent refreshes share one request), one connection per broker, and the admin
 * requests (CreateTopics, DeleteTopics) users and tests need.
 */
export class Cluster {
  /** Immutable snapshots; a new one after every metadata response. */
  readonly metadata$ = new BehaviorSubject<ClusterMetadata>(ClusterMetadata.empty());
  private readonly pool: BrokerPool;
  private readonly bootstrap: Array<{ host: string; port: number }>;
  private refreshing: Promise<ClusterMetadata> | null = null;
  private readonly wanted = new Map<string, WantedTopic>();
  /** The topic knownPartitionIdsOf() last marked used: records of one topic come in runs. */
  private lastUsed: string | undefined;
  /** Topics the cluster said it does not have (after the metadata retries): the code, and until when it stands. */
  private readonly unknownTopics = new Map<string, { code: number; until: number }>();
  /** The max-age refresh, running from the first topic asked for until close(). */
  private ageRefresh: Subscription | null = null;
  /** The clock and timers of its retries (ClusterOptions.scheduler). */
  readonly scheduler: SchedulerLike;
  private closed = false;

  constructor(private readonly options: ClusterOptions) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.bootstrap = options.brokers.map((address) => {
      const at = address.lastIndexOf(':');
      return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
    });
    this.pool = new BrokerPool({
      clientId: options.clientId,
      connectTimeoutMs: options.connectTimeoutMs,
      firstContactTimeoutMs: options.firstContactTimeoutMs,
      requestTimeoutMs: options.requestTimeoutMs,
      maxInFlightRequests: options.maxInFlightRequests,
      reconnectBackoffMs: options.reconnectBackoffMs,
      reconnectBackoffMaxMs: options.reconnectBackoffMaxMs,
      socketFactory: options.socketFactory,
      security: options.security,
      scheduler: this.scheduler,
    });
  }

  /** What the cluster is, for logs: no timers, sockets or secrets. */
  toJSON(): { bootstrap: string[]; security: { tls: boolean; sasl: string | null } } {
    return { bootstrap: this.options.brokers, security: this.options.security?.describe() ?? { tls: false, sasl: null } };
  }

  get metadata(): ClusterMetadata {
    return this.metadata$.value;
  }

  /**
   * Fetches metadata for these topics and every topic asked for before; callers arriving while a
   * refresh is under way wait for the next one if it lacks their topics.
   */
  async refreshMetadata(topics: readonly string[]): Promise<ClusterMetadata> {
    for (const topic of topics) this.want(topic);
    if (this.wanted.size > 0) this.keepFresh();
    while (this.refreshing !== null) {
      const current = this.refreshing;
      const result = await current.catch(() => null);
      if (result !== null && topics.every((topic) => result.topics.has(topic))) return result;
      if (this.refreshing === current) break;
    }
    const refresh = this.fetchMetadata([...this.wanted.keys()]).finally(() => {
      if (this.refreshing === refresh) this.refreshing = null;
    });
    this.refreshing = refresh;
    return refresh;
  }

  private want(topic: string): void {
    const wanted = this.wanted.get(topic);
    if (wanted === undefined) this.wanted.set(topic, { used: true, usedAt: this.scheduler.now() });
    else wanted.used = true;
  }

  /** A topic's partitions, fetching metadata when the topic is unknown or has no leaders yet. */
  async partitionsOf(topic: string): Promise<readonly PartitionMetadata[]> {
    const known = this.metadata.topics.get(topic);
    if (known !== undefined && known.errorCode === 0 && known.partitions.length > 0) return known.partitions;
    const cacheMs = this.options.unknownTopicCacheMs ?? DEFAULT_UNKNOWN_TOPIC_CACHE_MS;
    const missing = this.unknownTopics.get(topic);
    if (missing !== undefined) {
      // Each produce() to a topic that does not exist would otherwise wait out the retries again.
      if (this.scheduler.now() < missing.until) throw kafkaErrorFor(missing.code, `topic ${topic} (the cluster said so less than ${cacheMs} ms ago)`);
      this.unknownTopics.delete(topic);
    }
    // What the cluster said of the topic, as opposed to a failure to ask it (which is not remembered).
    let answer: KafkaError | undefined;
    const ask = async () => {
      answer = undefined;
      const found = (await this.refreshMetadata([topic])).topics.get(topic);
      if (found !== undefined && found.errorCode === 0 && found.partitions.length > 0) return found.partitions;
      // Known without partitions yet counts as unknown.
      throw (answer = kafkaErrorFor(found?.errorCode || UnknownTopicOrPartitionError.code, `topic ${topic}`));
    };
    try {
      return await attemptOnSchedule(ask, TOPIC_METADATA_RETRY, isTopicNotReady, this.scheduler);
    } catch (error) {
      if (answer !== undefined && error === answer) {
        this.wanted.delete(topic);
        if (cacheMs > 0) this.rememberUnknown(topic, answer.code, cacheMs);
      }
      throw error;
    }
  }

  private rememberUnknown(topic: string, code: number, cacheMs: number): void {
    const now = this.scheduler.now();
    if (this.unknownTopics.size >= 1024) {
      for (const [name, entry] of this.unknownTopics) if (entry.until <= now) this.unknownTopics.delete(name);
    }
    this.unknownTopics.set(topic, { code, until: now + cacheMs });
  }

  /** Sorted partition ids from the cache (no I/O); undefined when the topic is not known. */
  knownPartitionIdsOf(topic: string): readonly number[] | undefined {
    if (topic !== this.lastUsed) {
      const wanted = this.wanted.get(topic);
      if (wanted !== undefined) wanted.used = true;
      this.lastUsed = topic;
    }
    const known = this.metadata.topics.get(topic);
    return known === undefined || known.partitionIds.length === 0 ? undefined : known.partitionIds;
  }

  /** The topic's id from the cache (no I/O); undefined when not known. */
  topicIdOf(topic: string): Buffer | undefined {
    return this.metadata.topics.get(topic)?.topicId ?? undefined;
  }

  leaderOf(topic: string, partition: number): number {
    return this.metadata.topics.get(topic)?.leaders.get(partition) ?? -1;
  }

  /** The open connection to a broker by node id, without waiting; undefined if none is open yet. */
  openConnectionTo(nodeId: number): Connection | undefined {
    const broker = this.metadata.brokers.get(nodeId);
    return broker === undefined ? undefined : this.pool.openTo(broker.host, broker.port);
  }

  /** The connection to a broker by node id (looked up in the metadata, refreshed once if unknown). */
  async connectionTo(nodeId: number): Promise<Connection> {
    let broker = this.metadata.brokers.get(nodeId);
    if (broker === undefined) {
      await this.refreshMetadata([]);
      broker = this.metadata.brokers.get(nodeId);
      if (broker === undefined) throw new ConnectionError(`broker ${nodeId} is not in the cluster's metadata`);
    }
    return this.pool.get(broker.host, broker.port);
  }

  /** @internal the connections open now (specs check that re-authentication kept them). */
  openConnections(): Connection[] {
    return this.pool.openConnections();
  }

  /** Any broker that answers: an open connection, else the known brokers, else the bootstrap list. */
  async anyConnection(): Promise<Connection> {
    const open = this.pool.anyOpen();
    if (open !== undefined) {
      const connection = await open.catch(() => undefined);
      if (connection?.isConnected) return connection;
    }
    const candidates = [...this.metadata.brokers.values(), ...this.bootstrap];
    const failures: string[] = [];
    let lastError: unknown;
    let refusal: KafkaRxError | undefined;
    for (const { host, port } of candidates) {
      try {
        return await this.pool.get(host, port);
      } catch (error) {
        failures.push(`${host}:${port} (${(error as Error).message})`);
        lastError = error;
        // A broker that refused us (TLS, SASL) would refuse again: that, not "no answer", is the news.
        if (error instanceof KafkaRxError && !error.retriable) refusal ??= error;
      }
    }
    if (refusal !== undefined) throw refusal;
    // One address, and no Kafka there: that is the whole story, told by the error itself.
    if (failures.length === 1 && (lastError instanceof NotKafkaError || (lastError instanceof RequestTimeoutError && lastError.firstContact))) throw lastError;
    throw new ConnectionError(`no broker answered: ${failures.join('; ')}`);
  }

  /** Creates topics with exact partition counts and replication factors, then waits for their leaders. */
  async createTopics(topics: readonly NewTopic[], options: { timeoutMs?: number; validateOnly?: boolean } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!options.validateOnly) for (const topic of topics) this.unknownTopics.delete(topic.name);
    const connection = await this.controllerConnection();
    const response = await connection.send(CreateTopics, {
      timeoutMs,
      validateOnly: options.validateOnly ?? false,
      topics: topics.map((topic) => ({
        name: topic.name,
        numPartitions: topic.numPartitions,
        replicationFactor: topic.replicationFactor,
        configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    for (const result of response!.topics) {
      if (result.errorCode !== 0) throw kafkaErrorFor(result.errorCode, `creating topic ${result.name}${result.errorMessage ? `: ${result.errorMessage}` : ''}`);
    }
    if (options.validateOnly) return;
    const deadline = this.scheduler.now() + timeoutMs;
    for (const topic of topics) {
      const leadersKnown = async () => {
        const found = (await this.refreshMetadata([topic.name])).topics.get(topic.name);
        if (found !== undefined && found.errorCode === 0 && found.partitions.length === topic.numPartitions && found.partitions.every((p) => p.leader >= 0)) return;
        throw new TopicNotReadyError(`topic ${topic.name} was created but its leaders did not appear within ${timeoutMs} ms`);
      };
      await attemptOnSchedule(leadersKnown, TOPIC_LEADERS_POLL, this.untilDeadline(deadline), this.scheduler);
    }
    // One broker knowing the leaders is not enough: each broker learns of the new topic on its own
    // time, and a producer's metadata (or its Produce request) may reach one that has not yet. The
    // topic can take writes once every broker of the cluster answers with a leader for every partition.
    for (const topic of topics) await this.untilEveryBrokerKnows(topic, deadline, timeoutMs);
  }

  private async untilEveryBrokerKnows(topic: NewTopic, deadline: number, timeoutMs: number): Promise<void> {
    for (const broker of this.metadata.brokers.values()) {
      const brokerKnows = async () => {
        let known = false;
        try {
          const connection = await this.pool.get(broker.host, broker.port);
          const response = await connection.send(Metadata, { topics: [topic.name], allowAutoTopicCreation: false });
          const found = response!.topics.find((t) => t.name === topic.name);
          known = found !== undefined && found.errorCode === 0 && found.partitions.length === topic.numPartitions &&
            found.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0);
        } catch (error) {
          // A broker that cannot be reached cannot be asked; a producer will not reach it either.
          if (!(error instanceof KafkaRxError) || !error.retriable) throw error;
          if (error instanceof ConnectionError) return;
        }
        if (!known) throw new TopicNotReadyError(`topic ${topic.name} was created but broker ${broker.nodeId} did not know its leaders within ${timeoutMs} ms`);
      };
      await attemptOnSchedule(brokerKnows, TOPIC_LEADERS_POLL, this.untilDeadline(deadline), this.scheduler);
    }
  }

  /** Polls again while the deadline has not passed. */
  private untilDeadline(deadline: number): (error: unknown) => boolean {
    return (error) => error instanceof TopicNotReadyError && this.scheduler.now() <= deadline;
  }

  /** Deletes topics by name. */
  async deleteTopics(names: readonly string[], options: { timeoutMs?: number } = {}): Promise<void> {
    const connection = await this.controllerConnection();
    const response = await connection.send(DeleteTopics, { topicNames: names, timeoutMs: options.timeoutMs ?? 30_000 });
    for (const result of response!.responses) {
      if (result.errorCode !== 0) throw kafkaErrorFor(result.errorCode, `deleting topic ${result.name}`);
    }
    for (const name of names) this.wanted.delete(name);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ageRefresh?.unsubscribe();
    await this.pool.close();
    this.metadata$.complete();
  }

  /**
   * Refreshes the topics asked for every metadataMaxAgeMs, so a leader move nobody's request ran
   * into is still learnt. Armed at the first topic, not at construction: a client that never asked
   * for a topic holds no timer (on the real clock, one that keeps the process alive).
   */
  private keepFresh(): void {
    if (this.ageRefresh !== null || this.closed) return;
    this.ageRefresh = interval(this.options.metadataMaxAgeMs ?? DEFAULT_METADATA_MAX_AGE_MS, this.scheduler).subscribe(() => {
      this.forgetIdleTopics();
      if (this.wanted.size > 0) this.refreshMetadata([]).catch(() => undefined);
    });
  }

  /** Drops the topics unused for metadataMaxIdleMs from the refreshes and the cache. */
  private forgetIdleTopics(): void {
    const now = this.scheduler.now();
    const maxIdleMs = this.options.metadataMaxIdleMs ?? DEFAULT_METADATA_MAX_IDLE_MS;
    const idle: string[] = [];
    for (const [topic, wanted] of this.wanted) {
      if (wanted.used) {
        wanted.used = false;
        wanted.usedAt = now;
      } else if (now - wanted.usedAt >= maxIdleMs) {
        idle.push(topic);
      }
    }
    // Marks are per run of one topic: the next record of each topic marks it again.
    this.lastUsed = undefined;
    if (idle.length === 0) return;
    for (const topic of idle) this.wanted.delete(topic);
    if (!this.closed) this.metadata$.next(this.metadata.without(idle));
  }

  /** The controller handles admin requests (in KRaft any broker forwards them, but asking it saves a hop). */
  private async controllerConnection(): Promise<Connection> {
    if (this.metadata.controllerId < 0) await this.refreshMetadata([]);
    const controller = this.metadata.brokers.get(this.metadata.controllerId);
    if (controller !== undefined) {
      try {
        return await this.pool.get(controller.host, controller.port);
      } catch {
        // Fall back to any broker.
      }
    }
    return this.anyConnection();
  }

  private async fetchMetadata(topics: string[]): Promise<ClusterMetadata> {
    if (this.closed) throw new ConnectionError('the client is closed');
    const ask = async () => {
      const connection = await this.anyConnection();
      const response = await connection.send(Metadata, { topics, allowAutoTopicCreation: false });
      if (response!.errorCode !== 0) throw kafkaErrorFor(response!.errorCode, `Metadata from ${connection.address}`);
      const metadata = this.metadata.merge(response!);
      if (!this.closed) this.metadata$.next(metadata);
      return metadata;
    };
    return attemptOnSchedule(ask, METADATA_RETRY, isWorthAskingAgain, this.scheduler);
  }
}

/** A new topic not yet visible everywhere; what createTopics() fails with once its timeoutMs has passed. */
class TopicNotReadyError extends KafkaRxError {}

export type { ClusterMetadata, PartitionMetadata };
export type { BrokerInfo, TopicMetadata } from './metadata.js';
