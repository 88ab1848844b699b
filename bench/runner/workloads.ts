// The workloads: what is sent (size, keys), how it must be stored (acks, compression) and how it is
// offered (pipelined, paced at a fixed rate for latency, or one at a time).
import type { DriverConfig } from '../drivers/harness.js';
import { BenchUsageError } from './usage-error.js';

export interface Workload {
  /** e.g. `100B keyless acks=1 none`, `latency@50000/s 100B keyless acks=1 none`. */
  id: string;
  mode: DriverConfig['mode'];
  size: number;
  keyed: boolean;
  acks: 1 | -1;
  compression: 'none' | 'lz4';
  rate?: number;
  /** sasl_ssl: through the run's secured broker's SASL_SSL listener with SCRAM-SHA-256. */
  security?: 'sasl_ssl';
  /** Topics the records are spread over, round-robin, by one producer per client (default 1). */
  topics?: number;
}

export function workloadId(w: Omit<Workload, 'id'>): string {
  const base = `${w.size === 1024 ? '1KiB' : `${w.size}B`} ${w.keyed ? 'keyed' : 'keyless'} acks=${w.acks === -1 ? 'all' : '1'} ${w.compression}${w.security === 'sasl_ssl' ? ' SASL_SSL/SCRAM' : ''}${(w.topics ?? 1) > 1 ? ` ${w.topics} topics` : ''}`;
  if (w.mode === 'rate') return `latency@${w.rate}/s ${base}`;
  if (w.mode === 'await-each') return `await-each ${base}`;
  return base;
}

function make(w: Omit<Workload, 'id'>): Workload {
  return { id: workloadId(w), ...w };
}

/** Every pipelined combination the issue names: 2 sizes x keys x 2 acks x 2 codecs. */
export function fullMatrix(): Workload[] {
  const out: Workload[] = [];
  for (const size of [100, 1024]) {
    for (const keyed of [false, true]) {
      for (const acks of [1, -1] as const) {
        for (const compression of ['none', 'lz4'] as const) out.push(make({ mode: 'pipelined', size, keyed, acks, compression }));
      }
    }
  }
  return out;
}

/** The default set: each dimension varied once from the 100-byte acks=1 baseline, plus latency. */
export function defaultWorkloads(rate: number): Workload[] {
  return [
    make({ mode: 'pipelined', size: 100, keyed: false, acks: 1, compression: 'none' }),
    make({ mode: 'pipelined', size: 100, keyed: true, acks: 1, compression: 'none' }),
    make({ mode: 'pipelined', size: 100, keyed: false, acks: -1, compression: 'none' }),
    make({ mode: 'pipelined', size: 100, keyed: false, acks: 1, compression: 'lz4' }),
    make({ mode: 'pipelined', size: 1024, keyed: false, acks: 1, compression: 'none' }),
    make({ mode: 'pipelined', size: 1024, keyed: true, acks: -1, compression: 'lz4' }),
    tlsWorkload(),
    multiTopicWorkload(),
    ...latencyWorkloads(rate),
  ];
}

/** Topics of the multi-topic workload, each with 6 partitions like every bench topic. */
export const MULTI_TOPIC_COUNT = 20;

/**
 * 100 B keyless acks=1 records spread round-robin over 20 topics, by one producer per client: what
 * a dataflow routing by content does. Compare with `100` (the same records to one topic).
 */
export function multiTopicWorkload(): Workload {
  return make({ mode: 'pipelined', size: 100, keyed: false, acks: 1, compression: 'none', topics: MULTI_TOPIC_COUNT });
}

/** The TLS workload: 100 B keyless acks=1 over SASL_SSL with SCRAM-SHA-256 (compare with `100`). */
export function tlsWorkload(): Workload {
  return make({ mode: 'pipelined', size: 100, keyed: false, acks: 1, compression: 'none', security: 'sasl_ssl' });
}

export function latencyWorkloads(rate: number): Workload[] {
  return [
    make({ mode: 'rate', rate, size: 100, keyed: false, acks: 1, compression: 'none' }),
    make({ mode: 'await-each', size: 100, keyed: false, acks: 1, compression: 'none' }),
  ];
}

export function quickWorkloads(rate: number): Workload[] {
  return [
    make({ mode: 'pipelined', size: 100, keyed: false, acks: 1, compression: 'none' }),
    make({ mode: 'pipelined', size: 1024, keyed: true, acks: -1, compression: 'lz4' }),
    ...latencyWorkloads(rate),
  ];
}

/**
 * `--workloads` values: `default`, `quick`, `all` (full matrix plus latency), or a comma list of
 * short names: `100`, `100-keyed`, `100-all`, `100-lz4`, `1k`, `1k-keyed-all-lz4` (any of
 * size 100|1k, then optional keyed, all, lz4 in that order), `100-topics` (20 topics), `latency`,
 * `await-each`.
 */
export function parseWorkloads(spec: string, rate: number): Workload[] {
  if (spec === 'default') return defaultWorkloads(rate);
  if (spec === 'quick') return quickWorkloads(rate);
  if (spec === 'all') return [...fullMatrix(), multiTopicWorkload(), ...latencyWorkloads(rate)];
  return spec.split(',').map((raw) => {
    const name = raw.trim();
    if (name === 'latency') return latencyWorkloads(rate)[0];
    if (name === 'await-each') return latencyWorkloads(rate)[1];
    if (name === '100-tls') return tlsWorkload();
    if (name === '100-topics') return multiTopicWorkload();
    const m = /^(100|1k)(-keyed)?(-all)?(-lz4)?$/.exec(name);
    if (!m) throw new BenchUsageError(`unknown workload "${name}" (try 100, 100-keyed, 100-all, 100-lz4, 1k, 1k-keyed-all-lz4, 100-tls, 100-topics, latency, await-each, default, quick, all)`);
    return make({ mode: 'pipelined', size: m[1] === '1k' ? 1024 : 100, keyed: Boolean(m[2]), acks: m[3] ? -1 : 1, compression: m[4] ? 'lz4' : 'none' });
  });
}
