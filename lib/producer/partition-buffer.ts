import type { PendingMessage } from './message.js';

/** Kafka sequence numbers are int32 and wrap to 0 after the largest. */
const SEQUENCE_WRAP = 2 ** 31;

/** Accepted messages kept before the passed ones are compacted away. */
const COMPACT_AFTER = 4096;

/**
 * A record batch whose sequence numbers are fixed. With idempotence a batch must be resent exactly
 * as first sent (same records, same producer id, epoch and base sequence): that is how the broker
 * recognises a retry of something it already wrote and answers DUPLICATE_SEQUENCE_NUMBER instead
 * of writing it twice.
 */
export interface SealedBatch {
  readonly partition: number;
  readonly messages: PendingMessage[];
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  /** The encoded batch; null after renumbering, until re-encoded. */
  records: Buffer | null;
  /** Acknowledged or failed for good. */
  done: boolean;
  /** Known written (a later batch was acknowledged) though its own answer never came: deliver it as is. */
  provenWritten?: boolean;
}

/**
 * A SealedBatch made by `new`, as the planner makes them: an object literal would carry an
 * allocation site that V8 may pretenure, and a sealed batch lives until its answer, holding its
 * messages (see young-array.ts).
 */
export class SealedRecordBatch implements SealedBatch {
  provenWritten?: boolean;

  constructor(
    readonly partition: number,
    readonly messages: PendingMessage[],
    public producerId: bigint,
    public producerEpoch: number,
    public baseSequence: number,
    public records: Buffer | null,
    public done = false,
  ) {}
}

export interface ProducerIdentity {
  producerId: bigint;
  producerEpoch: number;
}

/**
 * One partition's share of an idempotent producer's state: its accepted messages in accept order,
 * its sealed batches not yet done (in sequence order), its next sequence number, whether the
 * broker knows the producer id here yet, and the messages parked until older ones take their
 * sequence numbers. Everything that decides what of this partition may be sealed and sent, and in
 * which order, is here and nowhere else.
 */
export class PartitionBuffer {
  private nextSequence = 0;
  /** Sealed batches not yet done, in sequence order: the first is the one the broker waits for. */
  private readonly open: SealedBatch[] = [];
  /**
   * Accepted messages in accept order, in the slots before `acceptedEnd`; those before `head` are
   * sealed or settled, their slots emptied so that the list does not keep acknowledged messages
   * (and through them their encoded batches) alive until it is next compacted. The array's length
   * is never lowered (slots from acceptedEnd on are null): a length going down at each compaction
   * and up again message by message would reallocate its backing store every time.
   */
  private readonly accepted: Array<PendingMessage | null> = [];
  private acceptedEnd = 0;
  private head = 0;
  private nextOrdinal = 0;
  /**
   * True once the broker acknowledged a batch of the current producer id here. A broker takes any
   * first sequence from an id it does not know yet, so until then only one batch is open at a
   * time: were the first one lost and a later one written, the partition would be out of order
   * for good.
   */
  private confirmed = false;
  /**
   * The transaction this partition has joined (a transactional producer numbers its transactions),
   * or -1. With transactions v1 no batch of the partition may leave before the coordinator added
   * the partition to the open transaction; a new transaction starts with every partition out of it.
   */
  joinedTransaction = -1;
  /** The last sequence the broker acknowledged, with the id and epoch it was under. */
  private acknowledgedThrough: { producerId: bigint; producerEpoch: number; sequence: number } | null = null;
  /**
   * Unsealed messages that must wait for an older message of this partition (one still on its way
   * from a failed leader): they hold no request slot meanwhile. They leave together, in accept
   * order, once the oldest unsealed message is among them, so the next plan seals them in one go
   * rather than in the pieces they arrived in.
   */
  private parked: Set<PendingMessage> | null = null;
  /** Sealed batches waiting for an older unfinished batch of this partition (see hold()). */
  private held: Set<SealedBatch> | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Takes the message's place in the partition's accept order (produce()): sequence numbers follow it. */
  accept(message: PendingMessage): void {
    message.ordinal = this.nextOrdinal++;
    this.accepted[this.acceptedEnd++] = message;
  }

  /** The oldest accepted message without sequence numbers or an outcome. */
  oldestUnsealed(): PendingMessage | undefined {
    this.advanceHead();
    return this.head < this.acceptedEnd ? this.accepted[this.head]! : undefined;
  }

