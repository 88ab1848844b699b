import { asKafkaRxError } from '../errors/convert.js';
import type { DeliveryReport, RecordHeader } from './message.js';
import type { RecordHeaders } from './record.js';

// The few parts of @opentelemetry/api the producer uses, written out so that kafka-rx's types
// never name a package its users may not have installed.
interface Span {
  setAttribute(key: string, value: string | number): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: Error): unknown;
  end(): void;
}

interface Tracer {
  startSpan(name: string, options: { kind: number; attributes: Record<string, string | number> }, context: unknown): Span;
}

interface TracerProvider {
  /** ProxyTracerProvider's: the SDK's provider once one is registered, the API's no-op one before. */
  getDelegate?(): unknown;
}

interface OpenTelemetryApi {
  trace: { getTracer(name: string): Tracer; getTracerProvider(): TracerProvider; setSpan(context: unknown, span: Span): unknown };
  ProxyTracerProvider?: new () => TracerProvider;
  context: { active(): unknown };
  propagation: { inject(context: unknown, carrier: Array<[string, string]>, setter: { set(carrier: Array<[string, string]>, key: string, value: string): void }): void };
  SpanKind: { PRODUCER: number };
  SpanStatusCode: { ERROR: number };
}

type Headers = RecordHeaders | undefined;
type OnReport<V, K> = ((report: DeliveryReport<V, K>) => void) | null;

/** What begin() gives back: the headers to send (the trace context added) and the callback that ends the span. */
export interface TracedRecord<V, K> {
  headers: Headers;
  onReport: (report: DeliveryReport<V, K>) => void;
  /** Ends the span of a record the producer refused (bad input, full queue): it got no report. */
  refused(error: unknown): void;
}

const setter = {
  set(carrier: Array<[string, string]>, key: string, value: string): void {
    carrier.push([key, value]);
  },
};

/**
 * Trace context for a producer, when @opentelemetry/api is installed: one PRODUCER span per record,
 * from produce() to its delivery report, with OpenTelemetry's messaging attributes, and the span's
 * context written into the record's headers by the global propagator (W3C `traceparent` with the
 * SDK's default). A span per record rather than per request: records of one request come from
 * different callers' traces, and each consumer continues the trace of its own record.
 */
export class ProducerTracing {
  private readonly tracer: Tracer;
  /** The API's no-op tracer provider: while it is the one in force, no SDK is registered. */
  private readonly noopProvider: unknown;

  constructor(private readonly api: OpenTelemetryApi) {
    this.tracer = api.trace.getTracer('kafka-rx');
    this.noopProvider = api.ProxyTracerProvider === undefined ? undefined : new api.ProxyTracerProvider().getDelegate?.();
  }

  /**
   * The record's span and headers; null while no SDK is registered. The API is often installed as
   * some other package's dependency with no SDK at all: its no-op span, context and propagator cost
   * about 0.7 µs per record (bench:tracing), so the producer skips them rather than record nothing.
   */
  begin<V, K>(topic: string, headers: Headers, onReport: OnReport<V, K>, value: unknown): TracedRecord<V, K> | null {
    if (!this.sdkRegistered()) return null;
    // The span's closures are made in a function of their own: a record without a span must not
    // pay for their context.
    return this.traced(topic, headers, onReport, value);
  }

  /**
   * Whether an SDK is registered, asked of the API once per synchronous run of produce() calls
   * (until the next microtask) rather than per record: the question is four calls into the API's
   * objects, about 2% of a pipelined pass when asked per record. An SDK registered meanwhile is
   * seen from the next run on.
   */
  private sdkRegistered(): boolean {
    let registered = this.registered;
    if (registered === null) {
      registered = this.noopProvider === undefined || this.api.trace.getTracerProvider().getDelegate?.() !== this.noopProvider;
      this.registered = registered;
      queueMicrotask(this.askAgain);
    }
    return registered;
  }

  private registered: boolean | null = null;
  private readonly askAgain = (): void => {
    this.registered = null;
  };

  private traced<V, K>(topic: string, headers: Headers, onReport: OnReport<V, K>, value: unknown): TracedRecord<V, K> {
    const { api } = this;
    const parent = api.context.active();
    const attributes: Record<string, string | number> = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': topic,
    };
    if (Buffer.isBuffer(value)) attributes['messaging.message.body.size'] = value.length;
    const span = this.tracer.startSpan(`send ${topic}`, { kind: api.SpanKind.PRODUCER, attributes }, parent);
    const injected: Array<[string, string]> = [];
    api.propagation.inject(api.trace.setSpan(parent, span), injected, setter);
    return {
      headers: injected.length === 0 ? headers : withHeaders(headers, injected),
      onReport: (report) => {
        end(api, span, report);
        if (onReport !== null) onReport(report);
      },
      refused: (error) => {
        failed(api, span, error);
        span.end();
      },
    };
  }
}

function end(api: OpenTelemetryApi, span: Span, report: DeliveryReport<unknown, unknown>): void {
  const { message } = report;
  if (message.partition >= 0) span.setAttribute('messaging.destination.partition.id', String(message.partition));
  if (report.error !== undefined) failed(api, span, report.error);
  else if (message.offset >= 0n) span.setAttribute('messaging.kafka.offset', Number(message.offset));
  span.end();
}

function failed(api: OpenTelemetryApi, span: Span, error: unknown): void {
  const typed = asKafkaRxError(error);
  span.setAttribute('error.type', typed.name);
  span.recordException(typed);
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: typed.message });
}

/**
 * The caller's headers with the propagator's added, replacing any of the same name (a record
 * forwarded from another topic carries its old trace context). The caller's array is not changed.
 * Headers of a kind produce() refuses are left for it to refuse.
 */
function withHeaders(headers: Headers, injected: Array<[string, string]>): Headers {
  let list: RecordHeader[];
  if (headers === undefined || headers === null) list = [];
  else if (Array.isArray(headers)) list = headers;
  else if (typeof headers === 'object' && !Buffer.isBuffer(headers) && !(headers instanceof Uint8Array)) {
    const entries = headers instanceof Map ? [...headers] : Object.entries(headers);
    list = entries.map(([key, value]) => ({ key, value: typeof value === 'string' ? Buffer.from(value) : value }) as RecordHeader);
  } else return headers;
  const names = new Set(injected.map(([key]) => key));
  const result = list.filter((header) => header === null || typeof header !== 'object' || !names.has(header.key));
  for (const [key, value] of injected) result.push({ key, value: Buffer.from(value) });
  return result;
}

/** The name held in a variable: kafka-rx type-checks and builds without the package installed. */
function importOpenTelemetryApi(): Promise<unknown> {
  const name = '@opentelemetry/api';
  return import(name);
}

/**
 * Loads @opentelemetry/api if it is installed: a ProducerTracing, or null when it is not (then
 * the producer does nothing more per record than test that it is null). Asynchronous, the one
 * form of optional loading that works from both the CommonJS and the ES module build.
 */
export function loadTracing(load: () => Promise<unknown> = importOpenTelemetryApi): Promise<ProducerTracing | null> {
  return load().then(
    (module) => {
      const loaded = module as Partial<OpenTelemetryApi> & { default?: Partial<OpenTelemetryApi> };
      const api = loaded.trace !== undefined ? loaded : loaded.default;
      if (api?.trace === undefined || api.context === undefined || api.propagation === undefined || api.SpanKind === undefined) return null;
      return new ProducerTracing(api as OpenTelemetryApi);
    },
    () => null,
  );
}
