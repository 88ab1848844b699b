import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { KafkaClient, RecordTypeError, type DeliveryReport } from '../../lib/index.js';
import { loadTracing } from '../../lib/producer/tracing.js';
import { bootstrap } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

const headerOf = (headers: readonly { key: string; value: Buffer | null }[], key: string) =>
  headers.filter((h) => h.key === key).map((h) => h.value?.toString() ?? null);

describe('trace context against the real broker (OpenTelemetry SDK, in-memory exporter, read back by kcat)', function () {
  this.timeout(120_000);
  let client: KafkaClient;

  before(() => {
    client = new KafkaClient({ brokers: bootstrap(), clientId: 'kafka-rx-trace-spec' });
  });
  after(async () => {
    await client.close();
  });

  describe('with an SDK registered', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const contextManager = new AsyncLocalStorageContextManager();

    before(() => {
      trace.setGlobalTracerProvider(provider);
      context.setGlobalContextManager(contextManager.enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    });
    after(async () => {
      // Other specs in the run must see no SDK again: their headers stay exactly as given.
      trace.disable();
      context.disable();
      propagation.disable();
      await provider.shutdown();
    });
    beforeEach(() => exporter.reset());

    it('records a PRODUCER span per record as a child of the active span, and kcat reads its traceparent in each record', async () => {
      const topic = uniqueTopic('trace');
      await createTopic(topic, { partitions: 3 });
      const producer = client.producer(topic, { lingerMs: 5 });
      const reports: DeliveryReport[] = [];
      producer.deliveryReports$.subscribe((report) => reports.push(report));
      const tracer = trace.getTracer('spec');
      const parent = tracer.startActiveSpan('handle request', (span) => {
        // Called before the producer has its metadata: the first records wait for it, still traced.
        for (let i = 0; i < 5; i++) {
          void producer.produce(Buffer.from(`value-${i}`), { key: Buffer.from(`key-${i}`), headers: { origin: 'spec', traceparent: 'stale' } });
        }
        span.end();
        return span;
      });
      await producer.stop();
      expect(reports.filter((r) => r.error === undefined)).to.have.length(5);

      const sends = exporter.getFinishedSpans().filter((span) => span.name === `send ${topic}`);
      expect(sends).to.have.length(5);
      const parentContext = parent.spanContext();
      const byValue = new Map<string, ReadableSpan>();
      for (const span of sends) {
        expect(span.kind).to.equal(SpanKind.PRODUCER);
        expect(span.spanContext().traceId).to.equal(parentContext.traceId);
        expect(span.parentSpanContext?.spanId).to.equal(parentContext.spanId);
        expect(span.attributes).to.include({ 'messaging.system': 'kafka', 'messaging.operation.type': 'send', 'messaging.destination.name': topic, 'messaging.message.body.size': 7 });
        expect(span.status.code).to.not.equal(SpanStatusCode.ERROR);
        byValue.set(span.spanContext().spanId, span);
      }

      const records = await consumeAll(topic, { count: 5 });
      expect(records).to.have.length(5);
      for (const record of records) {
        expect(headerOf(record.headers, 'origin')).to.deep.equal(['spec']);
        const [traceparent, ...more] = headerOf(record.headers, 'traceparent');
        expect(more, 'the stale traceparent is replaced, not kept beside the new one').to.deep.equal([]);
        const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparent ?? '');
        expect(match, `traceparent ${traceparent}`).to.not.equal(null);
        expect(match![1]).to.equal(parentContext.traceId);
        // The record carries its own send span's context, whose attributes say where it landed.
        const span = byValue.get(match![2]);
        expect(span, 'a send span with the id in the header').to.not.equal(undefined);
        expect(span!.attributes['messaging.destination.partition.id']).to.equal(String(record.partition));
        expect(span!.attributes['messaging.kafka.offset']).to.equal(Number(record.offset));
      }
    });

    it('ends the span of a failed record with the error: refused input and a topic the broker refuses', async () => {
      const topic = uniqueTopic('trace-fail');
      // The broker refuses records over 200 bytes on this topic: a real failure, not written.
      await createTopic(topic, { partitions: 1, configs: { 'max.message.bytes': 200 } });
      const producer = client.producer(topic, { lingerMs: 0 });
      await producer.produce(Buffer.from('warm-up'));
      await producer.flush();
      exporter.reset();
      const refused = await producer.produce(42 as never).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(RecordTypeError);
      const reports: DeliveryReport[] = [];
      producer.deliveryReports$.subscribe((report) => reports.push(report));
      await producer.produce(Buffer.alloc(1000));
      await producer.stop();
      expect(reports).to.have.length(1);
      expect(reports[0].error, 'the broker refused the large record').to.not.equal(undefined);

      const spans = exporter.getFinishedSpans();
      expect(spans.map((s) => s.attributes['error.type'])).to.deep.equal(['RecordTypeError', reports[0].error!.name]);
      for (const span of spans) {
        expect(span.status.code).to.equal(SpanStatusCode.ERROR);
        expect(span.events.map((e) => e.name)).to.include('exception');
        expect(span.attributes['messaging.kafka.offset']).to.equal(undefined);
      }
      expect(spans[1].attributes['messaging.destination.partition.id']).to.equal('0');
    });
  });

  it('adds no header and records nothing with @opentelemetry/api installed but no SDK registered', async () => {
    const topic = uniqueTopic('trace-none');
    await createTopic(topic, { partitions: 1 });
    const producer = client.producer(topic, { lingerMs: 0 });
    await producer.produce(Buffer.from('plain'), { headers: [{ key: 'origin', value: Buffer.from('spec') }] });
    await producer.stop();
    const records = await consumeAll(topic, { count: 1 });
    expect(records[0].headers).to.deep.equal([{ key: 'origin', value: Buffer.from('spec') }]);
  });

  it('skips the no-op span while no SDK is registered, and traces from the next record once one is', async () => {
    const topic = uniqueTopic('trace-late');
    await createTopic(topic, { partitions: 1 });
    const producer = client.producer(topic, { lingerMs: 0 });
    const tracing = await loadTracing();
    expect(tracing!.begin(topic, undefined, null, null), 'no SDK: nothing to record').to.equal(null);
    await producer.produce(Buffer.from('before'));
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    let spanNames: string[];
    try {
      await producer.produce(Buffer.from('after'));
      await producer.stop();
      // Read before shutdown(): the in-memory exporter forgets its spans when it shuts down.
      spanNames = exporter.getFinishedSpans().map((span) => span.name);
    } finally {
      trace.disable();
      propagation.disable();
      await provider.shutdown();
    }
    const records = await consumeAll(topic, { count: 2 });
    expect(records.map((r) => headerOf(r.headers, 'traceparent').length)).to.deep.equal([0, 1]);
    expect(spanNames).to.deep.equal([`send ${topic}`]);
  });

  it('loads nothing when @opentelemetry/api is not installed', async () => {
    const missing = Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
    expect(await loadTracing(() => Promise.reject(missing))).to.equal(null);
    expect(await loadTracing()).to.not.equal(null);
  });
});
