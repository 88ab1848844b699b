// A fault-injecting TCP proxy between a client and a real Kafka broker. It reads Kafka's framing
// (4-byte size prefix) in both directions, so faults hit whole requests or responses: cut a frame
// in half and drop the connection, hold responses back, answer with garbage, a wrong correlation
// id or a 2 GB size prefix, add latency or a bandwidth cap, drop every connection.
//
// Brokers advertise their own host:port in Metadata responses, so a client would leave the proxy
// after bootstrap. rewriteMetadata (on by default) rewrites the broker list of every Metadata
// response (all versions 0..12, flexible or not) to the proxy's address. This was chosen over
// starting the broker with its advertised listener pointing at the proxy: it works with the
// shared broker of the test run, and other clients of that broker keep seeing the real address.
// For a multi-node cluster use startFaultProxies(): one proxy per node, each rewriting every
// node's address to that node's proxy. Other responses that carry addresses (FindCoordinator,
// DescribeCluster) are not rewritten: a producer does not use them.
import { randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export type Direction = 'request' | 'response';

export interface FrameFilter {
  /** Only frames of this API (a response's API comes from its request). Default: any. */
  apiKey?: number;
}

export interface FaultProxyOptions {
  /** The broker, `host:port`. */
  target: string;
  /** Default 0 (a free port). */
  listenPort?: number;
  /** Default 127.0.0.1. */
  listenHost?: string;
  /**
   * Rewrite broker addresses in Metadata responses. true (default): the target's address becomes
   * the proxy's. A function maps each advertised address (null: leave it).
   */
  rewriteMetadata?: boolean | ((host: string, port: number) => { host: string; port: number } | null);
}

export interface FaultProxyCounters {
  connectionsAccepted: number;
  /** Connections currently open. */
  connectionsOpen: number;
  /** Whole frames read from clients / from the broker. */
  requests: number;
  responses: number;
  requestsByApiKey: Map<number, number>;
  bytesUp: number;
  bytesDown: number;
  metadataRewrites: number;
  /** Requests forwarded on open connections whose responses have not reached the client yet. */
  awaitingResponses: number;
  /** One-shot faults that fired. */
  faultsFired: number;
}

export interface FaultProxy {
  /** `host:port` clients connect to. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly target: string;
  readonly counters: FaultProxyCounters;
  /** The next matching frame is forwarded half-way, then both sides are closed. */
  cutNext(options: FrameFilter & { direction: Direction }): void;
  /** Responses are held back for ms (from now), or until reset() with 'forever'. */
  stallResponses(ms: number | 'forever'): void;
  /** The next matching request is not forwarded; the client gets a frame of random bytes. */
  garbageNext(options?: FrameFilter): void;
  /** The next matching response reaches the client with a different correlation id. */
  wrongCorrelationNext(options?: FrameFilter): void;
  /**
   * The next matching response reaches the client with its correlation id intact and its body
   * garbled (every byte after the response header's id inverted): a frame that decodes to nonsense.
   */
  corruptNext(options?: FrameFilter): void;
  /** Instead of the next matching response the client gets a 0x7FFFFFF0 size and a few bytes. */
  hugeLengthNext(options?: FrameFilter): void;
  /** Latency added to every frame in both directions; bytesPerSecond caps each direction of each connection. */
  delay(ms: number, options?: { bytesPerSecond?: number }): void;
  /** Closes every open connection; with refuse, new ones are closed at once until reset(). */
  dropAll(options?: { refuse?: boolean }): void;
  /** Clears every fault, delay and stall (held frames are released in order). */
  reset(): void;
  /** Resolves once n requests of this API (counted since the proxy started) have come from clients. */
  waitForRequests(apiKey: number, n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const HUGE_LENGTH = 0x7ffffff0;
/** Unread bytes queued per direction before the sending side is paused (real backpressure). */
const HIGH_WATER = 1 << 20;

interface Pending {
  apiKey: number;
  apiVersion: number;
}

interface OneShot {
  kind: 'cut' | 'garbage' | 'wrongCorrelation' | 'huge' | 'corrupt';
  direction: Direction;
  apiKey?: number;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new Proxy(options);
  await proxy.listen();
  return proxy;
}

/**
 * One proxy per broker node of a cluster, each rewriting every node's advertised address to that
 * node's proxy, so a client bootstrapped on any proxy never talks to a broker directly.
 */
export async function startFaultProxies(targets: readonly string[], options: Omit<FaultProxyOptions, 'target' | 'rewriteMetadata'> = {}): Promise<FaultProxy[]> {
  const map = new Map<string, { host: string; port: number }>();
  const rewrite = (host: string, port: number) => map.get(`${normalHost(host)}:${port}`) ?? null;
  const proxies: FaultProxy[] = [];
  try {
    for (const target of targets) {
      const p = await startFaultProxy({ ...options, listenPort: 0, target, rewriteMetadata: rewrite });
      proxies.push(p);
      const [h, port] = splitAddress(target);
      map.set(`${normalHost(h)}:${port}`, { host: p.host, port: p.port });
    }
  } catch (e) {
    await Promise.all(proxies.map((p) => p.close()));
    throw e;
  }
  return proxies;
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new RangeError(`not a host:port address: ${address}`);
  return [address.slice(0, i), port];
}

function normalHost(host: string): string {
  return host === 'localhost' || host === '::1' ? '127.0.0.1' : host;
}

class Proxy implements FaultProxy {
  host = '';
  port = 0;
  readonly target: string;
  readonly counters: FaultProxyCounters = {
    connectionsAccepted: 0, connectionsOpen: 0, requests: 0, responses: 0, requestsByApiKey: new Map(),
    bytesUp: 0, bytesDown: 0, metadataRewrites: 0, awaitingResponses: 0, faultsFired: 0,
  };
  delayMs = 0;
  bytesPerSecond = 0;
  stallUntil = 0;
  refuse = false;
  readonly oneShots: OneShot[] = [];
  readonly links = new Set<Link>();
  private readonly server: Server;
  private readonly targetHost: string;
  private readonly targetPort: number;
  private readonly rewrite: ((host: string, port: number) => { host: string; port: number } | null) | null;
  private waiters: (() => void)[] = [];

  constructor(private readonly options: FaultProxyOptions) {
    this.target = options.target;
    [this.targetHost, this.targetPort] = splitAddress(options.target);
    const r = options.rewriteMetadata ?? true;
    this.rewrite = r === false ? null : r === true
      ? (h, p) => (normalHost(h) === normalHost(this.targetHost) && p === this.targetPort ? { host: this.host, port: this.port } : null)
      : r;
    this.server = createServer((client) => this.accept(client));
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.listenPort ?? 0, this.options.listenHost ?? '127.0.0.1', () => {
        const a = this.server.address() as AddressInfo;
        this.host = a.address;
        this.port = a.port;
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    this.counters.connectionsAccepted++;
    if (this.refuse) {
      client.destroy();
      return;
    }
    const link = new Link(this, client, connect(this.targetPort, this.targetHost));
    this.links.add(link);
    this.counters.connectionsOpen++;
  }

  unlink(link: Link): void {
    if (this.links.delete(link)) this.counters.connectionsOpen--;
  }

  rewriteFor(host: string, port: number): { host: string; port: number } | null {
    return this.rewrite ? this.rewrite(host, port) : null;
  }

  get rewriting(): boolean {
    return this.rewrite !== null;
  }

  /** Takes the first one-shot fault matching this frame, if any. */
  takeFault(direction: Direction, apiKey: number | undefined): OneShot | undefined {
    const i = this.oneShots.findIndex((f) => f.direction === direction && (f.apiKey === undefined || f.apiKey === apiKey));
    if (i < 0) return undefined;
    this.counters.faultsFired++;
    return this.oneShots.splice(i, 1)[0];
  }

  countedRequest(apiKey: number): void {
    this.counters.requests++;
    this.counters.requestsByApiKey.set(apiKey, (this.counters.requestsByApiKey.get(apiKey) ?? 0) + 1);
    for (const w of this.waiters.slice()) w();
  }

  cutNext(options: FrameFilter & { direction: Direction }): void {
    this.oneShots.push({ kind: 'cut', direction: options.direction, apiKey: options.apiKey });
  }

  stallResponses(ms: number | 'forever'): void {
    this.stallUntil = ms === 'forever' ? Infinity : Date.now() + ms;
    if (ms !== 'forever') setTimeout(() => this.pump(), ms + 1).unref();
  }

  garbageNext(options: FrameFilter = {}): void {
    this.oneShots.push({ kind: 'garbage', direction: 'request', apiKey: options.apiKey });
  }

  corruptNext(options: FrameFilter = {}): void {
    this.oneShots.push({ kind: 'corrupt', direction: 'response', apiKey: options.apiKey });
  }

  wrongCorrelationNext(options: FrameFilter = {}): void {
    this.oneShots.push({ kind: 'wrongCorrelation', direction: 'response', apiKey: options.apiKey });
  }

  hugeLengthNext(options: FrameFilter = {}): void {
    this.oneShots.push({ kind: 'huge', direction: 'response', apiKey: options.apiKey });
  }

  delay(ms: number, options: { bytesPerSecond?: number } = {}): void {
    if (!(ms >= 0)) throw new RangeError(`delay must be >= 0 ms, got ${ms}`);
    this.delayMs = ms;
    this.bytesPerSecond = options.bytesPerSecond ?? 0;
  }

  dropAll(options: { refuse?: boolean } = {}): void {
    if (options.refuse) this.refuse = true;
    for (const link of [...this.links]) link.destroy();
  }

  reset(): void {
    this.oneShots.length = 0;
    this.delayMs = 0;
    this.bytesPerSecond = 0;
    this.stallUntil = 0;
    this.refuse = false;
    this.pump();
  }

  pump(): void {
    for (const link of this.links) link.pump();
  }

  waitForRequests(apiKey: number, n: number, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if ((this.counters.requestsByApiKey.get(apiKey) ?? 0) < n) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`saw ${this.counters.requestsByApiKey.get(apiKey) ?? 0} of ${n} requests of API ${apiKey} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  close(): Promise<void> {
    for (const link of [...this.links]) link.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A frame waiting to be written, not before `at` (ms since the epoch). */
interface Outgoing {
  data: Buffer;
  at: number;
  /** Counts as a response for the stall. */
  response: boolean;
  /** Destroy the link after writing this. */
  thenCut?: boolean;
  /** The answer to a request counted in awaitingResponses. */
  answers?: boolean;
}

/** One client connection and its broker connection. */
class Link {
  private readonly pending = new Map<number, Pending>();
  private readonly up: Splitter;
  private readonly down: Splitter;
  private readonly toBroker: Outgoing[] = [];
  private readonly toClient: Outgoing[] = [];
  private queuedUp = 0;
  private queuedDown = 0;
  private nextFreeUp = 0;
  private nextFreeDown = 0;
  private timer: NodeJS.Timeout | undefined;
  private dead = false;
  /** This link's share of counters.awaitingResponses. */
  private awaiting = 0;

  constructor(private readonly proxy: Proxy, private readonly client: Socket, private readonly broker: Socket) {
    client.setNoDelay(true);
    broker.setNoDelay(true);
    this.up = new Splitter((frame) => this.onRequest(frame));
    this.down = new Splitter((frame) => this.onResponse(frame));
    client.on('data', (c: Buffer) => { proxy.counters.bytesUp += c.length; this.up.push(c); });
    broker.on('data', (c: Buffer) => { proxy.counters.bytesDown += c.length; this.down.push(c); });
    for (const s of [client, broker]) {
      s.on('error', () => this.destroy());
      s.on('close', () => this.destroy());
    }
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.proxy.counters.awaitingResponses -= this.awaiting;
    this.awaiting = 0;
    this.pending.clear();
    clearTimeout(this.timer);
    this.client.destroy();
    this.broker.destroy();
    this.proxy.unlink(this);
  }

  private onRequest(frame: Buffer): void {
    if (this.dead) return;
    // Request header v1/v2 start: api_key int16, api_version int16, correlation_id int32.
    const apiKey = frame.length >= 12 ? frame.readInt16BE(4) : -1;
    const apiVersion = frame.length >= 12 ? frame.readInt16BE(6) : -1;
    const correlationId = frame.length >= 12 ? frame.readInt32BE(8) : -1;
    this.proxy.countedRequest(apiKey);
    const fault = this.proxy.takeFault('request', apiKey);
    if (fault?.kind === 'garbage') {
      // A plausible frame: size prefix in line with a small response, random content.
      const size = 16 + Math.floor(Math.random() * 240);
      const garbage = randomBytes(4 + size);
      garbage.writeInt32BE(size, 0);
      this.enqueue(this.toClient, { data: garbage, at: 0, response: true }, 'down');
      return;
    }
    // A Produce with acks=0 gets no response: remembering it would only leak.
    if (!(apiKey === 0 && produceAcks(frame, apiVersion) === 0) && !this.pending.has(correlationId)) {
      this.pending.set(correlationId, { apiKey, apiVersion });
      this.awaiting++;
      this.proxy.counters.awaitingResponses++;
    }
    if (fault?.kind === 'cut') {
      this.enqueue(this.toBroker, { data: frame.subarray(0, frame.length >> 1), at: 0, response: false, thenCut: true }, 'up');
      return;
    }
    this.enqueue(this.toBroker, { data: frame, at: 0, response: false }, 'up');
  }

  private onResponse(frame: Buffer): void {
    if (this.dead) return;
    this.proxy.counters.responses++;
    const correlationId = frame.length >= 8 ? frame.readInt32BE(4) : -1;
    const req = this.pending.get(correlationId);
    const answers = this.pending.delete(correlationId);
    let out = frame;
    if (req?.apiKey === 3 && this.proxy.rewriting) {
      const rewritten = rewriteMetadataResponse(frame, req.apiVersion, (h, p) => this.proxy.rewriteFor(h, p));
      if (rewritten) {
        out = rewritten;
        this.proxy.counters.metadataRewrites++;
      }
    }
    const fault = this.proxy.takeFault('response', req?.apiKey);
    if (fault?.kind === 'cut') {
      this.enqueue(this.toClient, { data: out.subarray(0, out.length >> 1), at: 0, response: true, thenCut: true, answers }, 'down');
    } else if (fault?.kind === 'wrongCorrelation') {
      out = Buffer.from(out);
      out.writeInt32BE((correlationId ^ 0x5a5a5a5a) | 0, 4);
      this.enqueue(this.toClient, { data: out, at: 0, response: true, answers }, 'down');
    } else if (fault?.kind === 'corrupt') {
      out = Buffer.from(out);
      for (let i = 8; i < out.length; i++) out[i] = ~out[i] & 0xff;
      this.enqueue(this.toClient, { data: out, at: 0, response: true, answers }, 'down');
    } else if (fault?.kind === 'huge') {
      const huge = Buffer.alloc(12);
      huge.writeInt32BE(HUGE_LENGTH, 0);
      huge.writeInt32BE(correlationId, 4);
      this.enqueue(this.toClient, { data: huge, at: 0, response: true, answers }, 'down');
    } else {
      this.enqueue(this.toClient, { data: out, at: 0, response: true, answers }, 'down');
    }
  }

  private enqueue(queue: Outgoing[], item: Outgoing, way: 'up' | 'down'): void {
    const now = Date.now();
    let at = now + this.proxy.delayMs;
    const bps = this.proxy.bytesPerSecond;
    if (bps > 0) {
      // The frame leaves when the previous one of this direction has passed the cap.
      const free = Math.max(now, way === 'up' ? this.nextFreeUp : this.nextFreeDown) + (item.data.length * 1000) / bps;
      if (way === 'up') this.nextFreeUp = free; else this.nextFreeDown = free;
      at = Math.max(at, free);
    }
    item.at = at;
    queue.push(item);
    if (way === 'up') this.queuedUp += item.data.length; else this.queuedDown += item.data.length;
    // Backpressure: stop reading the sender while too much waits here.
    if (this.queuedUp > HIGH_WATER) this.client.pause();
    if (this.queuedDown > HIGH_WATER) this.broker.pause();
    this.pump();
  }

  pump(): void {
    if (this.dead) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    let wake = Infinity;
    const stalled = this.proxy.stallUntil > now;
    for (const [queue, socket, way] of [[this.toBroker, this.broker, 'up'], [this.toClient, this.client, 'down']] as const) {
      while (queue.length > 0) {
        const item = queue[0];
        const blockedUntil = Math.max(item.at, item.response && stalled ? this.proxy.stallUntil : 0);
        if (blockedUntil > now) {
          wake = Math.min(wake, blockedUntil);
          break;
        }
        queue.shift();
        if (way === 'up') this.queuedUp -= item.data.length; else this.queuedDown -= item.data.length;
        socket.write(item.data);
        if (item.answers) {
          this.awaiting--;
          this.proxy.counters.awaitingResponses--;
        }
        if (item.thenCut) {
          // Let the half frame reach the peer before the connection goes.
          socket.end(() => this.destroy());
          setTimeout(() => this.destroy(), 50).unref();
          return;
        }
      }
    }
    if (this.queuedUp <= HIGH_WATER / 2 && this.client.isPaused()) this.client.resume();
    if (this.queuedDown <= HIGH_WATER / 2 && this.broker.isPaused()) this.broker.resume();
    if (wake !== Infinity) this.timer = setTimeout(() => this.pump(), Math.max(1, wake - now));
  }
}

/** Cuts a byte stream into Kafka frames (size prefix included in each frame). */
class Splitter {
  private chunks: Buffer[] = [];
  private total = 0;

  constructor(private readonly onFrame: (frame: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.total += chunk.length;
    for (;;) {
      if (this.total < 4) return;
      const head = this.chunks[0].length >= 4 ? this.chunks[0] : this.flatten();
      const size = head.readInt32BE(0);
      // A negative size is garbage from a peer; pass it on as one opaque frame of what we have.
      const need = size < 0 ? this.total : 4 + size;
      if (this.total < need) return;
      const buf = this.chunks.length === 1 ? this.chunks[0] : this.flatten();
      const frame = buf.subarray(0, need);
      const rest = buf.subarray(need);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.total = rest.length;
      this.onFrame(frame);
    }
  }

  private flatten(): Buffer {
    const b = Buffer.concat(this.chunks, this.total);
    this.chunks = [b];
    return b;
  }
}

// Produce request: size int32, api_key int16, api_version int16, correlation_id int32,
//   client_id NULLABLE_STRING (int16 length even in flexible headers), [tagged fields v9+],
//   transactional_id NULLABLE_STRING (v3+; COMPACT v9+), acks int16, ...
/** The acks field of a Produce request frame, or null when it cannot be read. */
export function produceAcks(frame: Buffer, version: number): number | null {
  if (version < 3) return null;
  const flexible = version >= 9;
  try {
    const r = new Cursor(frame, 12);
    r.skipString(false);
    if (flexible) r.skipTags();
    r.skipString(flexible);
    return r.int16();
  } catch {
    return null;
  }
}

// Metadata response (the parts before the topics; the rest is copied as it is):
//   size int32, correlation_id int32, [tagged fields v9+]
//   throttle_time_ms int32 (v3+)
//   brokers: ARRAY (COMPACT_ARRAY v9+) of
//     node_id int32, host STRING (COMPACT_STRING v9+), port int32,
//     rack NULLABLE_STRING (v1+; COMPACT v9+), [tagged fields v9+]
/** The frame with broker addresses mapped, or null when nothing changed or it does not parse. */
export function rewriteMetadataResponse(frame: Buffer, version: number, map: (host: string, port: number) => { host: string; port: number } | null): Buffer | null {
  const flexible = version >= 9;
  const r = new Cursor(frame, 8);
  try {
    if (flexible) r.skipTags();
    if (version >= 3) r.skip(4);
    const prefixEnd = r.pos;
    const count = flexible ? r.uvarint() - 1 : r.int32();
    if (count < 0 || count > 10_000) return null;
    const parts: Buffer[] = [frame.subarray(0, prefixEnd), encodeCount(count, flexible)];
    let changed = false;
    for (let i = 0; i < count; i++) {
      const nodeId = r.int32();
      const host = r.string(flexible);
      const port = r.int32();
      const tailStart = r.pos;
      if (version >= 1) r.nullableString(flexible);
      if (flexible) r.skipTags();
      const mapped = host === null ? null : map(host, port);
      if (mapped) changed = true;
      const head = Buffer.alloc(4);
      head.writeInt32BE(nodeId, 0);
      parts.push(head, encodeString(mapped ? mapped.host : host ?? '', flexible), int32(mapped ? mapped.port : port), frame.subarray(tailStart, r.pos));
    }
    if (!changed) return null;
    parts.push(frame.subarray(r.pos));
    const out = Buffer.concat(parts);
    out.writeInt32BE(out.length - 4, 0);
    return out;
  } catch {
    return null;
  }
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
}

function uvarint(v: number): Buffer {
  const bytes: number[] = [];
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function encodeCount(n: number, flexible: boolean): Buffer {
  return flexible ? uvarint(n + 1) : int32(n);
}

function encodeString(s: string, flexible: boolean): Buffer {
  const body = Buffer.from(s, 'utf8');
  if (flexible) return Buffer.concat([uvarint(body.length + 1), body]);
  const len = Buffer.alloc(2);
  len.writeInt16BE(body.length, 0);
  return Buffer.concat([len, body]);
}

class Cursor {
  constructor(private readonly buf: Buffer, public pos: number) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('truncated');
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uvarint(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      this.need(1);
      const b = this.buf[this.pos++];
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v >>> 0;
    }
    throw new RangeError('varint too long');
  }

  string(flexible: boolean): string | null {
    const len = flexible ? this.uvarint() - 1 : this.int16();
    if (len < 0) return null;
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  nullableString(flexible: boolean): void {
    this.skipString(flexible);
  }

  skipString(flexible: boolean): void {
    const len = flexible ? this.uvarint() - 1 : this.int16();
    if (len > 0) this.skip(len);
  }

  skipTags(): void {
    const n = this.uvarint();
    for (let i = 0; i < n; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
}
