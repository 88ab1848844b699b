import type { MetadataResponse } from '../protocol/metadata.js';

export interface BrokerInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionMetadata {
  readonly partition: number;
  /** Node id of the leader, -1 when the partition has none. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly errorCode: number;
}

export interface TopicMetadata {
  readonly name: string;
  /** The topic's id (Metadata v10+); null when the broker gave none (older versions, unknown topics). */
  readonly topicId: Buffer | null;
  readonly errorCode: number;
  /** Sorted by partition id. */
  readonly partitions: readonly PartitionMetadata[];
  /** The partition ids, sorted (what partitioners take). */
  readonly partitionIds: readonly number[];
  /** Leader by partition id. */
  readonly leaders: ReadonlyMap<number, number>;
}

// Kafka's "no id": what Metadata gives for a topic it does not know.
const NO_TOPIC_ID = Buffer.alloc(16);

/** An immutable view of the cluster at one moment. Lookups the producer makes per message are O(1). */
export class ClusterMetadata {
  constructor(
    readonly brokers: ReadonlyMap<number, BrokerInfo>,
    readonly controllerId: number,
    readonly topics: ReadonlyMap<string, TopicMetadata>,
    readonly clusterId: string | null,
  ) {}

  /** This snapshot with a response's brokers and topics laid over it (other known topics stay). */
  merge(response: MetadataResponse): ClusterMetadata {
    const brokers = new Map<number, BrokerInfo>();
    for (const broker of response.brokers) brokers.set(broker.nodeId, { nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: broker.rack });
    const topics = new Map(this.topics);
    for (const topic of response.topics) {
      if (topic.name === null) continue;
      const partitions = topic.partitions
        .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, replicas: p.replicaNodes, isr: p.isrNodes, errorCode: p.errorCode }))
        .sort((a, b) => a.partition - b.partition);
      topics.set(topic.name, {
        name: topic.name,
        topicId: topic.topicId === null || topic.topicId.equals(NO_TOPIC_ID) ? null : topic.topicId,
        errorCode: topic.errorCode,
        partitions,
        partitionIds: partitions.map((p) => p.partition),
        leaders: new Map(partitions.map((p) => [p.partition, p.leader])),
      });
    }
    return new ClusterMetadata(brokers, response.controllerId, topics, response.clusterId);
  }

  /** This snapshot without these topics (they are fetched again when next asked for). */
  without(names: readonly string[]): ClusterMetadata {
    const topics = new Map(this.topics);
    for (const name of names) topics.delete(name);
    return new ClusterMetadata(this.brokers, this.controllerId, topics, this.clusterId);
  }

  static empty(): ClusterMetadata {
    return new ClusterMetadata(new Map(), -1, new Map(), null);
  }
}
