import { expect } from 'chai';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ConfigError, KafkaRxError, DeliveryTimeoutError, MaybeWrittenError, NotEnoughReplicasError, RequestTimeoutError } from '../../lib/errors/index.js';
import type { DeliveryReport } from '../../lib/producer/message.js';
import { deadLetterRecord, toDeadLetter, type DeadLetterReport } from '../../operators/index.js';
import { ProducerDouble } from '../support/producer-double.js';

function report(value: string, error?: KafkaRxError, attempts = 1): DeliveryReport<string, unknown> {
  const message = {
    topic: 'orders', partition: 4, offset: error === undefined ? 7n : -1n, timestamp: 1000, value: Buffer.from(value), key: Buffer.from(`k-${value}`),
    headers: [{ key: 'origin', value: Buffer.from('web') }], input: value, inputKey: undefined, attempts,
  };
  return error === undefined ? { message } : { message, error };
}

const headerText = (headers: readonly { key: string; value: Buffer | null }[] | undefined) =>
  Object.fromEntries((headers ?? []).map((h) => [h.key, h.value?.toString() ?? null]));

describe('toDeadLetter (virtual time)', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  // The double's values are the dead-letter record's value as a string (what the producer was given).
  const summary = map((r: DeadLetterReport<string, unknown>) => `${r.original.message.input}${r.error === undefined ? '' : '!'}`);

  it('dead-letters failed reports, drops acknowledged ones, and emits each dead-letter write\'s report in input order', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const dlq = new ProducerDouble(scheduler, {}, new Set(), 1, 'orders.dlq');
      const failure = new NotEnoughReplicasError('short of replicas');
      const source = cold('-a-b-c-d-|', { a: report('a'), b: report('b', failure, 4), c: report('c'), d: report('d', new DeliveryTimeoutError('no ack')) });
      expectObservable(source.pipe(toDeadLetter(dlq as never), summary)).toBe('----b---d|', { b: 'b', d: 'd' });
      flush();
      expect(dlq.sentValues()).to.deep.equal(['b', 'd']);
      const { record } = dlq.records[0];
      expect(record.key).to.deep.equal(Buffer.from('k-b'));
      expect(headerText(record.headers as never)).to.deep.equal({
        origin: 'web',
        'dlq.error.name': 'NotEnoughReplicasError',
        'dlq.error.message': failure.message,
        'dlq.outcome': 'not-written',
        'dlq.source.topic': 'orders',
        'dlq.source.partition': '4',
        'dlq.attempts': '4',
      });
    });
  });

  it('says maybe-written for a MaybeWrittenError, and counts retryFailed\'s attempts over every send', () => {
    const maybe = { ...report('a', new MaybeWrittenError(new RequestTimeoutError('no answer'))), totalAttempts: 9 };
    const record = deadLetterRecord(maybe, 'x-');
    expect(headerText(record.headers as never)).to.include({ 'x-outcome': 'maybe-written', 'x-error.name': 'MaybeWrittenError', 'x-attempts': '9' });
  });

  it('keeps the caller\'s bytes for a record refused before serialization', () => {
    const refused: DeliveryReport<Buffer, string> = {
      message: { topic: 't', partition: -1, offset: -1n, timestamp: 0, value: null, key: null, headers: undefined, input: Buffer.from('raw'), inputKey: 'key', attempts: 0 },
      error: new DeliveryTimeoutError('x'),
    };
    const record = deadLetterRecord(refused);
    expect(record.value).to.deep.equal(Buffer.from('raw'));
    expect(record.key).to.deep.equal(Buffer.from('key'));
    expect(headerText(record.headers as never)).to.include({ 'dlq.source.partition': '-1', 'dlq.attempts': '0' });
  });

  it('reports a failed dead-letter write with its error and never dead-letters it again', () => {
    scheduler.run(({ cold, expectObservable, flush }) => {
      const dlq = new ProducerDouble(scheduler, {}, new Set(['a']), 2, 'orders.dlq');
      const source = cold('a|', { a: report('a', new DeliveryTimeoutError('x')) });
      const outcomes: DeadLetterReport<string, unknown>[] = [];
      expectObservable(source.pipe(toDeadLetter(dlq as never), map((r) => (outcomes.push(r as never), r)), summary)).toBe('--(a|)', { a: 'a!' });
      flush();
      expect(dlq.sentValues()).to.have.length(1);
      expect(outcomes[0].error).to.equal(dlq.errorFor('a'));
      expect(outcomes[0].deadLetter.error).to.equal(dlq.errorFor('a'));
    });
  });

  it('dead-letters only what `when` accepts', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const dlq = new ProducerDouble(scheduler, {}, new Set(), 1, 'orders.dlq');
      const source = cold('ab|', { a: report('a', new MaybeWrittenError(new RequestTimeoutError('x'))), b: report('b', new DeliveryTimeoutError('x')) });
      const notWritten = (r: DeliveryReport<string, unknown>) => !(r.error instanceof MaybeWrittenError);
      expectObservable(source.pipe(toDeadLetter(dlq as never, { when: notWritten }), summary)).toBe('--(b|)', { b: 'b' });
    });
  });

  it('completes after the last dead-letter write is reported, and errors at once with the source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const dlq = new ProducerDouble(scheduler, {}, new Set(), 5, 'orders.dlq');
      expectObservable(cold('a|', { a: report('a', new DeliveryTimeoutError('x')) }).pipe(toDeadLetter(dlq as never), summary)).toBe('-----(a|)', { a: 'a' });
      const broken = cold('a-#', { a: report('a', new DeliveryTimeoutError('x')) });
      // toKafka hands a source's error on as a KafkaRxError.
      expectObservable(broken.pipe(toDeadLetter(dlq as never), summary)).toBe('--#', undefined, new KafkaRxError('error'));
      expectSubscriptions(broken.subscriptions).toBe('^-!');
    });
  });

  it('stops reading on unsubscribe', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const dlq = new ProducerDouble(scheduler, {}, new Set(), 1, 'orders.dlq');
      const source = cold('a---b|', { a: report('a', new DeliveryTimeoutError('x')), b: report('b', new DeliveryTimeoutError('x')) });
      expectObservable(source.pipe(toDeadLetter(dlq as never), summary), '^--!').toBe('-a', { a: 'a' });
      expectSubscriptions(source.subscriptions).toBe('^--!');
      flush();
      expect(dlq.sentValues()).to.deep.equal(['a']);
    });
  });

  it('refuses options it does not know', () => {
    const dlq = { topic: 't', send: () => Promise.reject(new Error('unused')) };
    expect(() => toDeadLetter(dlq, { prefix: 'x' } as never)).to.throw(ConfigError, /prefix/);
    expect(() => toDeadLetter(dlq, { headerPrefix: 3 } as never)).to.throw(ConfigError, /headerPrefix/);
  });
});
