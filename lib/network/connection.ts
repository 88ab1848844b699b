import type { Socket } from 'node:net';
import {
  ConnectionError,
  CorrelationError,
  KafkaRxError,
  ProtocolError,
  NotKafkaError,
  RequestNotSentError,
  RequestTimeoutError,
  TlsHandshakeError,
  kafkaErrorFor,
} from '../errors/index.js';
import { asKafkaRxError, asProtocolError } from '../errors/convert.js';
import type { KafkaApi } from '../protocol/api.js';
import { ApiVersions, negotiateVersion, retryVersionAfter, type ApiVersionsResponse } from '../protocol/api-versions.js';
import { readResponseHeader, responseHeaderIsFlexible, writeRequestFrame } from '../protocol/header.js';
import { FrameWriter } from '../protocol/frame-writer.js';
import { Fifo } from '../fifo.js';
import { InFlightRequests } from './in-flight-requests.js';
import { FrameDecoder } from './frame-decoder.js';
import { saslAuthenticate } from './sasl/authenticate.js';
import { ConnectionSecurity } from './security.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Requests in flight per connection unless maxInFlightRequests says otherwise. */
export const DEFAULT_MAX_IN_FLIGHT_REQUESTS = 5;

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  connectTimeoutMs?: number;
  /**
   * Longest wait for the answer to the first request (ApiVersions), which any Kafka broker gives
   * at once: past it the peer is taken for something that does not speak Kafka. Default 10 s.
   */
  firstContactTimeoutMs?: number;
  /** Default limit for a response; send() may give its own. */
  requestTimeoutMs?: number;
  /** Requests awaiting their response at once; more wait their turn in order. */
  maxInFlightRequests?: number;
  /** Largest response frame accepted. */
  maxResponseSize?: number;
  /** Opens the socket instead of `security` (a test's own, e.g. through a fault proxy). */
  socketFactory?: (host: string, port: number) => Socket;
  /** TLS and SASL; default none. */
  security?: ConnectionSecurity;
  /**
   * The writer of request frames, shared by a client's connections so that frames reuse pooled
   * slabs (each given back once answered); without it, each frame gets a buffer of its own.
   */
  frames?: FrameWriter;
}

/**
 * Re-authentication (KIP-368) starts this share of the session lifetime after an authentication,
 * with some spread so that a client's connections do not all pause at once (the Java client uses
 * 85-95% likewise); requests made meanwhile wait while the ones in flight finish.
 */
const REAUTH_AT_SHARE = 0.8;
const REAUTH_SPREAD = 0.1;

interface InFlight {
  correlationId: number;
  api: KafkaApi<any, any>;
  version: number;
  resolve: (response: any) => void;
  reject: (error: KafkaRxError) => void;
  /** performance.now() by which the response must have come. */
  deadline: number;
  timeoutMs: number;
  /** The frame's claim on the shared writer's slabs, given back with the answer. */
  frame: Buffer | null;
}

/**
 * One TCP connection to one broker: length-prefixed frames, correlation ids, a bounded number of
 * requests in flight (Kafka answers a connection's requests in order), per-request timeouts, and
 * ApiVersions negotiation on connect. Any breach of the stream's order (a timeout, an unknown
 * correlation id, an undecodable frame) closes the connection: what follows could not be trusted.
 */
