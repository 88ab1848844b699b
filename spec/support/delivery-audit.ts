// Exact accounting of a producer run under faults: every message carries a unique id in its value,
// every delivery report is counted against that id, and what kcat reads back from the topic is
// counted against it too. From the two sides come the numbers the reliability specs and the soak
// print and assert on: lost (acknowledged, not in the topic), duplicated (in the topic more than
// once), unreported (produced, no report), reported twice, order broken within a partition, and
// offsets reported that are not where kcat found the record.
import { expect } from 'chai';
import { KafkaRxError, MaybeWrittenError, type DeliveryReport, type Producer } from '../../lib/index.js';
import { consumeAll } from './kcat.js';

/** Marks this run's records, so a record written by anything else is counted as foreign. */
const MAGIC = 0x4b525841; // 'KRXA'
const HEADER = 8;

export interface AuditCounts {
  produced: number;
  acknowledged: number;
  failed: number;
  /** Produced but no delivery report at all (must be 0). */
  unreported: number;
  /** Messages with more than one report (must be 0). */
  reportedTwice: number;
  /** Records kcat read back from the topic. */
  inTopic: number;
  /** Acknowledged but not in the topic (must be 0). */
  lost: number;
  /** Extra copies in the topic beyond the first (must be 0 with idempotence). */
  duplicated: number;
  /** Reported failed, yet in the topic (allowed only as MaybeWrittenError; informational). */
  failedButWritten: number;
  /** Reported failed as not written (any error but MaybeWrittenError), yet in the topic (must be 0). */
  notWrittenButFound: number;
  /** Reported MaybeWrittenError (outcome unknown). */
  maybeWritten: number;
  /** Neither acknowledged nor failed, not produced by this run: unknown records. */
  foreign: number;
  /** Pairs of neighbouring records of a partition whose ids go backwards. */
  orderViolations: number;
  /** Acknowledged with a partition or offset other than where kcat found the record. */
  placementMismatches: number;
  /** Failure reports by error class name. */
  failuresByType: Record<string, number>;
  /** Failure reports whose error is not a KafkaRxError (must be 0). */
  untypedFailures: number;
}

export class DeliveryAudit {
  produced = 0;
  acknowledged = 0;
  failed = 0;
  untypedFailures = 0;
  private readonly reports: Uint8Array;
  /** Per message: 1 when its failure said "not written", 2 when it said "maybe written". */
  private readonly failureKind: Uint8Array;
  private readonly ackPartition: Int32Array;
  private readonly ackOffset: BigInt64Array;
  private readonly failuresByType: Record<string, number> = {};
  private readonly waiters: Array<{ at: number; resolve: () => void }> = [];

  constructor(readonly count: number, private readonly valueSize = 64) {
    if (valueSize < HEADER) throw new RangeError(`valueSize must be >= ${HEADER}`);
    this.reports = new Uint8Array(count);
    this.failureKind = new Uint8Array(count);
    this.ackPartition = new Int32Array(count).fill(-1);
    this.ackOffset = new BigInt64Array(count).fill(-1n);
  }

  /** The value of message `id`: magic, id, then filler bytes derived from the id. */
  valueFor(id: number): Buffer {
    const value = Buffer.allocUnsafe(this.valueSize);
    value.writeUInt32BE(MAGIC, 0);
    value.writeUInt32BE(id, 4);
    for (let i = HEADER; i < this.valueSize; i++) value[i] = (id + i) & 0xff;
    return value;
  }

  /** Subscribes to the producer's reports; call before the first produce(). */
  watch(producer: Producer): void {
    producer.deliveryReports$.subscribe((report) => this.record(report));
  }

