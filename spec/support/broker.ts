// Real Apache Kafka for tests, the demo and benchmarks: either the cluster named by KAFKA_BROKERS
// or one started here through scripts/kafka on free loopback ports in a temporary folder.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kafkaLibs } from './kafka-version.js';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const KAFKA_SCRIPT = join(REPO_ROOT, 'scripts', 'kafka');

/** A cluster started by this process; stop() is idempotent. */
export interface LocalCluster {
  /** `127.0.0.1:P1[,127.0.0.1:P2,...]` */
  readonly bootstrap: string;
  /** One `host:port` per node, in node order (node 1 first). */
  readonly brokers: readonly string[];
  readonly nodes: number;
  /** Folder holding each node's config, data, log (nodeN.log) and pid. */
  readonly dir: string;
  /** SIGKILLs node n (1-based), as a crash would; resolves once the process is gone. */
  killNode(n: number): Promise<void>;
  /** Stops node n cleanly (SIGTERM: controlled shutdown hands its leaderships over first). */
  stopNode(n: number): Promise<void>;
  /** Restarts node n with its data; resolves once it is back in the cluster. */
  startNode(n: number): Promise<void>;
  /** Stops every node and removes the folder. */
  stop(): Promise<void>;
  /** The secured listeners, certificates and users of a cluster started with `secure: true`. */
  readonly security?: SecuredEndpoints;
}

/**
 * What scripts/kafka start --secure made (DIR/security/cluster.env): one bootstrap list per
 * listener kind, the CA and client certificate files, and the users' passwords (random per run).
 */
export interface SecuredEndpoints {
  ssl: string;
  mtls: string;
  saslPlaintext: string;
  saslSsl: string;
  caFile: string;
  clientCertFile: string;
  /** Encrypted with clientKeyPassphrase. */
  clientKeyFile: string;
  clientKeyPassphrase: string;
  /** Super user. */
  adminPassword: string;
  /** May write (and describe) topics named writable-* only. */
  alicePassword: string;
  /** The same rights as alice; the spec that revokes credentials mid-run changes carol's password. */
  carolPassword: string;
  /** The broker's connections.max.reauth.ms (0: none). */
  reauthMs: number;
}

function readSecuredEndpoints(dir: string): SecuredEndpoints {
  const env = new Map(readFileSync(join(dir, 'security', 'cluster.env'), 'utf8').trim().split('\n').map((line) => {
    const at = line.indexOf('=');
    return [line.slice(0, at), line.slice(at + 1)] as const;
  }));
  const get = (name: string) => {
    const value = env.get(name);
    if (value === undefined) throw new Error(`${dir}/security/cluster.env lacks ${name}`);
    return value;
  };
  return {
    ssl: get('SSL'), mtls: get('MTLS'), saslPlaintext: get('SASL_PLAINTEXT'), saslSsl: get('SASL_SSL'),
    caFile: get('CA_FILE'), clientCertFile: get('CLIENT_CERT_FILE'), clientKeyFile: get('CLIENT_KEY_FILE'),
    clientKeyPassphrase: get('CLIENT_KEY_PASSPHRASE'), adminPassword: get('ADMIN_PASSWORD'), alicePassword: get('ALICE_PASSWORD'), carolPassword: get('CAROL_PASSWORD'),
    reauthMs: Number(get('REAUTH_MS')),
  };
}

export interface StartClusterOptions {
  nodes?: 1 | 3;
  /** Kept after stop() only if given; by default a fresh temporary folder. */
  dir?: string;
  /** Startup budget; scripts/kafka has its own limit as well. */
  timeoutMs?: number;
  /** TLS and SASL listeners, certificates, users and ACLs (scripts/kafka start --secure). */
  secure?: boolean;
  /** With secure: the broker's connections.max.reauth.ms (KIP-368). */
  reauthMs?: number;
  /** Another Apache Kafka release than the run's (KAFKA_VERSION), e.g. to test across versions. */
  kafkaVersion?: string;
  /** Broker settings added to every node's server.properties. */
  brokerSettings?: Record<string, string>;
}

/** The brokers the specs must use: KAFKA_BROKERS, set by the root hook or by the caller. */
export function brokers(): string[] {
  const list = (process.env.KAFKA_BROKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) {
    throw new Error('KAFKA_BROKERS is not set: run the specs through mocha with spec/support/root-hooks.ts, or set KAFKA_BROKERS=host:port');
  }
  return list;
}

