// Topics for the specs, created with the broker's own tooling (kafka-topics, i.e. TopicCommand
// from kafka-tools, run through scripts/kafka) so that tests do not depend on kafka-rx's own
// admin requests. A JVM start costs about a second per call.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { KAFKA_SCRIPT, bootstrap as defaultBootstrap } from './broker.js';
import { metadata, type KcatTopic } from './kcat.js';

export interface CreateTopicOptions {
  partitions?: number;
  replicationFactor?: number;
  /** Topic configs, e.g. { 'min.insync.replicas': '2', 'message.timestamp.type': 'LogAppendTime' }. */
  configs?: Record<string, string | number>;
  /** Default: KAFKA_BROKERS. */
  bootstrap?: string;
  timeoutMs?: number;
}

let counter = 0;

/** A topic name no other test (nor a parallel run on the same cluster) uses. */
export function uniqueTopic(prefix = 'test'): string {
  counter += 1;
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 100);
  return `${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}-${counter}`;
}

function topicCommand(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(KAFKA_SCRIPT, ['topics', ...args], { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const why = String(stderr).split('\n').find((l) => /Error|Exception/.test(l)) ?? String(stderr).trim().split('\n').pop() ?? err.message;
        fail(new Error(`kafka-topics ${args.join(' ')} failed: ${why.trim()}`));
      } else ok(String(stdout));
    });
  });
}

/**
 * Creates a topic with exactly these partitions and replication factor (defaults 1 and 1), then
 * waits until every broker's metadata shows each partition with a leader, so a producer started
 * right after does not see UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE.
 */
export async function createTopic(name: string, options: CreateTopicOptions = {}): Promise<KcatTopic> {
  const boot = options.bootstrap ?? defaultBootstrap();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const partitions = options.partitions ?? 1;
  const args = ['--bootstrap-server', boot, '--create', '--topic', name,
    '--partitions', String(partitions), '--replication-factor', String(options.replicationFactor ?? 1)];
  for (const [k, v] of Object.entries(options.configs ?? {})) args.push('--config', `${k}=${v}`);
  await topicCommand(args, timeoutMs);
  return waitForTopic(name, { bootstrap: boot, partitions, timeoutMs });
}

/** Waits until every broker of the cluster knows `partitions` partitions of the topic, each with a leader. */
export async function waitForTopic(name: string, options: { bootstrap?: string; partitions: number; timeoutMs?: number }): Promise<KcatTopic> {
  const boot = options.bootstrap ?? defaultBootstrap();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let seen = 'no metadata yet';
  for (;;) {
    try {
      const cluster = await metadata({ bootstrap: boot, topic: name });
      let topic: KcatTopic | undefined;
      let ready = true;
      for (const b of cluster.brokers) {
        const t = (await metadata({ bootstrap: `${b.host}:${b.port}`, topic: name, timeoutMs: 5_000 })).topics[0];
        const ok = t && !t.error && t.partitions.length === options.partitions && t.partitions.every((p) => p.leader >= 0 && !p.error);
        if (!ok) { ready = false; seen = `broker ${b.id}: ${t?.error ?? `${t?.partitions.length ?? 0} partitions`}`; break; }
        topic = t;
      }
      if (ready && topic) return topic;
    } catch (e) {
      seen = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`topic ${name} not ready with ${options.partitions} partitions (${seen})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function deleteTopic(name: string, options: { bootstrap?: string; timeoutMs?: number } = {}): Promise<void> {
  await topicCommand(['--bootstrap-server', options.bootstrap ?? defaultBootstrap(), '--delete', '--topic', name], options.timeoutMs ?? 60_000);
}

/**
 * `count` fresh topics of `partitions` partitions each (the multi-topic specs), created with the
 * broker's tooling a few at a time: each kafka-topics run is a JVM start, and the machine is shared.
 */
export async function createTopicSet(prefix: string, count: number, options: CreateTopicOptions & { concurrency?: number } = {}): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => uniqueTopic(`${prefix}-${i}`));
  let next = 0;
  const worker = async () => {
    while (next < names.length) await createTopic(names[next++], options);
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, count) }, worker));
  return names;
}

/** Grows a topic to `partitions` partitions (kafka-topics --alter) and waits until every broker knows them. */
export async function addPartitions(name: string, partitions: number, options: { bootstrap?: string; timeoutMs?: number } = {}): Promise<KcatTopic> {
  const boot = options.bootstrap ?? defaultBootstrap();
  await topicCommand(['--bootstrap-server', boot, '--alter', '--topic', name, '--partitions', String(partitions)], options.timeoutMs ?? 60_000);
  return waitForTopic(name, { bootstrap: boot, partitions, timeoutMs: options.timeoutMs });
}