  /**
   * Of this partition's unsealed messages, those that may take sequence numbers now, in accept
   * order: a message may once every older one has them (or its outcome). A message moved from a
   * failed leader arrives after newer ones went straight to the new leader; sealing those first
   * would write the partition out of order. The others wait (park()).
   */
  sealable(fresh: PendingMessage[]): { now: PendingMessage[]; later: PendingMessage[] } {
    if (this.isProbing()) return { now: [], later: fresh };
    this.advanceHead();
    const list = this.accepted;
    const end = this.acceptedEnd;
    const headOrdinal = this.head < end ? list[this.head]!.ordinal : this.nextOrdinal;
    let sorted = fresh;
    for (let i = 1; i < fresh.length; i++) {
      if (fresh[i - 1].ordinal > fresh[i].ordinal) {
        sorted = fresh.slice().sort((a, b) => a.ordinal - b.ordinal);
        break;
      }
    }
    // Usually every message may be sealed now: `sorted` is then the answer, and `now` is copied
    // out of it only from the first message that has to wait.
    let now: PendingMessage[] | null = null;
    const later: PendingMessage[] = [];
    let at = this.head;
    for (let i = 0; i < sorted.length; i++) {
      const message = sorted[i];
      let sealableNow: boolean;
      // Behind the head: every older message has its sequence numbers (e.g. one split off alone).
      if (message.ordinal < headOrdinal) {
        sealableNow = true;
      } else {
        while (at < end && list[at] !== message && isDone(list[at]!)) at++;
        sealableNow = later.length === 0 && list[at] === message;
        if (sealableNow) at++;
      }
      if (!sealableNow) {
        now ??= sorted.slice(0, i);
        later.push(message);
      } else if (now !== null) {
        now.push(message);
      }
    }
    return { now: now ?? sorted, later };
  }

  /** The sequence number the next sealed batch starts at. */
  peekSequence(): number {
    return this.nextSequence;
  }

  seal(batch: SealedBatch): void {
    this.nextSequence = (batch.baseSequence + batch.messages.length) % SEQUENCE_WRAP;
    this.open.push(batch);
    // Batches are sealed in accept order, from the head: their messages leave the accepted list
    // here, while in cache, rather than in advanceHead's next pass over them.
    const list = this.accepted;
    let head = this.head;
    for (const message of batch.messages) {
      message.sealed = batch;
      if (list[head] === message) list[head++] = null;
    }
    this.head = head;
  }

  /**
   * A sealed batch is done: acknowledged, or failed for good. A failure leaves a gap only if the
   * broker never wrote the batch, which after a timeout or a lost connection nobody knows: the
   * broker tells, by accepting the next batch (it was written) or answering it
   * OUT_OF_ORDER_SEQUENCE_NUMBER (a gap, and the producer bumps its epoch then).
   */
  finished(batch: SealedBatch, failed: boolean): void {
    if (batch.done) return;
    if (!failed) {
      this.confirmed = true;
      this.acknowledged(batch);
    }
    batch.done = true;
    // Never sent again: a report the caller keeps must not keep the encoded batch alive with it.
    batch.records = null;
    const at = this.open.indexOf(batch);
    if (at >= 0) this.open.splice(at, 1);
  }

  /** Notes an acknowledged batch (or one the broker called a duplicate). */
  acknowledged(batch: SealedBatch): void {
    const last = batch.baseSequence + batch.messages.length - 1;
    const known = this.acknowledgedThrough;
    if (known !== null && known.producerId === batch.producerId && known.producerEpoch === batch.producerEpoch && known.sequence >= last) return;
    this.acknowledgedThrough = { producerId: batch.producerId, producerEpoch: batch.producerEpoch, sequence: last };
  }

  /**
   * True when the broker has acknowledged a later batch of the partition under the same id and
   * epoch: it takes a known producer's sequences only in order, so this batch was written too.
   */
  writtenBeforeAcknowledged(batch: SealedBatch): boolean {
    const known = this.acknowledgedThrough;
    return known !== null && known.producerId === batch.producerId && known.producerEpoch === batch.producerEpoch
      && batch.baseSequence + batch.messages.length - 1 < known.sequence;
  }

  /** True once the broker has acknowledged a batch here under the current producer id. */
  get isConfirmed(): boolean {
    return this.confirmed;
  }

  /** A new producer id: no broker knows it yet. */
  forgetConfirmation(): void {
    this.confirmed = false;
  }

  /** True while the partition's first batch under this producer id waits for its answer. */
  isProbing(): boolean {
    return !this.confirmed && this.open.length > 0;
  }

  /** The oldest unfinished batch: the one the broker waits for. */
  oldest(): SealedBatch | undefined {
    return this.open[0];
  }

  isOldest(batch: SealedBatch): boolean {
    return this.open[0] === batch;
  }

