import { createHash } from 'node:crypto';
import { ConfigError, InvalidPartitionError, PartitionerError } from '../errors/index.js';

/**
 * Picks a partition id from the topic's partition ids (sorted ascending) for a message's key. A
 * producer for several topics passes the record's topic too, and the partitions of that topic.
 */
export type PartitionFunction = (key: Buffer | null, partitions: readonly number[], topic: string) => number;

/** A function, or an object with a `partition` method (the classes below). */
export type Partitioner = PartitionFunction | { partition: PartitionFunction };

/**
 * Most topics a partitioner keeps its per-topic state for (a round-robin cycle, a sticky choice).
 * A producer writing to ever new topics would otherwise keep the state of every topic it ever
 * wrote to; past this many, the quarter written to least recently lose their state, and start
 * afresh if they come back (a new cycle, a new sticky partition: the spread is no worse for it).
 */
export const MAX_PARTITIONER_TOPICS = 1024;

interface TopicState<State> {
  readonly state: State;
  /** When the topic was last taken up after another topic's: the order of forgetting. */
  lastUsed: number;
}

/** A partitioner's state per topic, for the topics used most recently (at most MAX_PARTITIONER_TOPICS). */
class RecentTopics<State> {
  // Recency is a stamp, not a place in the Map: moving the entry to the Map's end at each use
  // (delete, then set) cost a Map write per record whenever records alternate between topics.
  private readonly byTopic = new Map<string | undefined, TopicState<State>>();
  // Records of one topic often come in runs: the last topic's state is kept at hand.
  private lastTopic: string | undefined;
  private last: TopicState<State> | undefined;
  private uses = 0;

  constructor(private readonly fresh: () => State) {}

  of(topic: string | undefined): State {
    if (topic === this.lastTopic && this.last !== undefined) return this.last.state;
    let entry = this.byTopic.get(topic);
    if (entry === undefined) {
      if (this.byTopic.size >= MAX_PARTITIONER_TOPICS) this.forgetLeastRecent(MAX_PARTITIONER_TOPICS / 4);
      this.byTopic.set(topic, (entry = { state: this.fresh(), lastUsed: 0 }));
    }
    entry.lastUsed = ++this.uses;
    this.lastTopic = topic;
    this.last = entry;
    return entry.state;
  }

  /** A quarter at a time, so a producer cycling through more topics than the bound sorts once per quarter, not per record. */
  private forgetLeastRecent(count: number): void {
    const byAge = [...this.byTopic].sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (let i = 0; i < count; i++) this.byTopic.delete(byAge[i][0]);
  }
}

/**
 * pykafka's RandomPartitioner, which is really round-robin: each producer cycles through the
 * partitions, starting at the second (index 1), ignoring the key.
 */
export class RandomPartitioner {
  /**
   * One cycle per topic: one cycle shared by records that alternate between topics would give
   * each topic only some of its partitions (20 topics of 6 partitions in turn: each topic only the
   * even or only the odd ones).
   */
  private readonly cycles = new RecentTopics(() => ({ index: 0 }));

  partition(_key: Buffer | null, partitions: readonly number[], topic?: string): number {
    const cycle = this.cycles.of(topic);
    cycle.index = (cycle.index + 1) % partitions.length;
    return partitions[cycle.index];
  }
}

/** SHA-1 of the key as a big-endian integer: pykafka's default hash for HashingPartitioner. */
export function sha1Hash(key: Buffer): bigint {
  return BigInt('0x' + createHash('sha1').update(key).digest('hex'));
}

export type HashFunction = (key: Buffer) => bigint | number;

/** Refused at construction: a hash that is not a function would fail every partition() call. */
function checkHash(hash: unknown): void {
  if (typeof hash !== 'function') throw new ConfigError('hash', 'a function (key: Buffer) => bigint | number (or leave it out for SHA-1)', hash);
}

/** pykafka's `abs(hash) % count`: a negative hash maps as its absolute value, not by floored modulo. */
function indexOf(hash: bigint | number, count: number): number {
  if (typeof hash === 'number') return Math.abs(hash) % count;
  return Number((hash < 0n ? -hash : hash) % BigInt(count));
}