/** KAFKA_BROKERS as one comma-separated bootstrap string. */
export function bootstrap(): string {
  return brokers().join(',');
}

function javaPath(): string | null {
  const candidates = [
    process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : '',
    '/usr/lib/jvm/java-17-openjdk-amd64/bin/java',
  ].filter(Boolean);
  for (const c of candidates) if (existsSync(c)) return c;
  return onPath('java') ? 'java' : null;
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}


/** null when a local broker can be started, else what is missing, as words for a sentence. */
export function missingForLocalBroker(version?: string): string | null {
  const java = javaPath() !== null;
  const cached = existsSync(join(kafkaLibs(version), '.complete'));
  const maven = cached || onPath('mvn');
  if (!java && !maven) return 'Java 17 and Maven';
  if (!java) return 'Java 17';
  if (!maven) return 'Maven';
  return null;
}

/** `n` distinct loopback ports that were free a moment ago (the OS picks them). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import('node:net').Server>((ok, fail) => {
      const s = createServer();
      s.once('error', fail);
      s.listen(0, '127.0.0.1', () => ok(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}

interface RunResult { code: number | null; stdout: string; stderr: string }

function runScript(args: string[], timeoutMs: number, kafkaVersion?: string): Promise<RunResult> {
  const env = kafkaVersion === undefined ? process.env : { ...process.env, KAFKA_VERSION: kafkaVersion };
  return new Promise((ok, fail) => {
    const child = execFile(KAFKA_SCRIPT, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, killSignal: 'SIGKILL', env },
      (err, stdout, stderr) => {
        // execFile's error carries the exit status as a number, or a string such as ENOENT.
        const status = (err as { code?: unknown } | null)?.code;
        if (status === 'ENOENT' || status === 'EACCES') return fail(new Error(`${KAFKA_SCRIPT} cannot be run (${status})`));
        ok({ code: err ? (typeof status === 'number' ? status : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
      });
    child.stdin?.end();
  });
}

// Clusters of this process, killed synchronously if the process ends before stop() ran.
const running = new Map<string, { dir: string; removeDir: boolean }>();
let exitHooksInstalled = false;

function killDirSync(dir: string, removeDir: boolean): void {
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) {
      if (!/^node\d+\.pid$/.test(f)) continue;
      const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
      if (pid > 0) { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } }
    }
  }
  if (removeDir) rmSync(dir, { recursive: true, force: true });
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => { for (const c of running.values()) killDirSync(c.dir, c.removeDir); });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const c of running.values()) killDirSync(c.dir, c.removeDir);
      running.clear();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/**
 * Starts a 1- or 3-node KRaft cluster on free ports. Three nodes give a 3-voter quorum, so
 * topics with replication factor 3 and min.insync.replicas=2 work and a leader can be killed.
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<LocalCluster> {
  const nodes = options.nodes ?? 1;
  const version = options.kafkaVersion;
  const settings = Object.entries(options.brokerSettings ?? {}).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
  const missing = missingForLocalBroker(version);
  if (missing) throw new Error(`Cannot start Apache Kafka for the tests: ${missing} not found (install it, or set KAFKA_BROKERS=host:port to use a running cluster).`);
  const removeDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kafka-rx-'));
  const timeoutMs = options.timeoutMs ?? 180_000;
  installExitHooks();
  let last: RunResult | undefined;
  // A port picked as free can be taken by someone else before the JVM binds it: retry with new ones.
  for (let attempt = 0; attempt < 3; attempt++) {
    const secure = options.secure === true;
    const ports = await freePorts((secure ? 6 : 2) * nodes);
    const brokerPorts = ports.slice(0, nodes);
    const controllerPorts = ports.slice(nodes, 2 * nodes);
    running.set(dir, { dir, removeDir });
    const secureArgs = secure ? ['--secure', '--secure-ports', ports.slice(2 * nodes).join(',')] : [];
    if (secure && options.reauthMs !== undefined) secureArgs.push('--reauth-ms', String(options.reauthMs));
    last = await runScript(['start', '--nodes', String(nodes), '--dir', dir,
      '--ports', brokerPorts.join(','), '--controller-ports', controllerPorts.join(','), ...settings, ...secureArgs], timeoutMs, version);
    if (last.code === 0) {
      const lines = last.stdout.trim().split('\n');
      const boot = lines[lines.length - 1].trim();
      return makeCluster(dir, boot, nodes, removeDir, version, secure ? readSecuredEndpoints(dir) : undefined);
    }
    killDirSync(dir, false);
    if (!/already in use|Address already in use|BindException/i.test(last.stderr + readLogs(dir))) break;
  }
  running.delete(dir);
  const detail = (last?.stderr ?? '').trim().split('\n').slice(-15).join('\n');
  if (removeDir) rmSync(dir, { recursive: true, force: true });
  throw new Error(`scripts/kafka could not start a ${nodes}-node Apache Kafka cluster:\n${detail}`);
}

function readLogs(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(dir, f), 'utf8').slice(-4000)).join('\n');
}

function makeCluster(dir: string, boot: string, nodes: number, removeDir: boolean, version: string | undefined, security?: SecuredEndpoints): LocalCluster {
  let stopped = false;
  const list = boot.split(',');
  const checkNode = (n: number) => {
    if (!Number.isInteger(n) || n < 1 || n > nodes) throw new RangeError(`node must be 1..${nodes}, got ${n}`);
  };
  const must = async (args: string[], what: string, timeoutMs = 120_000) => {
    const r = await runScript([...args, '--dir', dir], timeoutMs, version);
    if (r.code !== 0) throw new Error(`scripts/kafka ${what} failed: ${r.stderr.trim().split('\n').slice(-10).join('\n')}`);
  };
  return {
    bootstrap: boot,
    brokers: list,
    nodes,
    dir,
    security,
    killNode: async (n) => { checkNode(n); await must(['kill-node', String(n)], `kill-node ${n}`); },
    stopNode: async (n) => { checkNode(n); await must(['stop-node', String(n), '--timeout', '60'], `stop-node ${n}`); },
    startNode: async (n) => { checkNode(n); await must(['start-node', String(n)], `start-node ${n}`); },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // The data is thrown away, so a short grace period is enough.
      await runScript(['stop', '--dir', dir, '--timeout', '5'], 60_000, version);
      killDirSync(dir, removeDir);
      running.delete(dir);
    },
  };
}

function tcpProbe(hostPort: string, timeoutMs: number): Promise<boolean> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) return Promise.resolve(false);
  return new Promise((ok) => {
    const s = connect({ host, port });
    const done = (v: boolean) => { s.destroy(); ok(v); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Throws unless the cluster answers: some bootstrap address accepts TCP and, when kcat is
 * installed, a metadata request lists at least one broker.
 */
