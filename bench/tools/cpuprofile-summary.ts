// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per area of the code
// (kafka-rx's modules, RxJS, Node internals, GC, idle), so bench/PROFILE.md can give figures.
//   [BY_SAMPLES=1] npx tsx bench/tools/cpuprofile-summary.ts FILE.cpuprofile [top=30]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export function area(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle (waiting for I/O)';
  if (name === '(program)') return 'V8/native (program)';
  if (url.includes('/lib/producer/')) return 'kafka-rx lib/producer';
  if (url.includes('/lib/records/')) return 'kafka-rx lib/records (encoding, CRC, codecs)';
  if (url.includes('/lib/protocol/')) return 'kafka-rx lib/protocol';
  if (url.includes('/lib/network/')) return 'kafka-rx lib/network';
  if (url.includes('/lib/cluster/')) return 'kafka-rx lib/cluster';
  if (url.includes('/lib/')) return 'kafka-rx lib (other)';
  if (url.includes('/node_modules/rxjs/')) return 'RxJS';
  if (url.includes('/bench/drivers/')) return 'bench harness (workload loop)';
  if (url.includes('/node_modules/tsx/') || url.includes('esbuild')) return 'tsx loader';
  if (url.startsWith('node:') || url === '') return 'Node internals / builtins (sockets, buffers, timers)';
  return 'other';
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpuprofile-summary FILE.cpuprofile [top]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // Sample 0's delta spans the profiler's own start-up (hundreds of ms charged to inspector `post`):
  // left out. BY_SAMPLES=1 counts every sample as the nominal interval instead of its time delta:
  // on a loaded machine a descheduled process makes single deltas tens of ms long, charged to
  // whatever frame happened to be on the stack, so sample counts give the steadier shares.
  const bySamples = process.env.BY_SAMPLES === '1';
  const interval = bySamples ? Math.max(1, Math.round((profile.endTime - profile.startTime) / Math.max(1, profile.samples.length))) : 0;
  profile.samples.forEach((id, i) => {
    if (i > 0) self.set(id, (self.get(id) ?? 0) + (bySamples ? interval : profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const short = url.replace(/^.*\/(lib|operators|bench|node_modules)\//, '$1/');
    const key = `${functionName || '(anonymous)'}  ${short}${url ? `:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = area(url, functionName);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms`;
  const busy = total - (areas.get('idle (waiting for I/O)') ?? 0);
  console.log(`profile: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy`);
  console.log('\nby area (self time):');
  for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`  ${pct(us)}  ${a}`);
  console.log(`\ntop ${topArg ?? 30} functions (self time):`);
  for (const [k, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, Number(topArg ?? 30))) console.log(`  ${pct(us)}  ${k}`);

  // Inclusive time of named functions (a frame counted once even when it recurses), and the
  // callers of the heaviest native frames, to say what the self times above belong to.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    let first = true;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName || '(anonymous)';
      if (!first && !seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      if (first) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      seen.add(name);
      first = false;
    }
    const own = byId.get(id)!;
    if (own.callFrame.url === '' && own.callFrame.functionName) {
      const p = parent.get(id);
      const caller = p === undefined ? '(root)' : byId.get(p)!.callFrame.functionName || '(anonymous)';
      const m = callers.get(own.callFrame.functionName) ?? new Map<string, number>();
      m.set(caller, (m.get(caller) ?? 0) + us);
      callers.set(own.callFrame.functionName, m);
    }
  }
  const wanted = (process.env.INCLUSIVE ?? '').split(',').filter(Boolean);
  if (wanted.length) {
    console.log('\ninclusive time:');
    for (const name of wanted) console.log(`  ${pct(inclusive.get(name) ?? 0)}  ${name}`);
  }
  console.log('\ncallers of native frames:');
  for (const [name, m] of [...callers].sort((a, b) => [...b[1].values()].reduce((x, y) => x + y) - [...a[1].values()].reduce((x, y) => x + y)).slice(0, 6)) {
    console.log(`  ${name}: ${[...m].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([c, us]) => `${c} ${(us / 1000).toFixed(0)} ms`).join(', ')}`);
  }
}

if (require.main === module) main();