/**
 * pykafka's HashingPartitioner: hash(key) modulo the partition count, indexing the partitions
 * sorted by id, so a team moving from pykafka keeps its key-to-partition mapping.
 */
export class HashingPartitioner {
  constructor(private readonly hash: HashFunction = sha1Hash) {
    checkHash(hash);
  }

  partition(key: Buffer | null, partitions: readonly number[]): number {
    if (key === null) throw new PartitionerError('HashingPartitioner needs a key: produce(value, key)');
    return partitions[indexOf(this.hash(key), partitions.length)];
  }
}

/**
 * pykafka's GroupHashingPartitioner: the hash picks a group of groupSize consecutive partitions
 * and a random offset below groupSize picks one inside it, spreading one hot key over a group.
 */
export class GroupHashingPartitioner {
  constructor(
    private readonly groupSize: number,
    private readonly hash: HashFunction = sha1Hash,
    private readonly random: () => number = Math.random,
  ) {
    if (!Number.isInteger(groupSize) || groupSize < 1) throw new PartitionerError(`groupSize must be a positive integer, got ${groupSize}`);
    checkHash(hash);
    if (typeof random !== 'function') throw new ConfigError('random', 'a function () => number in [0, 1)', random);
  }

  partition(key: Buffer | null, partitions: readonly number[]): number {
    if (key === null) throw new PartitionerError('GroupHashingPartitioner needs a key: produce(value, key)');
    if (this.groupSize > partitions.length) {
      throw new PartitionerError(`groupSize ${this.groupSize} is larger than the topic's ${partitions.length} partitions`);
    }
    const offset = Math.floor(this.random() * this.groupSize);
    // pykafka adds the offset before taking the absolute value: abs(hash + offset) % count.
    return partitions[indexOf(BigInt(this.hash(key)) + BigInt(offset), partitions.length)];
  }
}

/** Kafka's murmur2 (the Java client's, seed 0x9747b28c), over the key bytes. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2] << 16;
  if (tail >= 2) h ^= data[whole + 1] << 8;
  if (tail >= 1) {
    h ^= data[whole];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The Java client's keyed placement (`toPositive(murmur2(key)) % numPartitions`), shared by
 * librdkafka's murmur2 partitioner and kafkajs's default. Keyless messages go round-robin.
 */
export class Murmur2Partitioner {
  private readonly keyless = new RandomPartitioner();

  partition(key: Buffer | null, partitions: readonly number[], topic?: string): number {
    if (key === null) return this.keyless.partition(null, partitions, topic);
    return partitions[(murmur2(key) & 0x7fffffff) % partitions.length];
  }
}

/**
 * Sticky partitioning for keyless messages (KIP-480): stay on one partition for `batchSize`
 * messages, so they fill one batch instead of many small ones, then move on. Keyed messages go
 * where murmur2 puts them, as in the Java client.
 */
export class StickyPartitioner {
  private readonly keyed = new Murmur2Partitioner();
  /** Per topic (as in the Java client): the partition stuck to, and messages left before moving on. */
  private readonly sticks = new RecentTopics(() => ({ current: -1, left: 0 }));

  constructor(private readonly batchSize = 1000) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new PartitionerError(`batchSize must be a positive integer, got ${batchSize}`);
  }

  partition(key: Buffer | null, partitions: readonly number[], topic?: string): number {
    if (key !== null) return this.keyed.partition(key, partitions);
    const stick = this.sticks.of(topic);
    if (stick.left <= 0 || !partitions.includes(stick.current)) {
      const current = stick.current;
      const choices = partitions.length > 1 ? partitions.filter((p) => p !== current) : partitions;
      stick.current = choices[Math.floor(Math.random() * choices.length)];
      stick.left = this.batchSize;
    }
    stick.left--;
    return stick.current;
  }
}

/** The partition itself when it is one of the topic's, else a typed error. */
export function checkedPartition(partition: unknown, partitions: readonly number[]): number {
  if (typeof partition === 'number' && Number.isInteger(partition)) {
    // Partition ids are usually 0..n-1: check the direct slot before searching.
    if (partitions[partition] === partition || partitions.includes(partition)) return partition;
  }
  throw new InvalidPartitionError(`partition ${String(partition)} is not one of the topic's partitions (${partitions.length}: ${partitions[0]}..${partitions[partitions.length - 1]})`);
}