  record(report: DeliveryReport): void {
    const value = report.message.value;
    if (value === null || value.length < HEADER || value.readUInt32BE(0) !== MAGIC) throw new Error('a report for a message this audit did not make');
    const id = value.readUInt32BE(4);
    if (this.reports[id] < 255) this.reports[id]++;
    if (this.reports[id] > 1) return;
    if (report.error) {
      this.failed++;
      if (!(report.error instanceof KafkaRxError)) this.untypedFailures++;
      this.failureKind[id] = report.error instanceof MaybeWrittenError ? 2 : 1;
      const name = report.error instanceof MaybeWrittenError ? `MaybeWrittenError(${report.error.cause.name})` : report.error.constructor.name;
      this.failuresByType[name] = (this.failuresByType[name] ?? 0) + 1;
    } else {
      this.acknowledged++;
      this.ackPartition[id] = report.message.partition;
      this.ackOffset[id] = report.message.offset;
    }
    while (this.waiters.length > 0 && this.waiters[0].at <= this.acknowledged) this.waiters.shift()!.resolve();
  }

  /** Resolves once at least n messages are acknowledged. */
  whenAcknowledged(n: number): Promise<void> {
    if (this.acknowledged >= n) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ at: n, resolve });
      this.waiters.sort((a, b) => a.at - b.at);
    });
  }

  /** The report side alone, without reading the topic. */
  tally(): Pick<AuditCounts, 'produced' | 'acknowledged' | 'failed' | 'unreported' | 'reportedTwice' | 'failuresByType' | 'untypedFailures'> {
    let unreported = 0;
    let reportedTwice = 0;
    for (let id = 0; id < this.produced; id++) {
      if (this.reports[id] === 0) unreported++;
      if (this.reports[id] > 1) reportedTwice++;
    }
    return { produced: this.produced, acknowledged: this.acknowledged, failed: this.failed, unreported, reportedTwice, failuresByType: { ...this.failuresByType }, untypedFailures: this.untypedFailures };
  }

  /** Reads the whole topic back with kcat and counts both sides. */
  /** `config`: kcat's librdkafka properties, to read back through a secured listener. */
  async verify(topic: string, bootstrap: string, timeoutMs = 120_000, config?: Record<string, string>): Promise<AuditCounts> {
    const records = await consumeAll(topic, { bootstrap, timeoutMs, headers: false, config });
    const copies = new Uint8Array(this.count);
    const placed = new Uint8Array(this.count);
    let foreign = 0;
    let orderViolations = 0;
    let lastPartition = -1;
    let lastId = -1;
    // consumeAll sorts by partition, then offset.
    for (const record of records) {
      const value = record.value;
      if (value === null || value.length < HEADER || value.readUInt32BE(0) !== MAGIC || value.readUInt32BE(4) >= this.produced) {
        foreign++;
        continue;
      }
      const id = value.readUInt32BE(4);
      if (copies[id] < 255) copies[id]++;
      if (record.partition !== lastPartition) {
        lastPartition = record.partition;
        lastId = -1;
      }
      if (id < lastId) orderViolations++;
      lastId = id;
      // Where the acknowledgement said: any copy of the message may be the acknowledged one (a
      // lost acknowledgement without idempotence writes it twice, the second copy acknowledged).
      // An acknowledged retry of a duplicate carries no offset (-1): only the partition is checked.
      const offset = this.ackOffset[id];
      if (this.ackPartition[id] === record.partition && (offset < 0n || offset === record.offset)) placed[id] = 1;
    }
    let unreported = 0;
    let reportedTwice = 0;
    let lost = 0;
    let duplicated = 0;
    let failedButWritten = 0;
    let notWrittenButFound = 0;
    let maybeWritten = 0;
    let placementMismatches = 0;
    for (let id = 0; id < this.produced; id++) {
      if (this.reports[id] === 0) unreported++;
      if (this.reports[id] > 1) reportedTwice++;
      if (copies[id] > 1) duplicated += copies[id] - 1;
      const acknowledged = this.ackPartition[id] >= 0;
      if (acknowledged && copies[id] === 0) lost++;
      if (acknowledged && copies[id] > 0 && placed[id] === 0) placementMismatches++;
      if (this.reports[id] > 0 && !acknowledged && copies[id] > 0) failedButWritten++;
      if (this.failureKind[id] === 1 && copies[id] > 0) notWrittenButFound++;
      if (this.failureKind[id] === 2) maybeWritten++;
    }
    return {
      produced: this.produced,
      acknowledged: this.acknowledged,
      failed: this.failed,
      unreported,
      reportedTwice,
      inTopic: records.length,
      lost,
      duplicated,
      failedButWritten,
      notWrittenButFound,
      maybeWritten,
      foreign,
      orderViolations,
      placementMismatches,
      failuresByType: { ...this.failuresByType },
      untypedFailures: this.untypedFailures,
    };
  }
}

