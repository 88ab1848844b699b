// librdkafka's mock cluster (Debian librdkafka-dev) as a test peer: real Kafka-protocol listeners
// on loopback whose faults are set per request (errors, leader moves, brokers down, latency).
// The C helper next to this file is compiled on first use; it takes line commands on stdin and
// answers each with one OK/ERR line, so every method here resolves only once the fault is in place.
//
// Protocol ranges advertised by librdkafka 2.0.2's mock (ApiVersions v0..2 only; a v3 request gets
// UNSUPPORTED_VERSION): Produce 0..7, Metadata 0..2, InitProducerId 0..4; no CreateTopics.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE = join(__dirname, 'mockcluster.c');
const BINARY = join(__dirname, 'mockcluster');
const HEADER = '/usr/include/librdkafka/rdkafka_mock.h';

/** Kafka API keys used with error injection. */
export const ApiKey = { Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, ApiVersions: 18, InitProducerId: 22 } as const;

/**
 * An error code (number) or name: Kafka's (NOT_LEADER_OR_FOLLOWER, MESSAGE_TOO_LARGE) or
 * librdkafka's (NOT_LEADER_FOR_PARTITION, MSG_SIZE_TOO_LARGE); 'TRANSPORT' makes the mock broker
 * drop the connection instead of answering.
 */
export type MockErrorCode = number | string;

export interface MockTopic {
  name: string;
  partitions: number;
  replicationFactor?: number;
}

export interface MockClusterOptions {
  /** Broker count (ids 1..brokers); default 3. */
  brokers?: number;
  topics?: readonly MockTopic[];
  /** Budget for start and for each command's answer; default 10 s. */
  timeoutMs?: number;
}

export interface MockCluster {
  /** `127.0.0.1:P1,127.0.0.1:P2,...` in broker id order. */
  readonly bootstrap: string;
  readonly brokers: readonly string[];
  createTopic(name: string, partitions: number, replicationFactor?: number): Promise<void>;
  /** The next errors.length requests of apiKey (to any broker) fail with these codes, in order. */
  pushRequestErrors(apiKey: number, errors: readonly MockErrorCode[]): Promise<void>;
  /** Like pushRequestErrors but on one broker, each answer delayed by rttMs; takes precedence. */
  pushBrokerErrors(brokerId: number, apiKey: number, errors: readonly (MockErrorCode | { code: MockErrorCode; rttMs: number })[]): Promise<void>;
  clearRequestErrors(apiKey: number): Promise<void>;
  /** Error for the topic in Metadata responses (0 clears it). */
  setTopicError(topic: string, code: MockErrorCode): Promise<void>;
  /** brokerId -1 leaves the partition leaderless. */
  setLeader(topic: string, partition: number, brokerId: number): Promise<void>;
  /** Disconnects the broker and refuses new connections (no leader change); -1: all. */
  brokerDown(brokerId: number): Promise<void>;
  brokerUp(brokerId: number): Promise<void>;
  /** Added round-trip time per response; -1: all brokers. */
  setRtt(brokerId: number, ms: number): Promise<void>;
  /** Narrows the version range advertised for apiKey; -1, -1 removes the API. */
  setApiVersion(apiKey: number, min: number, max: number): Promise<void>;
  /** Ends the helper (idempotent). */
  stop(): Promise<void>;
}

/** Thrown when the helper answers ERR or cannot be built or started. */
export class MockClusterError extends Error {
  override name = 'MockClusterError';
}

/** Builds the helper if missing or older than its source; installs Debian packages if needed. */
export function ensureMockClusterBinary(): string {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return BINARY;
  if (!existsSync(HEADER) || spawnSync('sh', ['-c', 'command -v gcc'], { stdio: 'ignore' }).status !== 0) {
    if (process.getuid?.() !== 0) throw new MockClusterError(`the mock cluster needs gcc and librdkafka-dev (${HEADER}); install them (apt-get install -y gcc librdkafka-dev)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'gcc', 'libc6-dev', 'librdkafka-dev']]) {
      const r = spawnSync('apt-get', args, { env, encoding: 'utf8' });
      if (r.status !== 0) throw new MockClusterError(`apt-get ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    }
  }
  // Built to a temporary name then renamed, so parallel first uses never run a half-written file.
  const tmp = `${BINARY}.${process.pid}.tmp`;
  const r = spawnSync('gcc', ['-O2', '-Wall', '-o', tmp, SOURCE, '-lrdkafka'], { encoding: 'utf8' });
  if (r.status !== 0) throw new MockClusterError(`gcc could not build the mock cluster helper: ${r.stderr || r.error?.message}`);
  spawnSync('mv', ['-f', tmp, BINARY]);
  return BINARY;
}