export class Connection {
  readonly address: string;
  private socket: Socket | null = null;
  private versions: ApiVersionsResponse | null = null;
  private readonly inFlight = new InFlightRequests<InFlight>();
  private readonly waiting = new Fifo<() => void>();
  private nextCorrelationId = 0;
  private failure: KafkaRxError | null = null;
  private readonly closeListeners = new Set<(error: KafkaRxError) => void>();
  private readonly connectTimeoutMs: number;
  private readonly firstContactTimeoutMs: number;
  /** The first bytes the peer sent before it was known to speak Kafka, to name what it is if not. */
  private firstBytes: Buffer | null = null;
  private readonly requestTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly decoder: FrameDecoder;
  /**
   * One timer watches every request's deadline, armed for the earliest and re-armed when it fires,
   * instead of a timer set and cleared per request. Unref'd: while a request waits, the socket
   * keeps the process alive.
   */
  private deadlineTimer: ReturnType<typeof setTimeout> | null = null;
  private deadlineTimerDue = Infinity;
  private readonly checkDeadlines = (): void => this.onDeadlineTimer();
  private readonly security: ConnectionSecurity;
  /** A SASL exchange runs: nothing else may be written (the broker reads its tokens next). */
  private authenticating = false;
  /** The session nears its end: no new request starts; re-authentication begins once none is in flight. */
  private reauthDue = false;
  private reauthTimer: ReturnType<typeof setTimeout> | null = null;
  /** Responses read on this connection. */
  private responses = 0;
  /** Completed re-authentications on this connection (stats, tests). */
  reauthentications = 0;

  constructor(private readonly options: ConnectionOptions) {
    this.address = `${options.host}:${options.port}`;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.firstContactTimeoutMs = options.firstContactTimeoutMs ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.maxInFlight = options.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS;
    this.decoder = new FrameDecoder(options.maxResponseSize ?? 100 * 1024 * 1024);
    this.security = options.security ?? ConnectionSecurity.none;
  }

  /** Opens the socket and negotiates API versions. */
  async connect(): Promise<void> {
    if (this.socket !== null) throw new ConnectionError(`connection to ${this.address} was already opened`, { broker: this.address });
    await this.open();
    let version = ApiVersions.maxVersion;
    for (;;) {
      let response: ApiVersionsResponse;
      try {
        response = await this.request(ApiVersions, version, {}, Math.min(this.firstContactTimeoutMs, this.requestTimeoutMs));
      } catch (error) {
        throw this.firstContactFailure(error);
      }
      const retry = retryVersionAfter(response, version);
      if (retry !== null) {
        version = retry;
        continue;
      }
      if (response.errorCode !== 0) {
        const error = kafkaErrorFor(response.errorCode, `ApiVersions from ${this.address}`);
        this.destroy(error);
        throw error;
      }
      this.versions = response;
      break;
    }
    if (this.security.sasl !== null) {
      this.authenticating = true;
      try {
        const lifetimeMs = await this.authenticate();
        this.authenticating = false;
        this.scheduleReauthentication(lifetimeMs);
      } catch (error) {
        const failure = asKafkaRxError(error, `authenticating with ${this.address} failed`, (message, cause) => new ConnectionError(message, { broker: this.address, cause }));
        this.destroy(failure);
        throw failure;
      }
    }
  }

  /** Why the first request failed, said plainly when the peer is evidently no Kafka broker. */
  private firstContactFailure(error: unknown): unknown {
    if (this.versions !== null) return error;
    if (error instanceof RequestTimeoutError) {
      // Still a RequestTimeoutError (retriable, and counted as an unanswered request is), with the hint.
      return new RequestTimeoutError(
        `${this.address} accepted the connection but did not answer ApiVersions within ${Math.min(this.firstContactTimeoutMs, this.requestTimeoutMs)} ms: ` +
          'this peer does not speak Kafka, or is stalled (a Kafka broker answers at once; a TLS listener waits for a TLS handshake: set tls)',
        { cause: error, firstContact: true },
      );
    }
    if (error instanceof ConnectionError && error.cause instanceof ProtocolError && this.firstBytes !== null) {
      return new NotKafkaError(`${this.address} answered ${describePeerBytes(this.firstBytes)}: this peer does not speak Kafka`, { broker: this.address, cause: error.cause });
    }
    return error;
  }

  /** One SASL exchange on this connection (lib/network/sasl/authenticate.ts); resolves with the session lifetime. */
  private authenticate(): Promise<number> {
    return saslAuthenticate(this.security.sasl!, {
      address: this.address,
      peer: { host: this.options.host, port: this.options.port },
      timeoutMs: this.requestTimeoutMs,
      send: (api, request) => this.request(api, this.versionOf(api), request, this.requestTimeoutMs, true),
      redact: (text) => this.security.redact(text),
    });
  }

