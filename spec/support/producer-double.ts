import type { TestScheduler } from 'rxjs/testing';
import { NotEnoughReplicasError, type KafkaRxError } from '../../lib/errors/index.js';
import type { DeliveryReport, Message, RecordHeader } from '../../lib/producer/message.js';
import type { ProduceOptions } from '../../lib/producer/producer.js';
import type { ProducerLike } from '../../operators/to-kafka.js';

/**
 * A producer double for operator marble tests: it acknowledges each record after a delay in
 * virtual time (per value, or a default), fails the values it is told to with a typed error, and
 * counts what is outstanding — the contract of Producer.send(), with timing under test control.
 */
export class ProducerDouble implements ProducerLike<string, unknown> {
  outstanding = 0;
  /** Outcomes to give the sends of a value, one per send in turn (null: acknowledged); then `failing` decides. */
  readonly script = new Map<string, Array<KafkaRxError | null>>();
  /** Every send as it came: the value and its record options. */
  readonly records: Array<{ value: string; record: ProduceOptions<unknown> }> = [];
  maxOutstanding = 0;
  reported = 0;
  private readonly sent: string[] = [];
  private readonly errors = new Map<string, NotEnoughReplicasError>();
  private offset = 0n;

  constructor(
    private readonly scheduler: TestScheduler,
    private readonly delays: Record<string, number>,
    private readonly failing: Set<string> = new Set(),
    private readonly defaultDelay = 1,
    readonly topic = 'double',
  ) {}

  send(value: string, record: ProduceOptions<unknown>, onReport: (report: DeliveryReport<string, unknown>) => void): Promise<Message<string, unknown>> {
    // Values are compared as text: a dead-letter producer is given the failed record's bytes.
    value = String(value);
    this.sent.push(value);
    this.records.push({ value, record });
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    const key = Buffer.isBuffer(record.key) ? record.key : null;
    const headers = Array.isArray(record.headers) ? (record.headers as RecordHeader[]) : undefined;
    const message = { topic: this.topic, partition: record.partition ?? 0, offset: -1n, timestamp: 0, value: null, key, headers, input: value, inputKey: record.key ?? undefined, attempts: 1 };
    const scripted = this.script.get(value)?.shift();
    this.scheduler.schedule(() => {
      this.outstanding--;
      this.reported++;
      if (scripted !== undefined) onReport(scripted === null ? { message: { ...message, offset: this.offset++ } } : { message, error: scripted });
      else if (this.failing.has(value)) onReport({ message, error: this.errorFor(value) });
      else onReport({ message: { ...message, offset: this.offset++ } });
    }, this.delays[value] ?? this.defaultDelay);
    return Promise.resolve(message);
  }

  /** stop() calls; produceTo stops the producer it made when its stream ends. */
  stops = 0;

  stop(): Promise<void> {
    this.stops++;
    return Promise.resolve();
  }

  errorFor(value: string): NotEnoughReplicasError {
    let error = this.errors.get(value);
    if (error === undefined) this.errors.set(value, (error = new NotEnoughReplicasError(`double failed ${value}`)));
    return error;
  }

  sentValues(): string[] {
    return [...this.sent];
  }
}
