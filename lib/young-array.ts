/**
 * Arrays that V8 always allocates in the young generation.
 *
 * An array literal (`[]`) carries an allocation site, and V8 pretenures a site (allocates its
 * arrays straight in old space) when nearly all of the arrays it made outlived a scavenge. An array
 * that is filled after it is made, lives for a request and is then dropped is exactly what gets
 * pretenured by the timing of one early scavenge. Dropped in old space, it still counts as a root
 * for every scavenge until the next full collection, so everything it held (messages, their keys
 * and values) is copied and then promoted: on a 20-topic pass, ~12 MB per scavenge and 80-100 MB
 * more old space, in 4 passes of 5 (bench/PROFILE.md).
 *
 * A copy made by `Array.prototype.slice` has no allocation site, so it is never pretenured. It is
 * also fast: `Array.of()`, used before for the same reason, is a generic builtin call (~190 ns
 * empty, ~450 ns with an element, against ~20-40 ns for these; bench/PROFILE.md).
 */
// Never handed out, never written: only copied.
const EMPTY: unknown[] = [];
const ONE: unknown[] = [null];

/** An empty array that is never pretenured. */
export function youngArray<T>(): T[] {
  return EMPTY.slice() as T[];
}

/**
 * youngArray() holding one first element, with room for it alone. An empty array's first push
 * makes room for 17 elements (~150 bytes): one record at a time fills about ten such lists per
 * request with a single entry each (bench/PROFILE.md). A later push grows it as usual.
 */
export function youngArrayOf<T>(first: T): T[] {
  const list = ONE.slice() as T[];
  list[0] = first;
  return list;
}
