#!/usr/bin/env node
// Makes the machine ready for `npm test` (run as its pretest) and `npm run demo`: installs what is
// missing and does nothing when everything is present, so a warm run costs well under a second.
//   node scripts/prepare-test.mjs              node_modules, Debian packages, Java, Kafka jars
//   node scripts/prepare-test.mjs --no-install (npm run demo) the same: the demo reads back with
//                                              kcat and nothing runs without node_modules, so the
//                                              flag only says in the log that it is the demo's run
// When something cannot be had it prints one sentence saying what, and exits non-zero.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FOR_DEMO = process.argv.includes('--no-install');
const started = Date.now();
const done = [];

// Debian packages the tests need: [package, command or file that shows it is present].
// Add new ones here (e.g. ['gcc', 'gcc'], ['librdkafka-dev', '/usr/include/librdkafka/rdkafka_mock.h']).
const DEBIAN_PACKAGES = [
  ['kcat', 'kcat'],
  // Certificates for the secured broker (scripts/kafka start --secure) are made with it at run time.
  ['openssl', 'openssl'],
  // librdkafka's mock cluster, compiled into a small helper by the fault-injection specs.
  ['gcc', 'gcc'],
  ['libc6-dev', '/usr/include/stdio.h'],
  ['librdkafka-dev', '/usr/include/librdkafka/rdkafka_mock.h'],
];

function fail(sentence) {
  console.error(`prepare-test: ${sentence}`);
  process.exit(1);
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v "${cmd}"`], { stdio: 'ignore' }).status === 0;
}

function present([, probe]) {
  return probe.startsWith('/') ? existsSync(probe) : onPath(probe);
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  return r.status === 0;
}

function javaPath() {
  if (process.env.JAVA_HOME && existsSync(join(process.env.JAVA_HOME, 'bin', 'java'))) return join(process.env.JAVA_HOME, 'bin', 'java');
  if (existsSync('/usr/lib/jvm/java-17-openjdk-amd64/bin/java')) return '/usr/lib/jvm/java-17-openjdk-amd64/bin/java';
  return onPath('java') ? 'java' : null;
}

function javaMajor(java) {
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr ?? '');
  if (!m) return 0;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

// KAFKA_VERSION from the environment, else scripts/kafka's default (spec/support/kafka-version.ts reads it the same way).
const kafkaVersion = process.env.KAFKA_VERSION?.trim() || /^DEFAULT_KAFKA_VERSION=(\S+)/m.exec(readFileSync(join(ROOT, 'scripts', 'kafka'), 'utf8'))[1];
const jarsCached = () => existsSync(join(process.env.KAFKA_RX_CACHE ?? join(ROOT, '.cache'), `kafka-${kafkaVersion}`, 'libs', '.complete'));

// 1. Node itself.
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 22) fail(`Node.js 22 or newer is required (this is ${process.version}; 20 reached its end of life in April 2026).`);

// 2. node_modules.
if (!existsSync(join(ROOT, 'node_modules', '.package-lock.json'))) {
  const hasLock = existsSync(join(ROOT, 'package-lock.json'));
  console.log(`prepare-test: installing node_modules (npm ${hasLock ? 'ci' : 'install'})...`);
  if (!run('npm', [hasLock ? 'ci' : 'install', '--no-audit', '--no-fund'])) fail('npm could not install the dependencies (see the npm output above).');
  done.push('node_modules');
}

// 3. Debian packages, and Java 17 / Maven when Kafka must run here and they are missing.
const wanted = DEBIAN_PACKAGES.filter((p) => !present(p));
const java = javaPath();
if (!java || javaMajor(java) < 17) wanted.push(['openjdk-17-jre-headless', '/usr/lib/jvm/java-17-openjdk-amd64/bin/java']);
if (!jarsCached() && !onPath('mvn')) wanted.push(['maven', 'mvn']);
if (wanted.length > 0) {
  const names = wanted.map(([p]) => p);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    fail(`${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} missing and cannot be installed here (needs root and apt-get): install ${names.length > 1 ? 'them' : 'it'} and run again.`);
  }
  console.log(`prepare-test: apt-get install ${names.join(' ')}...`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!run('apt-get', ['update', '-qq'], env) || !run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], env)) {
    fail(`apt-get could not install ${names.join(', ')}.`);
  }
  const still = wanted.filter((p) => !present(p)).map(([p]) => p);
  if (still.length > 0) fail(`${still.join(', ')} still missing after apt-get install.`);
  done.push(...names);
}

// 4. The Kafka jars (Maven Central, once; scripts/kafka keeps them in .cache). Needed even with
// KAFKA_BROKERS set: the specs create topics with Kafka's own TopicCommand.
if (!jarsCached()) {
  try {
    execFileSync(join(ROOT, 'scripts', 'kafka'), ['fetch'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    fail(`Apache Kafka ${kafkaVersion} could not be fetched from Maven Central with mvn (see the output above).`);
  }
  done.push(`Kafka ${kafkaVersion} jars`);
}

const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`prepare-test${FOR_DEMO ? ' (demo)' : ''}: ready${done.length ? ` (installed: ${done.join(', ')})` : ''} in ${secs} s.`);
