/** Running counters of one producer; stats$ emits snapshots of them with the queue state. */
export class ProducerStats {
  produced = 0;
  requests = 0;
  bytes = 0;
  retries = 0;
  errors = 0;
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
  /** Message attempts that were retried, and failed requests or partition results. */
  readonly retries: number;
  readonly errors: number;
  /** Times an idempotent producer bumped its epoch to recover its sequence numbers. */
  readonly epochBumps: number;
}
