import type { TestScheduler } from 'rxjs/testing';
import { NotEnoughReplicasError } from '../../lib/errors.js';
import type { DeliveryReport, Message } from '../../lib/producer/message.js';
import type { ProduceOptions } from '../../lib/producer/producer.js';
import type { ProducerLike } from '../../operators/to-kafka.js';

/**
 * A producer double for operator marble tests: it acknowledges each record after a delay in
 * virtual time (per value, or a default), fails the values it is told to with a typed error, and
 * counts what is outstanding — the contract of Producer.send(), with timing under test control.
 */
export class ProducerDouble implements ProducerLike<string, unknown> {
  readonly topic = 'double';
  outstanding = 0;
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
  ) {}

  send(value: string, _record: ProduceOptions<unknown>, onReport: (report: DeliveryReport<string, unknown>) => void): Promise<Message<string, unknown>> {
    this.sent.push(value);
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    const message = { topic: this.topic, partition: 0, offset: -1n, timestamp: 0, value: null, key: null, headers: undefined, input: value, inputKey: undefined, attempts: 1 };
    this.scheduler.schedule(() => {
      this.outstanding--;
      this.reported++;
      if (this.failing.has(value)) onReport({ message, error: this.errorFor(value) });
      else onReport({ message: { ...message, offset: this.offset++ } });
    }, this.delays[value] ?? this.defaultDelay);
    return Promise.resolve(message);
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