/** One line of counts for the test output and the soak log. */
export function formatCounts(label: string, c: AuditCounts): string {
  const failures = Object.entries(c.failuresByType).map(([k, v]) => `${k}=${v}`).join(',') || 'none';
  return `[${label}] produced=${c.produced} acknowledged=${c.acknowledged} failed=${c.failed} lost=${c.lost} ` +
    `duplicated=${c.duplicated} unreported=${c.unreported} reportedTwice=${c.reportedTwice} inTopic=${c.inTopic} ` +
    `failedButWritten=${c.failedButWritten} notWrittenButFound=${c.notWrittenButFound} maybeWritten=${c.maybeWritten} foreign=${c.foreign} orderViolations=${c.orderViolations} ` +
    `placementMismatches=${c.placementMismatches} failures=${failures} untypedFailures=${c.untypedFailures}`;
}

/**
 * Produces `count` messages with ids 0..count-1 at about `ratePerSecond` (0: as fast as the
 * producer takes them), so faults injected meanwhile land in the middle of the run.
 */
/**
 * `hold`: record `beforeId` and the rest wait for `until` (a fault run holds its last records back
 * until its last fault has hit, so that the fault lands mid-run however slowly nodes restart).
 */
export async function producePaced(producer: Producer, audit: DeliveryAudit, count: number, ratePerSecond = 0, keyed = false, hold?: { beforeId: number; until: Promise<unknown> }): Promise<void> {
  let started = Date.now();
  const keys = keyed ? Array.from({ length: 1000 }, (_, k) => Buffer.from(`k${k}`)) : null;
  for (let id = 0; id < count; id++) {
    if (hold !== undefined && id === hold.beforeId) {
      await hold.until;
      // The pace resumes from here rather than catching up in one burst.
      started = Date.now() - (id / Math.max(ratePerSecond, 1)) * 1000;
    }
    await producer.produce(audit.valueFor(id), keys === null ? null : keys[id % 1000]);
    audit.produced++;
    if (ratePerSecond > 0 && id % 500 === 499) {
      const ahead = started + ((id + 1) / ratePerSecond) * 1000 - Date.now();
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
  }
}

/**
 * What every run under leader faults must show: each message reported exactly once, nothing
 * acknowledged missing from the topic, every offset where kcat found it, failures typed, and none
 * at all (each failover is far shorter than deliveryTimeoutMs); with idempotence also nothing
 * written twice and every partition in order.
 */
export function expectEveryMessageAccounted(c: AuditCounts, idempotent: boolean): void {
  expect(c.acknowledged + c.failed, 'every message reported').to.equal(c.produced);
  expect(c.unreported, 'unreported').to.equal(0);
  expect(c.reportedTwice, 'reported twice').to.equal(0);
  expect(c.lost, 'acknowledged but not in the topic').to.equal(0);
  expect(c.notWrittenButFound, 'reported not written, yet in the topic').to.equal(0);
  expect(c.placementMismatches, 'reported partition/offset vs kcat').to.equal(0);
  expect(c.untypedFailures, 'untyped failures').to.equal(0);
  expect(c.foreign).to.equal(0);
  expect(c.failuresByType, 'failures').to.deep.equal({});
  if (idempotent) {
    expect(c.duplicated, 'written twice').to.equal(0);
    expect(c.orderViolations, 'order within a partition').to.equal(0);
  }
}
