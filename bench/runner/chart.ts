// A grouped horizontal bar chart as plain SVG: one group per throughput workload, one bar per
// client (records/s, median of the rounds), so a person can see the standings at a glance.
import type { SummaryRow } from './summary.js';

const COLORS: Record<string, string> = {
  'kafka-rx': '#d6336c',
  kafkajs: '#4263eb',
  '@platformatic/kafka': '#2f9e44',
  '@confluentinc/kafka-javascript': '#f08c00',
  pykafka: '#7048e8',
  java: '#495057',
  'java-perf': '#adb5bd',
};

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return n.toFixed(0);
}

export function throughputSvg(rows: SummaryRow[], caption: string): string {
  const data = rows.filter((r) => r.mode !== 'rate' && r.passes > 0 && Number.isFinite(r.recordsPerSec));
  const workloads = [...new Set(data.map((r) => r.workload))];
  const clients = [...new Set(data.map((r) => r.client))];
  const bar = 16;
  const gap = 4;
  const groupGap = 18;
  const left = 320;
  const plotWidth = 560;
  const top = 56;
  const legendHeight = 26 * Math.ceil(clients.length / 3);
  const groupHeights = workloads.map((w) => data.filter((r) => r.workload === w).length * (bar + gap));
  const height = top + groupHeights.reduce((a, b) => a + b + groupGap, 0) + legendHeight + 30;
  const width = Math.max(left + plotWidth + 110, 20 + 3 * 280);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">Producer throughput, records/s (median of rounds; each group its own scale)</text>`);
  parts.push(`<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${escape(caption)}</text>`);
  let y = top;
  workloads.forEach((workload, gi) => {
    const group = data.filter((r) => r.workload === workload);
    // Each group is scaled to its own best client: 1 KiB and await-each figures are far smaller.
    const max = Math.max(...group.map((r) => r.recordsPerSec));
    const h = groupHeights[gi];
    parts.push(`<text x="${left - 10}" y="${y + h / 2 + 4}" text-anchor="end" font-weight="bold">${escape(workload)}</text>`);
    group.forEach((row, i) => {
      const w = Math.max(1, (row.recordsPerSec / max) * plotWidth);
      const by = y + i * (bar + gap);
      const ratio = row.client === 'kafka-rx' || row.ratioToKafkaRx === null ? '' : ` (${row.ratioToKafkaRx.toFixed(2)}x)`;
      parts.push(`<rect x="${left}" y="${by}" width="${w.toFixed(1)}" height="${bar}" fill="${COLORS[row.client] ?? '#868e96'}"><title>${escape(`${row.client}: ${Math.round(row.recordsPerSec)} records/s`)}</title></rect>`);
      parts.push(`<text x="${left + w + 4}" y="${by + bar - 4}" fill="#222">${compact(row.recordsPerSec)}${ratio}</text>`);
    });
    y += h + groupGap;
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${y - groupGap / 2}" y2="${y - groupGap / 2}" stroke="#e9ecef"/>`);
  });
  clients.forEach((client, i) => {
    const lx = 20 + (i % 3) * 280;
    const ly = y + 8 + Math.floor(i / 3) * 26;
    parts.push(`<rect x="${lx}" y="${ly}" width="14" height="14" fill="${COLORS[client] ?? '#868e96'}"/>`);
    parts.push(`<text x="${lx + 20}" y="${ly + 12}">${escape(client)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