export async function assertBrokerAnswers(boot: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const addrs = boot.split(',').map((s) => s.trim()).filter(Boolean);
  let reason = 'no address given';
  while (Date.now() < deadline) {
    const open = (await Promise.all(addrs.map((a) => tcpProbe(a, 2000)))).some(Boolean);
    if (!open) reason = 'no TCP connection could be opened';
    else if (!onPath('kcat')) return;
    else {
      const r = spawnSync('kcat', ['-L', '-J', '-m', '5', '-b', boot], { encoding: 'utf8', timeout: 10_000 });
      try {
        const meta = JSON.parse(r.stdout) as { brokers?: unknown[] };
        if ((meta.brokers?.length ?? 0) > 0) return;
        reason = 'the metadata listed no broker';
      } catch {
        reason = `kcat -L failed: ${(r.stderr || '').trim().split('\n').pop() ?? ''}`;
      }
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`Kafka at ${boot} does not answer (${reason}).`);
}

/**
 * For programs outside mocha (the demo, benchmarks): the cluster named by KAFKA_BROKERS, checked,
 * or a fresh local one-node cluster. stop() stops only what this call started.
 */
export async function ensureBroker(): Promise<{ bootstrap: string; stop(): Promise<void> }> {
  const given = process.env.KAFKA_BROKERS?.trim();
  if (given) {
    await assertBrokerAnswers(given);
    return { bootstrap: given, stop: async () => {} };
  }
  const cluster = await startCluster({ nodes: 1 });
  return { bootstrap: cluster.bootstrap, stop: () => cluster.stop() };
}
