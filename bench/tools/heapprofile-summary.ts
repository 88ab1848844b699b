// Summarises a sampling heap profile (BENCH_HEAP_PROFILE): bytes allocated per function, so the
// per-message allocations of a pass can be named. Sampled, so the figures are estimates.
//   npx tsx bench/tools/heapprofile-summary.ts FILE.heapprofile RECORDS [top=25]
import { readFileSync } from 'node:fs';

interface HeapNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: HeapNode[] }

function main(): void {
  const [file, recordsArg, topArg] = process.argv.slice(2);
  if (!file || !recordsArg) throw new Error('usage: heapprofile-summary FILE.heapprofile RECORDS [top]');
  const records = Number(recordsArg);
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  const byFn = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode, stack: string[]) => {
    const { functionName, url } = n.callFrame;
    const short = url.replace(/^.*\/(lib|operators|bench|node_modules)\//, '$1/');
    const key = `${functionName || '(anonymous)'}  ${short}`;
    if (n.selfSize > 0) {
      byFn.set(key, (byFn.get(key) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c, [...stack, key]);
  };
  walk(head, []);
  console.log(`sampled allocations: ${(total / 2 ** 20).toFixed(1)} MiB, ${(total / records).toFixed(0)} bytes per record`);
  for (const [k, bytes] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 25))) {
    console.log(`  ${(bytes / records).toFixed(1).padStart(7)} B/record  ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
}

if (require.main === module) main();