export async function startMockCluster(options: MockClusterOptions = {}): Promise<MockCluster> {
  const brokers = options.brokers ?? 3;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > 64) throw new RangeError(`brokers must be an integer in 1..64, got ${brokers}`);
  const args = [String(brokers)];
  for (const t of options.topics ?? []) {
    if (!/^[A-Za-z0-9._-]+$/.test(t.name)) throw new RangeError(`topic name ${JSON.stringify(t.name)} is not a valid Kafka topic name`);
    args.push('--topic', `${t.name}:${t.partitions}:${t.replicationFactor ?? Math.min(brokers, 3)}`);
  }
  const child = spawn(ensureMockClusterBinary(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Session(child, timeoutMs).started();
}

class Session implements MockCluster {
  bootstrap = '';
  brokers: string[] = [];
  private lines: string[] = [];
  private waiters: ((line: string | null) => void)[] = [];
  private rest = '';
  private stderr = '';
  private exited = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly timeoutMs: number) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (this.rest + chunk).split('\n');
      this.rest = parts.pop() ?? '';
      for (const line of parts) this.deliver(line);
    });
    child.stderr.on('data', (c: Buffer) => { this.stderr = (this.stderr + c.toString('utf8')).slice(-4000); });
    child.stdin.on('error', () => { /* exit is reported through 'close' */ });
    child.once('error', (e) => { this.stderr += String(e); });
    child.once('close', () => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
  }

  async started(): Promise<MockCluster> {
    const line = await this.next();
    const m = /^BOOTSTRAP (\S+)$/.exec(line ?? '');
    if (!m) {
      this.child.kill('SIGKILL');
      throw new MockClusterError(`the mock cluster did not start: ${line ?? (this.stderr.trim() || 'no output')}`);
    }
    this.bootstrap = m[1];
    this.brokers = m[1].split(',');
    return this;
  }

  private deliver(line: string): void {
    const w = this.waiters.shift();
    if (w) w(line);
    else this.lines.push(line);
  }

  private next(): Promise<string | null> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.exited) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, this.timeoutMs);
      const done = (line: string | null) => { clearTimeout(timer); resolve(line); };
      this.waiters.push(done);
    });
  }

  /** One command, one answer line; commands are serialized so answers match their commands. */
  private command(words: (string | number)[]): Promise<string> {
    const run = async () => {
      if (this.exited) throw new MockClusterError(`the mock cluster has exited (${words[0]})`);
      for (const w of words) if (/\s/.test(String(w)) || String(w) === '') throw new MockClusterError(`bad argument ${JSON.stringify(w)}`);
      this.child.stdin.write(`${words.join(' ')}\n`);
      const line = await this.next();
      if (line === null) throw new MockClusterError(`no answer to "${words.join(' ')}"${this.stderr ? `: ${this.stderr.trim()}` : ''}`);
      if (line.startsWith('ERR')) throw new MockClusterError(`${words.join(' ')}: ${line.slice(4)}`);
      return line;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  async createTopic(name: string, partitions: number, replicationFactor = Math.min(this.brokers.length, 3)): Promise<void> {
    await this.command(['topic', name, partitions, replicationFactor]);
  }

  async pushRequestErrors(apiKey: number, errors: readonly MockErrorCode[]): Promise<void> {
    if (errors.length === 0) return;
    await this.command(['errors', apiKey, ...errors]);
  }

  async pushBrokerErrors(brokerId: number, apiKey: number, errors: readonly (MockErrorCode | { code: MockErrorCode; rttMs: number })[]): Promise<void> {
    if (errors.length === 0) return;
    await this.command(['broker-errors', brokerId, apiKey,
      ...errors.map((e) => (typeof e === 'object' ? `${e.code}:${e.rttMs}` : String(e)))]);
  }

  async clearRequestErrors(apiKey: number): Promise<void> {
    await this.command(['clear-errors', apiKey]);
  }

  async setTopicError(topic: string, code: MockErrorCode): Promise<void> {
    await this.command(['topic-error', topic, code]);
  }

  async setLeader(topic: string, partition: number, brokerId: number): Promise<void> {
    await this.command(['leader', topic, partition, brokerId]);
  }

  async brokerDown(brokerId: number): Promise<void> {
    await this.command(['down', brokerId]);
  }

  async brokerUp(brokerId: number): Promise<void> {
    await this.command(['up', brokerId]);
  }

  async setRtt(brokerId: number, ms: number): Promise<void> {
    await this.command(['rtt', brokerId, ms]);
  }

  async setApiVersion(apiKey: number, min: number, max: number): Promise<void> {
    await this.command(['apiversion', apiKey, min, max]);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}