  /**
   * After an epoch bump the partition starts again at sequence 0: renumbers each unfinished batch
   * in its original order under the new identity. The caller re-encodes their records.
   */
  renumber(identity: ProducerIdentity): SealedBatch[] {
    let sequence = 0;
    const renumbered: SealedBatch[] = [];
    for (const batch of this.open) {
      // A batch behind an acknowledged one was written: renumbered it would be written twice.
      if (this.writtenBeforeAcknowledged(batch)) {
        batch.provenWritten = true;
        continue;
      }
      batch.producerId = identity.producerId;
      batch.producerEpoch = identity.producerEpoch;
      batch.baseSequence = sequence;
      batch.records = null;
      sequence = (sequence + batch.messages.length) % SEQUENCE_WRAP;
      renumbered.push(batch);
    }
    this.open.length = 0;
    this.open.push(...renumbered);
    this.nextSequence = sequence;
    return renumbered;
  }

  /** Keeps a message that may not be sealed yet (see `parked`). */
  park(message: PendingMessage): void {
    (this.parked ??= new Set()).add(message);
  }

  /**
   * Keeps a sealed batch the broker refused as out of order behind an older unfinished one: sent
   * again now it would only be refused again, and retried in place it would hold a request slot
   * the older one (say, moved from a leader that died) may be waiting for.
   */
  hold(batch: SealedBatch): void {
    (this.held ??= new Set()).add(batch);
  }

  /** True while messages are parked or batches held here. */
  get hasWaiting(): boolean {
    return this.parked !== null || this.held !== null;
  }

  /**
   * What may go now, oldest first: held batches once the oldest unfinished batch is one of them
   * (the older ones are done), then parked messages once nothing older is still on its way (the
   * oldest unsealed message is parked, or none is left) and no first batch waits for its answer.
   * Messages that got their outcome meanwhile are left out.
   */
  release(): PendingMessage[] {
    const released: PendingMessage[] = [];
    const held = this.held;
    if (held !== null) {
      for (const batch of held) if (batch.done) held.delete(batch);
      const oldest = this.open[0];
      if (held.size === 0) {
        this.held = null;
      } else if (oldest === undefined || held.has(oldest)) {
        this.held = null;
        for (const batch of [...held].sort((a, b) => this.open.indexOf(a) - this.open.indexOf(b))) {
          for (const message of batch.messages) if (!message.settled) released.push(message);
        }
      }
    }
    const parked = this.parked;
    if (parked !== null && !this.isProbing()) {
      const oldest = this.oldestUnsealed();
      if (oldest === undefined || parked.has(oldest)) {
        this.parked = null;
        const live: PendingMessage[] = [];
        for (const message of parked) if (!message.settled) live.push(message);
        live.sort((a, b) => a.ordinal - b.ordinal);
        for (const message of live) released.push(message);
      }
    }
    return released;
  }

  /** Moves head past sealed or settled messages, emptying their slots; compacts a mostly passed list. */
  private advanceHead(): void {
    const list = this.accepted;
    const end = this.acceptedEnd;
    while (this.head < end && isDone(list[this.head]!)) list[this.head++] = null;
    const head = this.head;
    if (head > COMPACT_AFTER && head * 2 > end) {
      // A loop, not copyWithin(): V8's copyWithin is generic (a property get and set per slot).
      // The slots before head are empty already, so only those from head on are emptied.
      const kept = end - head;
      for (let i = 0; i < kept; i++) list[i] = list[head + i];
      for (let i = head; i < end; i++) list[i] = null;
      this.acceptedEnd = kept;
      this.head = 0;
    }
  }
}

function isDone(message: PendingMessage): boolean {
  return message.sealed !== null || message.settled;
}

/**
 * The producer's partition buffers, keyed by topic and partition: one Produce request may carry
 * several topics' partitions, so a partition number alone names nothing.
 */
export class PartitionBuffers implements Iterable<PartitionBuffer> {
  /** Per topic, its buffers indexed by partition id (ids are small and dense: 0 to count - 1). */
  private readonly byTopic = new Map<string, PartitionBuffer[]>();
  // Every accepted record looks its buffer up: records of one topic come in runs, so the last
  // topic's list is kept at hand and a look-up is then one array read.
  private lastTopic: string | null = null;
  private lastPartitions: PartitionBuffer[] = [];

  of(topic: string, partition: number): PartitionBuffer {
    let partitions: PartitionBuffer[] | undefined;
    if (topic === this.lastTopic) {
      partitions = this.lastPartitions;
    } else {
      partitions = this.byTopic.get(topic);
      if (partitions === undefined) this.byTopic.set(topic, (partitions = []));
      this.lastTopic = topic;
      this.lastPartitions = partitions;
    }
    return partitions[partition] ?? (partitions[partition] = new PartitionBuffer(topic, partition));
  }

  *[Symbol.iterator](): Iterator<PartitionBuffer> {
    for (const partitions of this.byTopic.values()) for (const buffer of partitions) if (buffer !== undefined) yield buffer;
  }
}