  private scheduleReauthentication(lifetimeMs: number): void {
    if (!(lifetimeMs > 0) || this.failure !== null) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(1, Math.floor(lifetimeMs * (REAUTH_AT_SHARE + Math.random() * REAUTH_SPREAD))));
    this.reauthTimer = setTimeout(() => {
      this.reauthTimer = null;
      this.reauthDue = true;
      this.maybeReauthenticate();
    }, delay);
    this.reauthTimer.unref();
  }

  /** Re-authenticates once the session is due and no request is in flight; requests wait meanwhile. */
  private maybeReauthenticate(): void {
    if (!this.reauthDue || this.authenticating || this.inFlight.size > 0 || this.failure !== null) return;
    this.reauthDue = false;
    this.authenticating = true;
    this.authenticate().then(
      (lifetimeMs) => {
        this.authenticating = false;
        this.reauthentications++;
        this.scheduleReauthentication(lifetimeMs);
        this.releaseSlot();
      },
      (error) => {
        this.destroy(asKafkaRxError(error, `re-authenticating with ${this.address} failed`, (message, cause) => new ConnectionError(message, { broker: this.address, cause })));
      },
    );
  }

  /** New requests wait: a SASL exchange runs or is about to. */
  private get gated(): boolean {
    return this.authenticating || this.reauthDue;
  }

  get isConnected(): boolean {
    return this.socket !== null && this.failure === null && this.versions !== null;
  }

  /**
   * The level the broker's ApiVersions answer finalized for a cluster feature (e.g.
   * transaction.version, 2 for transactions v2); 0 when it names none (brokers before 2.7).
   */
  finalizedFeatureLevel(name: string): number {
    if (this.versions === null) throw new ConnectionError(`connection to ${this.address} is not negotiated yet`, { broker: this.address });
    return this.versions.finalizedFeatures.find((feature) => feature.name === name)?.maxVersionLevel ?? 0;
  }

  /** The highest version of an API that both kafka-rx and this broker speak. */
  versionOf(api: KafkaApi<any, any>): number {
    if (this.versions === null) throw new ConnectionError(`connection to ${this.address} is not negotiated yet`, { broker: this.address });
    return negotiateVersion(api, this.versions);
  }

  /**
   * Sends a request at the negotiated version. Resolves with the decoded response, or with
   * undefined once written when the broker sends none (Produce with acks=0).
   */
  send<Req, Res>(api: KafkaApi<Req, Res>, request: Req, options: { timeoutMs?: number } = {}): Promise<Res | undefined> {
    let version: number;
    try {
      version = this.versionOf(api);
    } catch (error) {
      return Promise.reject(error instanceof ConnectionError ? this.notSent(error) : error);
    }
    if (api.expectsResponse?.(request) === false) return this.sendWithoutResponse(api, version, request);
    return this.request(api, version, request, options.timeoutMs ?? this.requestTimeoutMs);
  }

  /** Called once when the connection ends, with why. */
  onClose(listener: (error: KafkaRxError) => void): () => void {
    if (this.failure !== null) {
      listener(this.failure);
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Fails whatever is pending and closes the socket. */
  async close(): Promise<void> {
    this.destroy(new ConnectionError(`connection to ${this.address} closed`, { broker: this.address }));
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      let socket: Socket;
      let readyEvent: 'connect' | 'secureConnect' = 'connect';
      try {
        if (this.options.socketFactory !== undefined) socket = this.options.socketFactory(this.options.host, this.options.port);
        else ({ socket, readyEvent } = this.security.connect(this.options.host, this.options.port));
      } catch (cause) {
        const error = new TlsHandshakeError(`opening a TLS connection to ${this.address} failed: ${this.security.redact((cause as Error).message)}`, { broker: this.address, code: (cause as { code?: string }).code });
        this.failure = error;
        reject(error);
        return;
      }
      this.socket = socket;
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        const error = new ConnectionError(`connecting to ${this.address} took longer than ${this.connectTimeoutMs} ms`, { broker: this.address });
        this.destroy(error);
        reject(error);
      }, this.connectTimeoutMs);
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (cause: Error & { code?: string }) => {
        clearTimeout(timer);
        const error = this.security.tls && isTlsFailure(cause)
          ? new TlsHandshakeError(`TLS with ${this.address} failed: ${this.security.redact(cause.message)}`, { broker: this.address, code: cause.code })
          : new ConnectionError(`connection to ${this.address} failed: ${this.security.redact(cause.message)}`, { broker: this.address, cause });
        this.destroy(error);
        reject(error);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        // A SASL listener answers ApiVersions, then closes a connection whose next request is not
        // SaslHandshake: say so when that is what just happened to a client without sasl.
        const hint = this.security.sasl === null && this.responses === 1 && this.inFlight.size > 0
          ? ' after ApiVersions (a listener that requires SASL does this: check the sasl option)'
          : '';
        const error = new ConnectionError(`connection to ${this.address} closed by the peer${hint}`, { broker: this.address });
        this.destroy(error);
        reject(error);
      });
    });
  }

  /** The request's frame as the pieces of one write: large byte fields (record batches) are not copied. */
  private frame<Req>(api: KafkaApi<Req, any>, version: number, correlationId: number, request: Req): { pieces: Buffer[]; claim: Buffer | null } {
    const writer = this.options.frames ?? new FrameWriter();
    try {
      writeRequestFrame(writer, api, version, correlationId, this.options.clientId, request);
    } catch (error) {
      writer.discard();
      throw error;
    }
    return writer.frame();
  }

  /** Gives a frame's bytes back to the shared writer's pool: the broker answered, or the write completed. */
  private releaseFrame(claim: Buffer | null): void {
    if (claim !== null) this.options.frames?.release(claim);
  }

  /** Writes a frame's pieces as one vectored write; `done` hears of the last. */
  private writeFrame(socket: Socket, pieces: Buffer[], done?: (error?: Error | null) => void): void {
    if (pieces.length === 1) {
      socket.write(pieces[0], done);
      return;
    }
    socket.cork();
    const last = pieces.length - 1;
    for (let i = 0; i < last; i++) socket.write(pieces[i]);
    socket.write(pieces[last], done);
    socket.uncork();
  }

  /** Why a request was refused before it was written: the broker cannot have seen it. */
  private notSent(cause: KafkaRxError | null = this.failure): RequestNotSentError {
    return new RequestNotSentError(cause === null ? `not connected to ${this.address}` : `not sent to ${this.address}: ${cause.message}`, { broker: this.address, cause: cause ?? undefined });
  }

  /**
   * writeFrame, reporting a throw (a socket that refuses the write, e.g. one from socketFactory)
   * instead of passing it up, and whether part of the frame had gone out before it.
   */
  private tryWriteFrame(socket: Socket, pieces: Buffer[]): true | { cause: Error; partial: boolean } {
    const before = socket.bytesWritten + socket.writableLength;
    try {
      this.writeFrame(socket, pieces);
      return true;
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      const partial = socket.bytesWritten + socket.writableLength !== before;
      if (!partial) while (socket.writableCorked > 0) socket.uncork();
      return { cause, partial };
    }
  }

  private nextId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) | 0;
    return id;
  }

  private sendWithoutResponse<Req>(api: KafkaApi<Req, any>, version: number, request: Req): Promise<undefined> {
    return new Promise((resolve, reject) => {
      if (this.failure !== null || this.socket === null) return reject(this.notSent());
      if (this.gated) {
        // Written only after the SASL exchange (the broker would read it as a token).
        this.waiting.push(() => this.sendWithoutResponse(api, version, request).then(resolve, reject));
        return;
      }
      let frame: { pieces: Buffer[]; claim: Buffer | null };
      try {
        frame = this.frame(api, version, this.nextId(), request);
      } catch (error) {
        return reject(error);
      }
      this.writeFrame(this.socket, frame.pieces, (error) => {
        if (error) return reject(new ConnectionError(`writing to ${this.address} failed: ${error.message}`, { broker: this.address, cause: error }));
        this.releaseFrame(frame.claim);
        resolve(undefined);
      });
    });
  }

  /** `duringAuthentication`: a SASL request, which goes ahead of (and past) the gate that holds the others. */
  private request<Req, Res>(api: KafkaApi<Req, Res>, version: number, request: Req, timeoutMs: number, duringAuthentication = false): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      // A free slot (the common case) writes at once, without a closure kept for later.
      if (duringAuthentication || (!this.gated && this.inFlight.size < this.maxInFlight && this.waiting.length === 0)) this.start(api, version, request, timeoutMs, resolve, reject);
      else this.waiting.push(() => this.start(api, version, request, timeoutMs, resolve, reject));
    });
  }

  /** Encodes and writes one request now, registered in flight; or refuses it, unsent. */
  private start<Req, Res>(api: KafkaApi<Req, Res>, version: number, request: Req, timeoutMs: number, resolve: (response: Res) => void, reject: (error: unknown) => void): void {
    if (this.failure !== null || this.socket === null) return reject(this.notSent());
    const correlationId = this.nextId();
    let frame: { pieces: Buffer[]; claim: Buffer | null };
    try {
      frame = this.frame(api, version, correlationId, request);
    } catch (error) {
      reject(asKafkaRxError(error, `could not encode ${api.name}`));
      this.releaseSlot();
      return;
    }
    const entry: InFlight = { correlationId, api, version, resolve, reject, deadline: performance.now() + timeoutMs, timeoutMs, frame: frame.claim };
    // Registered before the write, since a response may in principle arrive during it; taken
    // back when the write throws, or that response-less entry would be due before every
    // later answer and the connection would drop on a false correlation mismatch.
    this.inFlight.push(entry);
    const written = this.tryWriteFrame(this.socket, frame.pieces);
    if (written === true) {
      this.watchDeadline(entry.deadline);
      return;
    }
    this.inFlight.pop();
    reject(new RequestNotSentError(`writing ${api.name} to ${this.address} failed, the request was not sent: ${written.cause.message}`, { broker: this.address, cause: written.cause }));
    // A frame cut off after its first piece would leave the broker reading garbage; dropped
    // unsent with the connection, it is never read at all.
    if (written.partial) this.destroy(new ConnectionError(`connection to ${this.address} dropped after a write failed midway`, { broker: this.address, cause: written.cause }));
  }

  private watchDeadline(deadline: number): void {
    if (deadline >= this.deadlineTimerDue) return;
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimerDue = deadline;
    // setTimeout takes at most 2^31-1 ms; a later deadline is re-armed when that fires.
    this.deadlineTimer = setTimeout(this.checkDeadlines, Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(deadline - performance.now()))));
    this.deadlineTimer.unref();
  }

  private onDeadlineTimer(): void {
    this.deadlineTimer = null;
    this.deadlineTimerDue = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const entry of this.inFlight) {
      if (entry.deadline <= now) {
        this.timeOut(entry);
        return;
      }
      if (entry.deadline < next) next = entry.deadline;
    }
    if (next !== Infinity) this.watchDeadline(next);
  }

  private timeOut(entry: InFlight): void {
    const error = new RequestTimeoutError(`${entry.api.name} to ${this.address} got no response within ${entry.timeoutMs} ms`);
    entry.reject(error);
    // Later responses on this connection would be misread: start over.
    this.destroy(new ConnectionError(`connection to ${this.address} dropped after a request timed out`, { broker: this.address, cause: error }));
  }

  private releaseSlot(): void {
    if (this.reauthDue) this.maybeReauthenticate();
    while (!this.gated && this.inFlight.size < this.maxInFlight && this.waiting.length > 0) this.waiting.shift()!();
  }

  private onData(chunk: Buffer): void {
    if (this.versions === null && this.firstBytes === null) this.firstBytes = Buffer.from(chunk.subarray(0, 64));
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (error instanceof TlsHandshakeError) {
        this.destroy(new TlsHandshakeError(`${this.address}: ${error.message}`, { broker: this.address, code: error.code }));
      } else {
        this.destroy(asProtocolError(error, `undecodable frame from ${this.address}`));
      }
      return;
    }
    for (const frame of frames) {
      if (this.failure !== null) return;
      this.onFrame(frame);
    }
    this.releaseSlot();
  }

  private onFrame(frame: Buffer): void {
    this.responses++;
    if (frame.length < 4) {
      this.destroy(new ProtocolError(`a ${frame.length}-byte response from ${this.address} has no header`));
      return;
    }
    const correlationId = frame.readInt32BE(0);
    const entry = this.inFlight.peek();
    if (entry === undefined || correlationId !== entry.correlationId) {
      this.destroy(new CorrelationError(`${this.address} answered correlation id ${correlationId} while ${entry?.correlationId ?? 'none'} was due`));
      return;
    }
    this.inFlight.shift();
    // Answered, so the broker read every byte of the request: its frame may be written over.
    this.releaseFrame(entry.frame);
    let response: unknown;
    try {
      const header = readResponseHeader(frame, responseHeaderIsFlexible(entry.api, entry.version));
      response = entry.api.decodeResponse(frame.subarray(header.bodyOffset), entry.version);
    } catch (error) {
      const failure = asKafkaRxError(error, `undecodable ${entry.api.name} response`, (message, cause) => new ProtocolError(message, { cause }));
      // The request's fate is as unknown as after a lost connection, and as worth another
      // attempt: the caller gets the (retriable) ConnectionError, the ProtocolError as its cause.
      const dropped = new ConnectionError(`connection to ${this.address} dropped after an undecodable ${entry.api.name} response: ${failure.message}`, { broker: this.address, cause: failure });
      entry.reject(dropped);
      this.destroy(dropped);
      return;
    }
    entry.resolve(response);
  }

  private destroy(error: KafkaRxError): void {
    if (this.failure !== null) return;
    this.failure = error;
    // A TLS refusal stays what it is (not retriable); anything else makes the requests' fate unknown.
    const failure = error instanceof ConnectionError || error instanceof TlsHandshakeError
      ? error
      : new ConnectionError(`connection to ${this.address} dropped: ${error.message}`, { broker: this.address, cause: error });
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    if (this.reauthTimer !== null) clearTimeout(this.reauthTimer);
    this.reauthTimer = null;
    for (const entry of this.inFlight.drain()) entry.reject(failure);
    for (const start of this.waiting.drain()) start();
    this.socket?.destroy();
    for (const listener of this.closeListeners) listener(failure);
    this.closeListeners.clear();
  }
}

/**
 * Node's codes for a TLS handshake that cannot succeed by trying again: an untrusted or expired
 * certificate, a host name it does not cover, an alert from the broker (client certificate
 * refused), or a peer that does not speak TLS (EPROTO: a plaintext port).
 */
function isTlsFailure(error: { code?: string }): boolean {
  const code = error.code ?? '';
  return code === 'EPROTO' || /CERT|SSL|TLS|UNABLE_TO|SELF_SIGNED|HOSTNAME|SIGNATURE/.test(code);
}

/** A peer's first bytes for an error message: its first line when it is text (an HTTP status line, a banner), else hex. */
function describePeerBytes(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  const line = text.split(/\r?\n/)[0];
  if (line.length >= 4 && /^[\x20-\x7e]+$/.test(line)) {
    return `with text, not a Kafka response: ${JSON.stringify(line)}${/^HTTP\/\d/.test(line) ? ' (an HTTP server)' : ''}`;
  }
  return `with bytes that are no Kafka response (${bytes.subarray(0, 16).toString('hex').replace(/(..)(?!$)/g, '$1 ')})`;
}
