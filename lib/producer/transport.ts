import type { Observable } from 'rxjs';
import type { ProduceRequest, ProduceResponse } from '../protocol/produce.js';
import type { ProducerIdentity } from './idempotence.js';
import type { TransactionTransport } from './transactions/transaction-transport.js';

/**
 * What the producer needs from the cluster, and nothing more: partitions, leaders, a metadata
 * refresh, and a way to send one Produce request to one broker. The KafkaClient provides it over
 * real connections; operator tests provide a double with the same contract.
 */
export interface ProducerTransport {
  /** The topic's partition ids, sorted; fetches metadata when the topic is not known yet. */
  partitionsOf(topic: string): Promise<readonly number[]>;
  /** The cached partition ids, without I/O (undefined when unknown). */
  knownPartitionsOf(topic: string): readonly number[] | undefined;
  /**
   * The topic's id from the metadata cache, without I/O; undefined when not known. Produce v13+
   * names topics by id: without one (or without this method) the producer names the topic (v12).
   */
  topicIdOf?(topic: string): Buffer | undefined;
  /** Leader node id of a partition from the metadata cache; -1 when it has none. */
  leaderOf(topic: string, partition: number): number;
  /** Fetches fresh metadata for the topic (concurrent callers share one request). */
  refreshMetadata(topic: string): Promise<void>;
  /** The Produce version the connection to this broker negotiated (connecting if needed). */
  produceVersion(broker: number): Promise<number>;
  /** The Produce version if a connection to this broker is open now, without waiting (optional). */
  knownProduceVersion?(broker: number): number | undefined;
  /** Sends one Produce request; resolves undefined for acks=0 once the request is written. */
  produce(broker: number, request: ProduceRequest, timeoutMs: number): Promise<ProduceResponse | undefined>;
  /**
   * InitProducerId for an idempotent producer: a new producer id and epoch, or with `current`, the
   * same id with its epoch bumped where the broker can (Kafka 2.5+; older brokers give a new id).
   */
  initProducerId(current: ProducerIdentity | null): Promise<ProducerIdentity>;
  /** Emits whenever the metadata cache is refreshed (leaders may have moved): retry pauses end early on a leader move. */
  readonly metadataChanges$: Observable<unknown>;
  readonly clientId: string;
  /** Requests to transaction and group coordinators; a transactional producer needs it. */
  readonly transactions?: TransactionTransport;
}
