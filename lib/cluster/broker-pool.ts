import type { Socket } from 'node:net';
import { asyncScheduler, lastValueFrom, timer, type SchedulerLike } from 'rxjs';
import { ConnectionError, KafkaRxError } from '../errors/index.js';
import { Connection } from '../network/connection.js';
import { FrameWriter } from '../protocol/frame-writer.js';
import type { ConnectionSecurity } from '../network/security.js';

export interface BrokerPoolOptions {
  clientId: string;
  connectTimeoutMs?: number;
  firstContactTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxInFlightRequests?: number;
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  socketFactory?: (host: string, port: number) => Socket;
  security?: ConnectionSecurity;
  /** The clock and timer of the reconnect backoff. */
  scheduler?: SchedulerLike;
}

/** The first pause before connecting again to a broker that failed (reconnectBackoffMs). */
export const DEFAULT_RECONNECT_BACKOFF_MS = 100;
/** The longest such pause (reconnectBackoffMaxMs). */
export const DEFAULT_RECONNECT_BACKOFF_MAX_MS = 10_000;
/** Each pause is spread by up to this share either way, so clients that failed together do not reconnect together. */
const RECONNECT_JITTER = 0.2;

interface Slot {
  connection: Promise<Connection> | null;
  /** The connection once open, until it closes: lets a request skip awaiting the promise. */
  open: Connection | null;
  failures: number;
  retryAt: number;
  /**
   * Why the last attempt failed, when another attempt would fail the same way (TLS or SASL refused):
   * callers until retryAt get it at once instead of waiting for an attempt the backoff delays.
   */
  refusal: KafkaRxError | null;
}

/**
 * One connection per broker address, opened on first use; callers asking at the same time share
 * one attempt, a lost connection is replaced on the next use, and after failures a broker is
 * retried only after an exponential backoff, so an outage does not become a connect storm.
 */
export class BrokerPool {
  private readonly slots = new Map<string, Slot>();
  /**
   * The same slots by host, then port: openTo() runs twice per request, and a "host:port" key
   * built each time cost one record at a time ~3 µs (a new string hashed per look-up; bench/PROFILE.md).
   */
  private readonly byHost = new Map<string, Map<number, Slot>>();
  private closed = false;
  private readonly scheduler: SchedulerLike;
  /** Request frames of every connection, written in reused slabs; made with the first connection. */
  private frames: FrameWriter | null = null;

  constructor(private readonly options: BrokerPoolOptions) {
    this.scheduler = options.scheduler ?? asyncScheduler;
  }

  get(host: string, port: number): Promise<Connection> {
    if (this.closed) return Promise.reject(new ConnectionError('the client is closed'));
    const address = `${host}:${port}`;
    let slot = this.slots.get(address);
    if (slot === undefined) {
      this.slots.set(address, (slot = { connection: null, open: null, failures: 0, retryAt: 0, refusal: null }));
      let ports = this.byHost.get(host);
      if (ports === undefined) this.byHost.set(host, (ports = new Map()));
      ports.set(port, slot);
    }
    if (slot.connection !== null) return slot.connection;
    const wait = slot.retryAt - this.scheduler.now();
    // Refused (bad credentials, untrusted certificate): fail now, as the Java client fails a node's
    // batches on an authentication error; the next real attempt still waits for the backoff.
    if (wait > 0 && slot.refusal !== null) return Promise.reject(slot.refusal);
    const current = slot;
    current.connection = (wait > 0 ? lastValueFrom(timer(wait, this.scheduler)) : Promise.resolve()).then(() => this.open(address, host, port, current));
    // A failed attempt is not kept: the next caller tries again (after the backoff).
    current.connection.catch(() => undefined);
    return current.connection;
  }

  /** The open connection to an address, without waiting; undefined while none is open. */
  openTo(host: string, port: number): Connection | undefined {
    const open = this.byHost.get(host)?.get(port)?.open ?? null;
    return open !== null && open.isConnected ? open : undefined;
  }

  /** A connection already open, if any (for requests any broker can answer). */
  anyOpen(): Promise<Connection> | undefined {
    for (const slot of this.slots.values()) if (slot.connection !== null && slot.failures === 0) return slot.connection;
    return undefined;
  }

  /** The connections open now (for stats and specs: re-authentications happen on these). */
  openConnections(): Connection[] {
    return [...this.slots.values()].flatMap((slot) => (slot.open !== null && slot.open.isConnected ? [slot.open] : []));
  }

  async close(): Promise<void> {
    this.closed = true;
    const open = [...this.slots.values()].map((slot) => slot.connection);
    this.slots.clear();
    this.byHost.clear();
    await Promise.all(open.map((connection) => connection?.then((c) => c.close(), () => undefined)));
  }

  private async open(address: string, host: string, port: number, slot: Slot): Promise<Connection> {
    const connection = new Connection({
      host,
      port,
      clientId: this.options.clientId,
      connectTimeoutMs: this.options.connectTimeoutMs,
      firstContactTimeoutMs: this.options.firstContactTimeoutMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      maxInFlightRequests: this.options.maxInFlightRequests,
      socketFactory: this.options.socketFactory,
      security: this.options.security,
      frames: (this.frames ??= FrameWriter.pooled()),
    });
    try {
      await connection.connect();
    } catch (error) {
      slot.failures++;
      const base = this.options.reconnectBackoffMs ?? DEFAULT_RECONNECT_BACKOFF_MS;
      const max = this.options.reconnectBackoffMaxMs ?? DEFAULT_RECONNECT_BACKOFF_MAX_MS;
      const jitter = 1 - RECONNECT_JITTER + Math.random() * 2 * RECONNECT_JITTER;
      slot.retryAt = this.scheduler.now() + Math.min(max, base * 2 ** (slot.failures - 1)) * jitter;
      slot.refusal = error instanceof KafkaRxError && !error.retriable ? error : null;
      slot.connection = null;
      await connection.close();
      throw error;
    }
    if (this.closed) {
      await connection.close();
      throw new ConnectionError('the client is closed');
    }
    slot.failures = 0;
    slot.refusal = null;
    slot.open = connection;
    connection.onClose((_error: KafkaRxError) => {
      if (slot.open === connection) slot.open = null;
      if (this.slots.get(address) === slot) slot.connection = null;
    });
    return connection;
  }
}
