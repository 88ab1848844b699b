import { expect } from 'chai';
import { catchError, map, of, tap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { KafkaClient } from '../../lib/client.js';
import type { ProducerOptions } from '../../lib/producer/options.js';
import { produceTo, type SourceReport } from '../../operators/index.js';
import { ProducerDouble } from '../support/producer-double.js';

/** A KafkaClient's producer() handing out ProducerDoubles (acknowledging after 2 frames), kept for inspection. */
class ClientDouble {
  readonly producers: Array<{ topic: string; options: ProducerOptions; producer: ProducerDouble }> = [];
  constructor(private readonly scheduler: TestScheduler) {}

  producer(topic: string, options: ProducerOptions): ProducerDouble {
    const producer = new ProducerDouble(this.scheduler, {}, new Set(['bad']), 2, topic);
    this.producers.push({ topic, options, producer });
    return producer;
  }

  asClient(): KafkaClient {
    return this as unknown as KafkaClient;
  }
}

describe('produceTo (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  const summary = map((report: SourceReport<string, string, unknown>) => (report.error ? `${report.passThrough}!` : report.passThrough));

  it('makes its producer when subscribed, with the target\'s options, and reports like toKafka', () => {
    const client = new ClientDouble(scheduler);
    scheduler.run(({ cold, expectObservable }) => {
      const result = cold('a-b|').pipe(produceTo<string, string, string, unknown>({ topic: 'logs', lingerMs: 5 }, client.asClient()), summary);
      expect(client.producers).to.have.length(0);
      // No completion in virtual time: it waits for the producer's stop(), a promise.
      expectObservable(result).toBe('--a-b');
    });
    expect(client.producers.map((p) => [p.topic, p.options])).to.deep.equal([['logs', { lingerMs: 5 }]]);
    expect(client.producers[0].producer.sentValues()).to.deep.equal(['a', 'b']);
  });

  it('completes once every report is out and its producer has stopped', async () => {
    const client = new ClientDouble(scheduler);
    let completed = false;
    let stopsAtCompletion = -1;
    scheduler.run(({ cold }) => {
      cold('a-b|').pipe(produceTo('logs', client.asClient()), tap({ complete: () => {
        completed = true;
        stopsAtCompletion = client.producers[0].producer.stops;
      } })).subscribe();
    });
    expect(completed).to.equal(false);
    expect(client.producers[0].producer.stops).to.equal(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(completed).to.equal(true);
    expect(stopsAtCompletion).to.equal(1);
    expect(client.producers[0].producer.stops).to.equal(1);
  });

  it('a failed record is a report like any other; onError: \'fail\' errors the stream and stops the producer', () => {
    const client = new ClientDouble(scheduler);
    scheduler.run(({ cold, expectObservable }) => {
      const result = cold('a-x---c|', { a: 'a', x: 'bad', c: 'c' }).pipe(
        produceTo<string, string, string, unknown>('logs', client.asClient(), { onError: 'fail', toRecord: (v) => ({ value: v }) }),
        summary,
        catchError((error) => of(error === client.producers[0].producer.errorFor('bad') ? 'E' : 'other')),
      );
      // c comes after the failure is known: it is never read.
      expectObservable(result).toBe('--a-(xE|)', { a: 'a', x: 'bad!', E: 'E' });
    });
    expect(client.producers[0].producer.stops).to.equal(1);
    expect(client.producers[0].producer.sentValues()).to.deep.equal(['a', 'bad']);
  });

  it('stops its producer when the source errors, passing the error on', () => {
    const client = new ClientDouble(scheduler);
    scheduler.run(({ cold, expectObservable }) => {
      const boom = new Error('source failed');
      const result = cold('a#', undefined, boom).pipe(
        produceTo('logs', client.asClient()),
        catchError((error: { cause?: unknown }) => of(error.cause === boom ? 'E' : 'other')),
      );
      expectObservable(result).toBe('-(E|)');
    });
    expect(client.producers[0].producer.stops).to.equal(1);
  });

  it('stops its producer when unsubscribed, and reads no more of the source', () => {
    const client = new ClientDouble(scheduler);
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d|');
      expectObservable(source.pipe(produceTo('logs', client.asClient()), summary), '---!').toBe('--a');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    expect(client.producers[0].producer.stops).to.equal(1);
    expect(client.producers[0].producer.sentValues()).to.deep.equal(['a', 'b']);
  });

  it('makes a producer per subscription', () => {
    const client = new ClientDouble(scheduler);
    scheduler.run(({ cold, expectObservable }) => {
      const result = cold('a|').pipe(produceTo('logs', client.asClient()), summary);
      expectObservable(result).toBe('--a');
      expectObservable(result).toBe('--a');
    });
    expect(client.producers).to.have.length(2);
    expect(client.producers.map((p) => p.producer.stops)).to.deep.equal([1, 1]);
  });
});
