// npm run soak (not part of npm test): longer runs on a three-node cluster of its own, replication
// factor 3 and min.insync.replicas=2, acks=all: repeated leader kills (SIGKILL) and restarts, and
// a leader stopped cleanly (SIGTERM, controlled shutdown) and restarted, each with and without
// idempotence. Every run prints the same counts as the reliability spec, read back with kcat.
// SOAK_SCALE (default 1) multiplies the message counts.
import { expect } from 'chai';
import type { ProducerOptions } from '../../lib/index.js';
import { startCluster, type LocalCluster } from '../support/broker.js';
import { expectEveryMessageAccounted } from '../support/delivery-audit.js';
import { runUnderLeaderFaults, type LeaderFault } from '../support/leader-fault-run.js';

const SCALE = Number(process.env.SOAK_SCALE ?? '1');
if (!(SCALE > 0)) throw new RangeError(`SOAK_SCALE must be > 0, got ${process.env.SOAK_SCALE}`);
const n = (count: number) => Math.round(count * SCALE);

const base: ProducerOptions = {
  requiredAcks: 'all',
  lingerMs: 10,
  minQueuedMessages: 2_000,
  // Failovers take the controller's session timeout: retries must outlast them.
  maxRetries: 1_000,
  retryBackoffMs: 200,
};

/** Leaders of partitions 0, 1, 2 hit one after another, each restarted before the next. */
function rounds(kind: LeaderFault['kind'], count: number, partitions: number[]): LeaderFault[] {
  const step = Math.floor(count / (partitions.length + 1));
  return partitions.map((partition, i) => ({
    kind,
    partition,
    atAcknowledged: Math.floor(step * (i + 0.5)),
    restartAtAcknowledged: Math.floor(step * (i + 1)),
  }));
}

describe('soak: leader faults on a three-node cluster', function () {
  let cluster: LocalCluster | undefined;

  before(async function () {
    this.timeout(240_000);
    cluster = await startCluster({ nodes: 3 });
  });

  after(async function () {
    this.timeout(120_000);
    await cluster?.stop();
  });

  const runs: Array<{ name: string; idempotent: boolean; kind: LeaderFault['kind']; count: number; partitions: number[] }> = [
    { name: 'leaders of 3 partitions SIGKILLed and restarted in turn, idempotent', idempotent: true, kind: 'kill', count: n(600_000), partitions: [0, 1, 2] },
    { name: 'a leader stopped cleanly and restarted, idempotent', idempotent: true, kind: 'stop', count: n(300_000), partitions: [0] },
    { name: 'leaders of 2 partitions SIGKILLed and restarted in turn, not idempotent', idempotent: false, kind: 'kill', count: n(400_000), partitions: [0, 1] },
    { name: 'a leader stopped cleanly and restarted, not idempotent', idempotent: false, kind: 'stop', count: n(300_000), partitions: [0] },
  ];

  for (const run of runs) {
    it(`${run.name}: ${run.count.toLocaleString('en')} messages, nothing lost, each reported once`, async () => {
      const result = await runUnderLeaderFaults({
        label: `soak-${run.kind}-${run.idempotent ? 'idem' : 'plain'}`,
        cluster: cluster!,
        count: run.count,
        partitions: 3,
        ratePerSecond: 10_000,
        producer: { ...base, enableIdempotence: run.idempotent },
        faults: rounds(run.kind, run.count, run.partitions),
      });
      console.log(`        took ${(result.durationMs / 1000).toFixed(1)} s; faults hit at produced=${result.producedAtFault.join(',')}`);
      expect(result.producedAtFault.every((p) => p > 0 && p < run.count), 'faults landed mid-run').to.equal(true);
      expectEveryMessageAccounted(result.counts, run.idempotent);
    });
  }
});
