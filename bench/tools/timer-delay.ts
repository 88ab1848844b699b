// What a "0 ms" wait costs on this Node.js: RxJS's asyncScheduler.schedule(fn, 0) (what the linger
// buffer arms with lingerMs 0) against setTimeout(0), setImmediate and queueMicrotask, each measured
// from the call to the callback, one at a time (as a lone record at a steady rate sees it).
//   npx tsx bench/tools/timer-delay.ts [rounds=2000]
import { asyncScheduler } from 'rxjs';

type Arm = (done: () => void) => void;

const ways: Array<[string, Arm]> = [
  ['asyncScheduler.schedule(fn, 0)', (done) => void asyncScheduler.schedule(done, 0)],
  ['setTimeout(fn, 0)', (done) => void setTimeout(done, 0)],
  ['setImmediate(fn)', (done) => void setImmediate(done)],
  ['queueMicrotask(fn)', (done) => queueMicrotask(done)],
];

function once(arm: Arm): Promise<number> {
  return new Promise((resolve) => {
    const start = performance.now();
    arm(() => resolve((performance.now() - start) * 1000));
  });
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 2000);
  const samples = new Map<string, number[]>(ways.map(([name]) => [name, []]));
  // Interleaved, so machine load falls on every way alike.
  for (let r = 0; r < rounds; r++) for (const [name, arm] of ways) samples.get(name)!.push(await once(arm));
  console.log(`Node.js ${process.version}, ${rounds} waits each, interleaved; microseconds from the call to the callback`);
  for (const [name, values] of samples) {
    const sorted = values.sort((a, b) => a - b);
    console.log(`  ${name.padEnd(32)} p50 ${quantile(sorted, 0.5).toFixed(1).padStart(7)}  p99 ${quantile(sorted, 0.99).toFixed(1).padStart(7)}`);
  }
}

void main();
