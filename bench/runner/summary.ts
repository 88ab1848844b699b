// From the passes of all rounds to one row per workload and client: medians, and each client's
// ratio to kafka-rx taken within a round (both ran minutes apart on the same broker) then medianed.
import type { DriverResult } from '../drivers/harness.js';
import type { Workload } from './workloads.js';

export interface Pass {
  round: number;
  workload: string;
  client: string;
  /** Order of the client within its round and workload (clients alternate). */
  slot: number;
  result?: DriverResult;
  error?: string;
}

export interface SummaryRow {
  workload: string;
  mode: Workload['mode'];
  client: string;
  version: string;
  passes: number;
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  achievedRate: number | null;
  peakRssMB: number;
  /**
   * Median over rounds of (this client / kafka-rx): records/s for pipelined and await-each, p99
   * latency for the paced latency workload. null for kafka-rx itself or without a kafka-rx pass.
   */
  ratioToKafkaRx: number | null;
  errors: string[];
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function headline(workload: Workload, r: DriverResult): number {
  return workload.mode === 'rate' ? (r.latencyMs?.p99 ?? NaN) : r.recordsPerSec;
}

export function summarise(workloads: Workload[], clients: string[], passes: Pass[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const workload of workloads) {
    for (const client of clients) {
      const mine = passes.filter((p) => p.workload === workload.id && p.client === client);
      if (mine.length === 0) continue;
      const good = mine.filter((p) => p.result !== undefined).map((p) => ({ round: p.round, r: p.result! }));
      const ratios: number[] = [];
      if (client !== 'kafka-rx') {
        for (const { round, r } of good) {
          const base = passes.find((p) => p.workload === workload.id && p.client === 'kafka-rx' && p.round === round)?.result;
          if (base) ratios.push(headline(workload, r) / headline(workload, base));
        }
      }
      const lat = good.filter((g) => g.r.latencyMs !== null);
      rows.push({
        workload: workload.id,
        mode: workload.mode,
        client,
        version: good[0]?.r.version ?? '',
        passes: good.length,
        recordsPerSec: median(good.map((g) => g.r.recordsPerSec)),
        mbPerSec: median(good.map((g) => g.r.mbPerSec)),
        p50Ms: lat.length ? median(lat.map((g) => g.r.latencyMs!.p50)) : null,
        p99Ms: lat.length ? median(lat.map((g) => g.r.latencyMs!.p99)) : null,
        achievedRate: workload.mode === 'rate' && good.length ? median(good.map((g) => g.r.achievedRate ?? NaN)) : null,
        peakRssMB: median(good.map((g) => g.r.peakRssMB)),
        ratioToKafkaRx: ratios.length ? median(ratios) : null,
        errors: mine.filter((p) => p.error !== undefined).map((p) => `round ${p.round}: ${p.error}`),
      });
    }
  }
  return rows;
}

function fmt(n: number | null, digits = 0): string {
  if (n === null || !Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratioText(row: SummaryRow): string {
  if (row.client === 'kafka-rx') return '1.00';
  return row.ratioToKafkaRx === null ? '-' : row.ratioToKafkaRx.toFixed(2);
}

const HEADER = ['workload', 'client', 'records/s', 'MB/s', 'vs kafka-rx', 'p50 ms', 'p99 ms', 'peak RSS MB', 'passes'];

/** A paced pass whose client offered under 95% of the rate: its latencies are not at that rate. */
function fellBehind(row: SummaryRow): boolean {
  const rate = Number(/^latency@(\d+)\/s/.exec(row.workload)?.[1] ?? NaN);
  return row.achievedRate !== null && row.achievedRate < 0.95 * rate;
}

export const TABLE_NOTES = [
  'records/s and MB/s (MiB of values per second): first send to last acknowledgement, median of the rounds.',
  'vs kafka-rx: the client\'s records/s divided by kafka-rx\'s in the same round, median over rounds (> 1: faster than kafka-rx); on latency@ rows, p99 latency divided by kafka-rx\'s (< 1: lower latency than kafka-rx).',
  'p50/p99: produce-to-acknowledgement latency; latency@R/s rows offer R records/s, await-each rows send one record at a time.',
  '*: the client could not offer the rate (its sends fell behind), so its latencies are not at that rate.',
];

function cells(row: SummaryRow): string[] {
  const failed = row.passes === 0;
  return [
    row.workload,
    row.client,
    failed ? 'failed' : `${fmt(row.recordsPerSec)}${fellBehind(row) ? '*' : ''}`,
    failed ? '-' : fmt(row.mbPerSec, 2),
    failed ? '-' : ratioText(row),
    fmt(row.p50Ms, 2),
    fmt(row.p99Ms, 2),
    failed ? '-' : fmt(row.peakRssMB),
    String(row.passes),
  ];
}

/** A plain-text table for the terminal. */
export function textTable(rows: SummaryRow[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const right = new Set([2, 3, 4, 5, 6, 7, 8]);
  const line = (r: string[]) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  const out: string[] = [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  ')];
  let last = '';
  for (const r of table.slice(1)) {
    if (last !== '' && r[0] !== last) out.push('');
    last = r[0];
    out.push(line(r));
  }
  return [...out, '', ...TABLE_NOTES].join('\n');
}

/** The same table in Markdown, for the README. */
export function markdownTable(rows: SummaryRow[]): string {
  const out = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) out.push(`| ${cells(row).join(' | ')} |`);
  return [...out, '', ...TABLE_NOTES.map((n) => `- ${n}`)].join('\n');
}

/**
 * Each client's SASL_SSL/SCRAM throughput over its plaintext throughput on the same workload
 * otherwise (100 B keyless acks=1), from the medians: what TLS and SASL cost that client.
 */
export function tlsRatios(rows: SummaryRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tls of rows.filter((r) => r.workload.endsWith(' SASL_SSL/SCRAM'))) {
    const plain = rows.find((r) => r.client === tls.client && r.workload === tls.workload.replace(' SASL_SSL/SCRAM', ''));
    if (plain && plain.recordsPerSec > 0 && tls.recordsPerSec > 0) out[tls.client] = Math.round((tls.recordsPerSec / plain.recordsPerSec) * 1000) / 1000;
  }
  return out;
}
