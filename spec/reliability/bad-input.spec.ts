// Bad input refused where it enters, with a typed error naming what is wrong: every producer
// option, the client's options and the operators' options (ConfigError naming the option), and
// values, keys, headers, timestamps and partitions of the wrong type (a TypeError naming the
// field) — without costing any other message its delivery. Against the cluster double; what needs
// a broker (oversize records, unknown topics) is in bad-input.integration.spec.ts.
import { expect } from 'chai';
import { asapScheduler, asyncScheduler, of, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  ClientClosedError,
  ConfigError,
  GroupHashingPartitioner,
  HashingPartitioner,
  InvalidPartitionError,
  jsonSerializer,
  KafkaClient,
  PartitionerError,
  RecordTypeError,
  SerializationError,
  type ProducerOptions,
} from '../../lib/index.js';
import type { DeliveryReport } from '../../lib/producer/message.js';
import { Producer } from '../../lib/producer/producer.js';
import { toKafka } from '../../operators/index.js';
import { FakeTransport } from '../support/fake-transport.js';

/** For each producer option, values it must refuse (wrong type first, then out of range). */
const badProducerOptions: Record<keyof ProducerOptions, unknown[]> = {
  partitioner: ['random', 42, {}, { partition: 'no' }],
  compression: ['brotli', 5, -1, true, {}],
  maxRetries: ['3', -1, 1.5, NaN, Infinity, null],
  retryBackoffMs: ['100', -1, 0.5, NaN],
  retryBackoffMaxMs: ['1000', -1, 0.5, NaN, null],
  requiredAcks: ['1', 2, -2, 'one', null, true],
  ackTimeoutMs: ['10', -1, 2 ** 31, 1.5],
  maxQueuedMessages: ['10', 0, -1, 2.5],
  maxQueuedBytes: ['10', 0, -1, 2.5, Infinity],
  minQueuedMessages: ['10', 0, -3, 0.5],
  lingerMs: ['5', -5, 1.5, NaN],
  queueEmptyTimeoutMs: ['0', -2, 0.5],
  blockOnQueueFull: ['yes', 1, null],
  maxRequestSize: ['1000', 0, 1023, 2 ** 31, 1.5],
  sync: ['true', 1, {}],
  deliveryReports: ['false', 0],
  pendingTimeoutMs: ['5000', -2, 0.5, NaN],
  autoStart: ['no', 0],
  serializer: [42, 'utf8', {}],
  deliveryTimeoutMs: ['1', -2, 1.5],
  enableIdempotence: ['true', 1],
  maxInFlightRequestsPerBroker: ['5', 0, 1001, 2.5],
  statsIntervalMs: ['1000', 0, -1, 1.5],
  scheduler: ['async', 1, {}, { schedule: () => undefined }],
  transactionalId: ['', 42, {}, true],
  transactionTimeoutMs: ['60000', 0, -1, 1.5, 2 ** 31],
};

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('reliability: bad input is refused with typed errors', () => {
  describe('options', () => {
    it('refuses a wrong value of every producer option with a ConfigError naming it', () => {
      const transport = new FakeTransport(1);
      let checked = 0;
      for (const [name, values] of Object.entries(badProducerOptions)) {
        for (const value of values) {
          // Options that only conflict with others are given a context in which the value alone is wrong.
          const error = caught(() => new Producer(transport, 'events', { autoStart: false, [name]: value }));
          expect(error, `${name}: ${String(value)}`).to.be.instanceOf(ConfigError);
          expect((error as ConfigError).option, `${name}: ${String(value)}`).to.equal(name);
          expect((error as Error).message).to.contain(name);
          checked++;
        }
      }
      expect(checked).to.be.greaterThan(80);
    });

    it('names every producer option in the table above (a new option cannot go unchecked)', () => {
      const error = caught(() => new Producer(new FakeTransport(1), 'events', { autoStart: false, noSuchOption: 1 } as ProducerOptions)) as ConfigError;
      expect(error).to.be.instanceOf(ConfigError);
      expect(error.option).to.equal('noSuchOption');
      // The error lists the known options: each must have bad values above.
      const known = error.accepted.replace(/^one of the known options: /, '').split(', ');
      expect(known.sort()).to.deep.equal(Object.keys(badProducerOptions).sort());
    });

    it('refuses conflicting producer options, naming the one to change', () => {
      const transport = new FakeTransport(1);
      const conflicts: Array<[ProducerOptions, string]> = [
        [{ enableIdempotence: true, requiredAcks: 1 }, 'enableIdempotence'],
        [{ enableIdempotence: true, requiredAcks: -1, maxInFlightRequestsPerBroker: 6 }, 'maxInFlightRequestsPerBroker'],
      ];
      for (const [options, name] of conflicts) {
        const error = caught(() => new Producer(transport, 'events', { autoStart: false, ...options }));
        expect(error, name).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).option).to.equal(name);
      }
      expect(caught(() => new Producer(transport, 'events', null as unknown as ProducerOptions))).to.be.instanceOf(ConfigError);
      expect(caught(() => new Producer(transport, '' as string))).to.be.instanceOf(TypeError);
    });

    it('refuses a wrong value of every client option with a ConfigError naming it', () => {
      const bad: Array<[string, unknown]> = [
        ['brokers', []], ['brokers', 'no-port'], ['brokers', [9092]], ['brokers', ['host:port']],
        ['clientId', 7],
        ['requestTimeoutMs', 0], ['requestTimeoutMs', '30000'], ['requestTimeoutMs', 1.5],
        ['connectTimeoutMs', 0], ['connectTimeoutMs', 'soon'],
        ['firstContactTimeoutMs', 0], ['firstContactTimeoutMs', '10s'],
        ['unknownTopicCacheMs', -1], ['unknownTopicCacheMs', 1.5],
        ['metadataMaxAgeMs', -1], ['metadataMaxAgeMs', '1'],
        ['metadataMaxIdleMs', 0], ['metadataMaxIdleMs', 1.5],
        ['reconnectBackoffMs', -1], ['reconnectBackoffMs', 'x'],
        ['reconnectBackoffMaxMs', -5], ['reconnectBackoffMaxMs', 2.5],
        ['maxInFlightRequests', 0], ['maxInFlightRequests', '5'],
        ['socketFactory', 'net'],
        ['scheduler', 'async'], ['scheduler', 1], ['scheduler', {}], ['scheduler', { schedule: () => undefined }],
        ['requestTimeout', 1000],
      ];
      for (const [name, value] of bad) {
        const error = caught(() => new KafkaClient({ brokers: ['127.0.0.1:9'], [name]: value } as never));
        expect(error, `${name}: ${JSON.stringify(value)}`).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).option, `${name}: ${JSON.stringify(value)}`).to.equal(name);
      }
      expect(caught(() => new KafkaClient(undefined as never))).to.be.instanceOf(ConfigError);
    });

    it('gives its scheduler to its producers, unless a producer names its own; refuses a producer\'s options that are no object', async () => {
      const scheduler = new TestScheduler(() => undefined);
      const client = new KafkaClient({ brokers: ['127.0.0.1:9'], scheduler });
      try {
        expect(client.cluster.scheduler).to.equal(scheduler);
        expect(client.producer('events', { autoStart: false }).options.scheduler).to.equal(scheduler);
        expect(client.producer({ autoStart: false }).options.scheduler).to.equal(scheduler);
        expect(client.producer('events', { autoStart: false, scheduler: asapScheduler }).options.scheduler).to.equal(asapScheduler);
        expect(caught(() => client.producer('events', 42 as never))).to.be.instanceOf(ConfigError);
        const realClock = new KafkaClient({ brokers: ['127.0.0.1:9'] });
        expect(realClock.producer('events', { autoStart: false }).options.scheduler).to.equal(asyncScheduler);
        await realClock.close();
      } finally {
        await client.close();
      }
    });

    it('refuses an idempotent producer on a client allowing more than 5 requests in flight, naming the client option', async () => {
      const client = new KafkaClient({ brokers: ['127.0.0.1:9'], maxInFlightRequests: 6 });
      try {
        const error = caught(() => client.producer('events', { requiredAcks: -1, autoStart: false }));
        expect(error).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).option).to.equal('maxInFlightRequests');
        // Not idempotent: allowed, as is an idempotent producer on a client with the default bound.
        expect(client.producer('events', { requiredAcks: -1, enableIdempotence: false, autoStart: false }).options.enableIdempotence).to.equal(false);
        const bounded = new KafkaClient({ brokers: ['127.0.0.1:9'] });
        expect(bounded.producer('events', { requiredAcks: -1, autoStart: false }).options.enableIdempotence).to.equal(true);
        await bounded.close();
      } finally {
        await client.close();
      }
    });

    it('refuses wrong toKafka() and sendAll() options with a ConfigError naming them', async () => {
      const producer = new Producer(new FakeTransport(1), 'events', { autoStart: false });
      const bad: Array<[string, unknown]> = [
        ['maxInFlight', 0], ['maxInFlight', '10'], ['maxInFlightBytes', -1], ['maxBuffered', 1.5],
        ['overflow', 'drop'], ['onError', 'ignore'], ['order', 'random'], ['toRecord', 'value'], ['passThrough', 3],
        ['maxInflight', 10],
      ];
      for (const [name, value] of bad) {
        const error = caught(() => toKafka(producer, { [name]: value } as never));
        expect(error, `toKafka ${name}: ${JSON.stringify(value)}`).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).option).to.equal(name);
      }
      for (const [name, value] of [['maxInFlight', 0], ['maxInFlight', 'all'], ['toRecord', {}]] as Array<[string, unknown]>) {
        const error = await rejection(producer.sendAll([1, 2, 3], { [name]: value } as never).next());
        expect(error, `sendAll ${name}: ${JSON.stringify(value)}`).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).option).to.equal(name);
      }
      await producer.stop();
    });
  });

  describe('records without a serializer', () => {
    async function withProducer(run: (producer: Producer, reports: DeliveryReport[]) => Promise<void>) {
      const transport = new FakeTransport(3);
      const producer = new Producer(transport, 'events', { lingerMs: 1, retryBackoffMs: 1 });
      const reports: DeliveryReport[] = [];
      producer.deliveryReports$.subscribe((report) => reports.push(report));
      await run(producer, reports);
      await producer.stop();
    }

    const wrong: Array<[string, (producer: Producer) => Promise<unknown>, string, typeof TypeError | typeof InvalidPartitionError]> = [
      ['a string value', (p) => p.produce('text' as never), 'value', TypeError],
      ['a number value', (p) => p.produce(42 as never), 'value', TypeError],
      ['an object value', (p) => p.produce({ id: 1 } as never), 'value', TypeError],
      ['an array value', (p) => p.produce([1, 2] as never), 'value', TypeError],
      ['a boolean value', (p) => p.produce(true as never), 'value', TypeError],
      ['a string key (pykafka form)', (p) => p.produce(Buffer.from('v'), 'k' as never), 'key', TypeError],
      ['a number key (record form)', (p) => p.produce(Buffer.from('v'), { key: 12 as never }), 'key', TypeError],
      ['a header with a number value', (p) => p.produce(Buffer.from('v'), { headers: { h: 5 as never } }), 'headers', TypeError],
      ['a header without a string key', (p) => p.produce(Buffer.from('v'), { headers: [{ key: 5, value: null }] as never }), 'headers[0].key', TypeError],
      ['headers as a string', (p) => p.produce(Buffer.from('v'), { headers: 'h=v' as never }), 'headers', TypeError],
      ['headers as a number', (p) => p.produce(Buffer.from('v'), { headers: 7 as never }), 'headers', TypeError],
      ['a timestamp string', (p) => p.produce(Buffer.from('v'), { timestamp: 'now' as never }), 'timestamp', TypeError],
      ['an invalid Date', (p) => p.produce(Buffer.from('v'), { timestamp: new Date('no') }), 'timestamp', TypeError],
      ['a NaN timestamp (pykafka form)', (p) => p.produce(Buffer.from('v'), null, NaN), 'timestamp', TypeError],
      ['a partition string', (p) => p.produce(Buffer.from('v'), { partition: '0' as never }), 'partition', TypeError],
      ['a fractional partition', (p) => p.produce(Buffer.from('v'), { partition: 0.5 }), 'partition', TypeError],
      ['a partition the topic does not have', (p) => p.produce(Buffer.from('v'), { partition: 3 }), 'partition 3', InvalidPartitionError],
      ['a negative partition', (p) => p.produce(Buffer.from('v'), { partition: -1 }), 'partition -1', InvalidPartitionError],
    ];

    it('rejects each at produce() with a TypeError naming the field, and delivers the valid messages around it', async () => {
      await withProducer(async (producer, reports) => {
        let index = 0;
        for (const [what, produce, field, ErrorClass] of wrong) {
          await producer.produce(Buffer.from(`ok-${index++}`));
          const error = await rejection(produce(producer));
          expect(error, what).to.be.instanceOf(ErrorClass);
          expect((error as Error).message, what).to.contain(field);
          if (ErrorClass === TypeError) expect((error as RecordTypeError).field, what).to.be.a('string');
        }
        await producer.produce(Buffer.from(`ok-${index++}`));
        await producer.flush();
        expect(reports.filter((r) => r.error !== undefined)).to.have.length(0);
        expect(reports.map((r) => r.message.value!.toString()).sort()).to.deep.equal(Array.from({ length: index }, (_, i) => `ok-${i}`).sort());
      });
    });

    it('rejects what a serializer returns when it is not a [value, key] pair of bytes', async () => {
      const transport = new FakeTransport(1);
      const results: unknown[] = ['text', [Buffer.from('v')], [42, null], [Buffer.from('v'), 'k'], null];
      const fields = ['serializer result', 'serializer result', 'value', 'key', 'serializer result'];
      for (let i = 0; i < results.length; i++) {
        const producer = new Producer(transport, 'events', { lingerMs: 1, serializer: () => results[i] as never });
        const error = await rejection(producer.produce('anything' as never));
        expect(error, JSON.stringify(results[i])).to.be.instanceOf(TypeError);
        expect((error as RecordTypeError).field).to.equal(fields[i]);
        await producer.stop();
      }
    });

    it('reports a wrong record inside toKafka() as that value\'s failure, the others delivered', async () => {
      const transport = new FakeTransport(2);
      const producer = new Producer(transport, 'events', { lingerMs: 1 });
      const reports = await lastValueFrom(
        of('a', 'b', 'c').pipe(
          toKafka(producer, { toRecord: (v: string) => ({ value: (v === 'b' ? v : Buffer.from(v)) as Buffer }) }),
          toArray(),
        ),
      );
      await producer.stop();
      expect(reports.map((r) => [r.passThrough, r.error?.name])).to.deep.equal([['a', undefined], ['b', 'RecordTypeError'], ['c', undefined]]);
    });
  });

  describe('records that used to slip through (issue 15): each refused alone, with a typed error', () => {
    /** Produces good-0, the bad record, good-1; returns the bad one's error and the reports. */
    async function between(options: ProducerOptions, bad: (producer: Producer<any, any>) => Promise<unknown>) {
      const producer = new Producer<any, any>(new FakeTransport(3), 'events', { lingerMs: 1, retryBackoffMs: 1, ...options });
      const reports: DeliveryReport[] = [];
      producer.deliveryReports$.subscribe((report) => reports.push(report));
      const good = (i: number) => (options.serializer ? `good-${i}` : Buffer.from(`good-${i}`));
      await producer.produce(good(0));
      const error = await rejection(bad(producer));
      await producer.produce(good(1));
      await producer.flush();
      await producer.stop();
      expect(reports.map((r) => [String(r.message.input), r.error])).to.deep.equal([['good-0', undefined], ['good-1', undefined]]);
      return { error: error as Error, reports };
    }

    it('refuses a timestamp beyond what a record holds (1e20, 2^63, 2^53) instead of failing its batch', async () => {
      for (const timestamp of [1e20, 2 ** 63, 2 ** 53]) {
        const { error } = await between({}, (p) => p.produce(Buffer.from('bad'), { timestamp }));
        expect(error, String(timestamp)).to.be.instanceOf(RecordTypeError);
        expect((error as RecordTypeError).field).to.equal('timestamp');
      }
    });

    it('refuses a negative timestamp such as -1e20 (it would be written wrapped) and -1', async () => {
      for (const timestamp of [-1e20, -1, new Date(-1000)]) {
        const { error } = await between({}, (p) => p.produce(Buffer.from('bad'), null, timestamp));
        expect(error, String(timestamp)).to.be.instanceOf(RecordTypeError);
        expect((error as RecordTypeError).field).to.equal('timestamp');
      }
    });

    it('refuses an undefined value; null stays the tombstone', async () => {
      const { error } = await between({}, (p) => p.produce(undefined, Buffer.from('k')));
      expect(error).to.be.instanceOf(RecordTypeError);
      expect((error as RecordTypeError).field).to.equal('value');
      const withSerializer = await between({ serializer: jsonSerializer }, (p) => p.produce(undefined, 'k'));
      expect(withSerializer.error).to.be.instanceOf(RecordTypeError);
      const producer = new Producer(new FakeTransport(1), 'events', { lingerMs: 1 });
      const reports: DeliveryReport[] = [];
      producer.deliveryReports$.subscribe((report) => reports.push(report));
      await producer.produce(null, Buffer.from('k'));
      await producer.flush();
      await producer.stop();
      expect(reports.map((r) => [r.message.value, r.message.key?.toString(), r.error])).to.deep.equal([[null, 'k', undefined]]);
    });

    it('accepts headers given as a Map, strings as UTF-8', async () => {
      const producer = new Producer(new FakeTransport(1), 'events', { lingerMs: 1 });
      const reports: DeliveryReport[] = [];
      producer.deliveryReports$.subscribe((report) => reports.push(report));
      await producer.produce(Buffer.from('v'), { headers: new Map<string, string | Buffer | null>([['trace', 'abc'], ['raw', Buffer.from([1, 2])], ['none', null]]) });
      await producer.flush();
      await producer.stop();
      expect(reports[0].error).to.equal(undefined);
      expect(reports[0].message.headers).to.deep.equal([
        { key: 'trace', value: Buffer.from('abc') },
        { key: 'raw', value: Buffer.from([1, 2]) },
        { key: 'none', value: null },
      ]);
    });

    it('refuses an undefined header value, in every form, naming the header', async () => {
      const forms: Array<[unknown, string]> = [
        [{ a: undefined }, 'headers.a'],
        [[{ key: 'a', value: undefined }], 'headers[0].value'],
        [new Map([['a', undefined]]), 'headers.a'],
      ];
      for (const [headers, field] of forms) {
        const { error } = await between({}, (p) => p.produce(Buffer.from('bad'), { headers: headers as never }));
        expect(error, field).to.be.instanceOf(RecordTypeError);
        expect((error as RecordTypeError).field).to.equal(field);
      }
    });

    it('wraps a throwing partitioner in PartitionerError with the cause', async () => {
      const cause = new Error('no partition for you');
      const partitioner = (key: Buffer | null, partitions: readonly number[]) => {
        if (key?.toString() === 'bad') throw cause;
        return partitions[0];
      };
      const { error } = await between({ partitioner }, (p) => p.produce(Buffer.from('v'), Buffer.from('bad')));
      expect(error).to.be.instanceOf(PartitionerError);
      expect(error.cause).to.equal(cause);
      expect(error.message).to.contain('no partition for you');
    });

    it('wraps a throwing serializer in SerializationError with the cause', async () => {
      const cause = new RangeError('cannot serialise this');
      const serializer = (value: unknown) => {
        if (value === 'bad') throw cause;
        return [Buffer.isBuffer(value) ? value : Buffer.from(String(value)), null] as [Buffer, null];
      };
      const { error } = await between({ serializer }, (p) => p.produce('bad'));
      expect(error).to.be.instanceOf(SerializationError);
      expect(error.cause).to.equal(cause);
    });

    it('wraps jsonSerializer on a circular object in SerializationError with the TypeError as cause', async () => {
      const circular: Record<string, unknown> = { id: 1 };
      circular.self = circular;
      const { error } = await between({ serializer: jsonSerializer }, (p) => p.produce(circular));
      expect(error).to.be.instanceOf(SerializationError);
      expect(error.cause).to.be.instanceOf(TypeError);
    });

    it('refuses client.producer() after client.close(), at once', async () => {
      const client = new KafkaClient({ brokers: ['127.0.0.1:9'] });
      await client.close();
      expect(caught(() => client.producer('events', { autoStart: false }))).to.be.instanceOf(ClientClosedError);
    });

    it('refuses a hashing partitioner without a hash function at construction', () => {
      for (const make of [() => new HashingPartitioner(null as never), () => new GroupHashingPartitioner(1, null as never), () => new GroupHashingPartitioner(2, 'sha1' as never)]) {
        const error = caught(make);
        expect(error).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).option).to.equal('hash');
      }
      expect(new HashingPartitioner().partition(Buffer.from('foo'), [0, 1, 2])).to.equal(2);
    });
  });
});
