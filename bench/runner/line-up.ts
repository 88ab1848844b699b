// The order in which the clients run one workload in one round.
//
// A pass leaves work on the broker (log segments to flush, compaction of its request path, page
// cache), and that work falls on whichever pass comes next. With a plain rotation each client
// followed the same client in every round (kafka-rx always followed java-perf), so whatever
// that client left behind was charged to the same successor every time. The first slot still
// rotates, so no client goes first twice before every client has gone first once; the rest of
// the line-up is a seeded shuffle, so the predecessors vary and a run can be replayed.

/** A small, fast PRNG (mulberry32): a seed gives the same line-ups on any machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The line-up of `clients` for round `round` (1-based) of the workload at `workloadIndex`:
 * the round's rotating first client, then the others in an order drawn from `seed`.
 */
export function lineUp<T>(clients: readonly T[], round: number, workloadIndex: number, seed: number): T[] {
  if (clients.length === 0) return [];
  const firstIndex = (round - 1) % clients.length;
  const rest = clients.filter((_, i) => i !== firstIndex);
  // One stream per (seed, round, workload), so adding a workload does not reshuffle the others.
  const random = mulberry32(seed ^ Math.imul(round, 0x9e3779b1) ^ Math.imul(workloadIndex + 1, 0x85ebca77));
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return [clients[firstIndex], ...rest];
}
