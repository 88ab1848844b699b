// One audited producer run on a real three-node cluster while partition leaders are killed
// (SIGKILL) or stopped cleanly (SIGTERM) and restarted: shared by the reliability spec and the soak.
import { KafkaClient, type KafkaClientOptions, type ProducerOptions } from '../../lib/index.js';
import type { LocalCluster } from './broker.js';
import { DeliveryAudit, formatCounts, producePaced, type AuditCounts } from './delivery-audit.js';
import { leaderOf, waitForFullIsr, waitForNewLeader, within } from './leader-faults.js';
import { createTopic, uniqueTopic } from './topics.js';

export interface LeaderFault {
  /** kill: SIGKILL, as a crash; stop: SIGTERM, a controlled shutdown. */
  kind: 'kill' | 'stop';
  /** Whose leader is hit. */
  partition: number;
  /** Hit once this many messages are acknowledged... */
  atAcknowledged: number;
  /** ...and restart the node once this many are. */
  restartAtAcknowledged: number;
}

export interface LeaderFaultRunOptions {
  label: string;
  cluster: LocalCluster;
  count: number;
  partitions: number;
  /** Paces produce() so the faults land mid-run (0: unpaced). */
  ratePerSecond: number;
  producer: ProducerOptions;
  /** Applied one after another. */
  faults: LeaderFault[];
  valueSize?: number;
  /** Client options beyond the defaults (brokers, tls, sasl for a secured listener). */
  client?: Partial<KafkaClientOptions>;
  /** Where and how kcat reads back (default: the cluster's plain bootstrap). */
  readBack?: { bootstrap: string; config: Record<string, string> };
  /** Records carry keys (k0..k999). */
  keyed?: boolean;
}

export interface LeaderFaultRunResult {
  counts: AuditCounts;
  topic: string;
  /** What happened when, for the output. */
  events: string[];
  /** Messages produced when each fault hit (to show it landed mid-run). */
  producedAtFault: number[];
  durationMs: number;
}

export async function runUnderLeaderFaults(o: LeaderFaultRunOptions): Promise<LeaderFaultRunResult> {
  const { cluster } = o;
  const topic = uniqueTopic(o.label);
  await createTopic(topic, {
    partitions: o.partitions, replicationFactor: 3, configs: { 'min.insync.replicas': 2 }, bootstrap: cluster.bootstrap,
  });
  const started = Date.now();
  const events: string[] = [];
  const note = (what: string) => events.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
  const producedAtFault: number[] = [];
  const audit = new DeliveryAudit(o.count, o.valueSize);
  const client = new KafkaClient({ brokers: cluster.bootstrap, clientId: `kafka-rx-${o.label}`, requestTimeoutMs: 10_000, ...o.client });
  try {
    const producer = client.producer(topic, o.producer);
    audit.watch(producer);
    // KAFKA_RX_PROGRESS=1 prints the producer's state every 2 s (to see where a run stalls).
    const progress = process.env.KAFKA_RX_PROGRESS === '1' ? setInterval(() => {
      const s = producer.statsSnapshot();
      const leaders = Array.from({ length: o.partitions }, (_, p) => client.cluster.leaderOf(topic, p)).join(',');
      note(`progress produced=${audit.produced} acknowledged=${s.acknowledged} failed=${s.failed} pending=${s.pending} queued=${JSON.stringify(s.queuedPerBroker)} retries=${s.retries} errors=${s.errors} epochBumps=${s.epochBumps} leaders=${leaders}`);
      console.log(`        ${events[events.length - 1]}`);
    }, 2_000) : undefined;
    // The last tenth of the records waits for the last fault to hit: on a slow machine a node's
    // restart can take long enough for every record to be produced before the next fault.
    let lastFaultHit!: () => void;
    const faultsHit = new Promise<void>((resolve) => (lastFaultHit = resolve));
    const holdBefore = o.count - Math.ceil(o.count / 10);
    // Only when the faults can all hit with the held records unsent (no threshold beyond them).
    const canHold = o.faults.every((fault, i) => fault.atAcknowledged <= holdBefore && (i === o.faults.length - 1 || fault.restartAtAcknowledged <= holdBefore));
    const producing = producePaced(producer, audit, o.count, o.ratePerSecond, o.keyed === true, canHold ? { beforeId: holdBefore, until: faultsHit } : undefined);
    const faulting = (async () => {
      try {
        await applyFaults();
      } finally {
        lastFaultHit();
      }
    })();
    async function applyFaults(): Promise<void> {
      for (const fault of o.faults) {
        await within(audit.whenAcknowledged(Math.min(fault.atAcknowledged, o.count)), 180_000, `${fault.atAcknowledged} acknowledged before the ${fault.kind}`);
        const leader = await leaderOf(cluster.bootstrap, topic, fault.partition);
        if (leader < 1) throw new Error(`partition ${fault.partition} has no leader to ${fault.kind}`);
        producedAtFault.push(audit.produced);
        note(`${fault.kind} node ${leader} (leader of partition ${fault.partition}) at produced=${audit.produced} acknowledged=${audit.acknowledged}`);
        if (fault.kind === 'kill') await cluster.killNode(leader);
        else await cluster.stopNode(leader);
        if (fault === o.faults[o.faults.length - 1]) lastFaultHit();
        const next = await waitForNewLeader(cluster.bootstrap, topic, fault.partition, leader);
        note(`partition ${fault.partition} led by node ${next}`);
        await within(audit.whenAcknowledged(Math.min(fault.restartAtAcknowledged, o.count)), 180_000, `${fault.restartAtAcknowledged} acknowledged before restarting node ${leader}`);
        note(`restarting node ${leader} at produced=${audit.produced} acknowledged=${audit.acknowledged}`);
        await cluster.startNode(leader);
        note(`node ${leader} back`);
        await waitForFullIsr(cluster.bootstrap, topic, 3, 90_000);
        note('all partitions fully in sync');
      }
    }
    const [produced, faulted] = await Promise.allSettled([producing, faulting]);
    note(`produce() loop done (${audit.produced} accepted)`);
    // deliveryTimeoutMs bounds every outcome; flush() waits for all of them.
    const settleBudget = (o.producer.deliveryTimeoutMs ?? 120_000) + 30_000;
    await within(producer.flush(), settleBudget, 'every outcome after the last produce()');
    note(`every message has its outcome (acknowledged=${audit.acknowledged} failed=${audit.failed})`);
    await producer.stop();
    clearInterval(progress);
    if (produced.status === 'rejected') throw produced.reason;
    if (faulted.status === 'rejected') throw faulted.reason;
  } finally {
    await client.close();
  }
  const durationMs = Date.now() - started;
  const counts = await audit.verify(topic, o.readBack?.bootstrap ?? cluster.bootstrap, 180_000, o.readBack?.config);
  console.log(`      ${formatCounts(o.label, counts)}`);
  for (const e of events) console.log(`        ${e}`);
  return { counts, topic, events, producedAtFault, durationMs };
}
