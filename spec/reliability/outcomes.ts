// Bookkeeping for the reliability specs: what was produced, what each message's reports said, and
// what kcat read back, counted the same way in every scenario (produced / acked / failed /
// reported twice / missing / duplicated in the topic) and printed, so the numbers can be quoted.
import { expect } from 'chai';
import { MaybeWrittenError, type DeliveryReport, type Producer, type ProducerOptions } from '../../lib/index.js';
import type { KcatRecord } from '../support/kcat.js';

/** Values start with their index (7 digits) then the scenario label, so a read-back maps to its message. */
export function valueOf(label: string, index: number): Buffer {
  return Buffer.from(`${String(index).padStart(7, '0')}:${label}`);
}

export function indexOf(value: Buffer | null): number {
  if (value === null || value.length < 7) return -1;
  return Number(value.subarray(0, 7).toString('latin1'));
}

export interface Tally {
  label: string;
  produced: number;
  acked: number;
  failed: number;
  /** Messages with more than one report (must be 0). */
  reportedTwice: number;
  /** Messages accepted by produce() without a report (must be 0). */
  unreported: number;
  /** Acknowledged messages kcat did not find (must be 0). */
  lost: number;
  /** Extra copies kcat found beyond one per message. */
  duplicated: number;
  /** Failed messages kcat found anyway (a failure that was in fact written). */
  failedButWritten: number;
  /** Reported failed as not written (any error but MaybeWrittenError), yet found by kcat (must be 0). */
  notWrittenButFound: number;
  retries: number;
  errorsByName: Record<string, number>;
}

/** Collects the reports of one producer by message index. */
export class Outcomes {
  readonly reports = new Map<number, DeliveryReport[]>();
  produced = 0;

  constructor(
    readonly label: string,
    producer: Producer,
  ) {
    producer.deliveryReports$.subscribe((report) => {
      const index = indexOf(report.message.value);
      const list = this.reports.get(index);
      if (list === undefined) this.reports.set(index, [report]);
      else list.push(report);
    });
  }

  failedIndices(): number[] {
    return [...this.reports].filter(([, list]) => list[0].error !== undefined).map(([index]) => index).sort((a, b) => a - b);
  }

  errors(): DeliveryReport[] {
    return [...this.reports.values()].map((list) => list[0]).filter((r) => r.error !== undefined);
  }

  /** Counts everything against kcat's read-back of the topic (all of it belongs to this label). */
  tally(read: readonly KcatRecord[], retries: number): Tally {
    const copies = new Map<number, number>();
    for (const record of read) {
      const index = indexOf(record.value);
      copies.set(index, (copies.get(index) ?? 0) + 1);
    }
    const t: Tally = {
      label: this.label, produced: this.produced, acked: 0, failed: 0, reportedTwice: 0, unreported: 0,
      lost: 0, duplicated: 0, failedButWritten: 0, notWrittenButFound: 0, retries, errorsByName: {},
    };
    for (let index = 0; index < this.produced; index++) {
      const list = this.reports.get(index);
      const found = copies.get(index) ?? 0;
      if (found > 1) t.duplicated += found - 1;
      if (list === undefined) {
        t.unreported++;
        continue;
      }
      if (list.length > 1) t.reportedTwice++;
      const error = list[0].error;
      if (error === undefined) {
        t.acked++;
        if (found === 0) t.lost++;
      } else {
        t.failed++;
        const name = errorName(error);
        t.errorsByName[name] = (t.errorsByName[name] ?? 0) + 1;
        if (found > 0) t.failedButWritten++;
        if (found > 0 && !(error instanceof MaybeWrittenError)) t.notWrittenButFound++;
      }
    }
    // eslint-disable-next-line no-console
    console.log(`      [${t.label}] produced ${t.produced} acked ${t.acked} failed ${t.failed} lost ${t.lost} duplicated ${t.duplicated} retries ${t.retries}` +
      (t.failed > 0 ? ` errors ${JSON.stringify(t.errorsByName)}` : '') + (t.failedButWritten > 0 ? ` failed-but-written ${t.failedButWritten}` : '') + ` not-written-but-found ${t.notWrittenButFound}`);
    return t;
  }
}

/** The invariants of every scenario: one report per message, nothing acknowledged is missing. */
export function expectEveryMessageReportedOnce(t: Tally): void {
  expect(t.unreported, `${t.label}: messages without a report`).to.equal(0);
  expect(t.reportedTwice, `${t.label}: messages reported twice`).to.equal(0);
  expect(t.acked + t.failed, `${t.label}: reports`).to.equal(t.produced);
  expect(t.lost, `${t.label}: acknowledged messages missing from the topic`).to.equal(0);
  expect(t.notWrittenButFound, `${t.label}: reported not written (${JSON.stringify(t.errorsByName)}), yet in the topic`).to.equal(0);
}

/** An error's class name; a MaybeWrittenError also names its cause: MaybeWrittenError(RequestTimeoutError). */
export function errorName(error: Error): string {
  return error instanceof MaybeWrittenError ? `MaybeWrittenError(${error.cause.name})` : error.name;
}

/** Per partition, message indices in offset order never go backwards (produce() order kept). */
export function expectPartitionOrder(read: readonly KcatRecord[]): void {
  const last = new Map<number, number>();
  for (const record of read) {
    const index = indexOf(record.value);
    const before = last.get(record.partition) ?? -1;
    expect(index, `partition ${record.partition} at offset ${record.offset}: index ${index} after ${before}`).to.be.greaterThan(before);
    last.set(record.partition, index);
  }
}

/** Produces `count` messages labelled `label` (awaiting each produce() so queue bounds hold). */
export async function produceLabelled(producer: Producer, outcomes: Outcomes, count: number, extra: (index: number) => { partition?: number } = () => ({})): Promise<void> {
  for (let i = 0; i < count; i++) {
    const index = outcomes.produced;
    await producer.produce(valueOf(outcomes.label, index), { key: Buffer.from(`k${index % 31}`), ...extra(index) });
    outcomes.produced++;
  }
}

export type { ProducerOptions };
