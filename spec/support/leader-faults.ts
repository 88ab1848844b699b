// Leader faults on a real multi-node cluster, seen through kcat's metadata (not kafka-rx's): who
// leads a partition, and waiting until the controller has moved the leadership elsewhere.
import { metadata } from './kcat.js';

/** The leader node of a partition now, per the cluster (kcat -L); -1 when it has none. */
export async function leaderOf(bootstrap: string, topic: string, partition: number): Promise<number> {
  const t = (await metadata({ bootstrap, topic })).topics[0];
  return t?.partitions.find((p) => p.partition === partition)?.leader ?? -1;
}

/** Waits until the partition is led by a node other than `old`, returns it. */
export async function waitForNewLeader(bootstrap: string, topic: string, partition: number, old: number, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let now = old;
  while (Date.now() < deadline) {
    try {
      now = await leaderOf(bootstrap, topic, partition);
      if (now !== old && now >= 0) return now;
    } catch {
      // A node being killed can fail one metadata call; the next one asks another node.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`partition ${partition} of ${topic} still led by ${now} after ${timeoutMs} ms (was ${old})`);
}

/** Waits until every partition's in-sync replicas hold all `nodes` nodes again. */
export async function waitForFullIsr(bootstrap: string, topic: string, nodes: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  while (Date.now() < deadline) {
    try {
      const t = (await metadata({ bootstrap, topic })).topics[0];
      if (t && t.partitions.every((p) => p.isrs.length === nodes)) return;
      seen = JSON.stringify(t?.partitions.map((p) => p.isrs));
    } catch (e) {
      seen = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${topic}: in-sync replicas not back to ${nodes} nodes within ${timeoutMs} ms (${seen})`);
}

/** Rejects with a message naming what did not happen in time. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}
