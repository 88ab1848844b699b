/** Counters of one topic's records in a producer. */
export interface TopicCounters {
  /** Records accepted by produce() for the topic. */
  produced: number;
  acknowledged: number;
  failed: number;
  /** Record batches of the topic sent (each Produce request carries one per topic partition), and their bytes. */
  batches: number;
  batchBytes: number;
}

export type TopicStatsSnapshot = Readonly<TopicCounters>;

/** Per-topic counters, for a producer that writes to several topics (stats$ breaks counts down by topic). */
export class TopicCounts {
  private readonly byTopic = new Map<string, TopicCounters>();
  // Records of one topic often come in runs: the last topic's counters are kept at hand.
  private lastTopic: string | undefined;
  private last: TopicCounters | undefined;

  of(topic: string): TopicCounters {
    if (topic === this.lastTopic) return this.last!;
    let counters = this.byTopic.get(topic);
    if (counters === undefined) this.byTopic.set(topic, (counters = { produced: 0, acknowledged: 0, failed: 0, batches: 0, batchBytes: 0 }));
    this.lastTopic = topic;
    this.last = counters;
    return counters;
  }

  settled(topic: string, failed: boolean): void {
    const counters = this.of(topic);
    if (failed) counters.failed++;
    else counters.acknowledged++;
  }

  snapshot(): Record<string, TopicStatsSnapshot> {
    const out: Record<string, TopicStatsSnapshot> = {};
    for (const [topic, counters] of this.byTopic) out[topic] = { ...counters };
    return out;
  }
}

/** Running counters of one producer; stats$ emits snapshots of them with the queue state. */
export class ProducerStats {
  produced = 0;
  requests = 0;
  bytes = 0;
  retries = 0;
  errors = 0;
  /** Produce requests sent, per broker id. */
  readonly requestsPerBroker = new Map<number, number>();
  readonly topics = new TopicCounts();

  requestSent(broker: number, bytes: number): void {
    this.requests++;
    this.bytes += bytes;
    this.requestsPerBroker.set(broker, (this.requestsPerBroker.get(broker) ?? 0) + 1);
  }
}

export interface ProducerStatsSnapshot {
  /** Scheduler time of the snapshot (ms). */
  readonly time: number;
  /** Messages accepted by produce(). */
  readonly produced: number;
  readonly acknowledged: number;
  readonly failed: number;
  /** Accepted and without an outcome yet (queued, in flight or waiting to be retried). */
  readonly pending: number;
  /** Messages waiting to be sent, per leader broker id. */
  readonly queuedPerBroker: Readonly<Record<number, number>>;
  readonly queued: number;
  /** Produce requests sent, and their encoded bytes. */
  readonly requests: number;
  readonly bytes: number;
  /** Produce requests sent, per broker id: one request carries the batches of every topic the broker leads a partition of. */
  readonly requestsPerBroker: Readonly<Record<number, number>>;
  /** Message attempts that were retried, and failed requests or partition results. */
  readonly retries: number;
  readonly errors: number;
  /** Times an idempotent producer bumped its epoch to recover its sequence numbers. */
  readonly epochBumps: number;
  /** Per topic written to: records produced, acknowledged and failed, record batches sent and their bytes. */
  readonly topics: Readonly<Record<string, TopicStatsSnapshot>>;
}
