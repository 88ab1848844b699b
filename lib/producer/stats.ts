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

/**
 * Most topics a producer keeps counters for. One that writes to ever new topics (a topic per
 * tenant or per day, say) would otherwise keep a counter for every topic it ever wrote to: past
 * this many, the counters of topics with nothing pending that were written to least recently are
 * dropped (a quarter at a time), and such a topic counts from 0 if it is written to again.
 */
export const MAX_COUNTED_TOPICS = 1024;

interface CountedTopic extends TopicCounters {
  /** When the topic's counters were last taken up after another topic's: the order of dropping. */
  lastUsed: number;
}

/** Per-topic counters, for a producer that writes to several topics (stats$ breaks counts down by topic). */
export class TopicCounts {
  private readonly byTopic = new Map<string, CountedTopic>();
  // Records of one topic often come in runs: the last topic's counters are kept at hand.
  private lastTopic: string | undefined;
  private last: CountedTopic | undefined;
  private uses = 0;

  of(topic: string): TopicCounters {
    if (topic === this.lastTopic) return this.last!;
    let counters = this.byTopic.get(topic);
    if (counters === undefined) {
      if (this.byTopic.size >= MAX_COUNTED_TOPICS) this.dropIdle(MAX_COUNTED_TOPICS - MAX_COUNTED_TOPICS / 4);
      this.byTopic.set(topic, (counters = { produced: 0, acknowledged: 0, failed: 0, batches: 0, batchBytes: 0, lastUsed: 0 }));
    }
    counters.lastUsed = ++this.uses;
    this.lastTopic = topic;
    this.last = counters;
    return counters;
  }

  /** Drops the counters of topics with no record pending, least recently used first, down to `size` topics if it can. */
  private dropIdle(size: number): void {
    const idle = [...this.byTopic].filter(([, c]) => c.acknowledged + c.failed >= c.produced).sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (let i = 0; i < idle.length && this.byTopic.size > size; i++) this.byTopic.delete(idle[i][0]);
    if (this.lastTopic !== undefined && !this.byTopic.has(this.lastTopic)) this.lastTopic = this.last = undefined;
  }

  settled(topic: string, failed: boolean): void {
    const counters = this.of(topic);
    if (failed) counters.failed++;
    else counters.acknowledged++;
  }

  snapshot(): Record<string, TopicStatsSnapshot> {
    const out: Record<string, TopicStatsSnapshot> = {};
    for (const [topic, { produced, acknowledged, failed, batches, batchBytes }] of this.byTopic) out[topic] = { produced, acknowledged, failed, batches, batchBytes };
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
  /** Bytes of records (their size bounds) held from produce() until their outcomes, bounded by maxQueuedBytes. */
  readonly queuedBytes: number;
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
