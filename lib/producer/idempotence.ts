import type { PendingMessage } from './message.js';

/** An epoch is an int16; past the largest a new producer id is needed. */
const MAX_EPOCH = 32767;

/** Kafka sequence numbers are int32 and wrap to 0 after the largest. */
const SEQUENCE_WRAP = 2 ** 31;

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

export interface ProducerIdentity {
  producerId: bigint;
  producerEpoch: number;
}

/**
 * Per-partition sequence numbers of an idempotent producer and the sealed batches not yet done,
 * in sequence order. The oldest unfinished batch of a partition is the one the broker waits for:
 * an OUT_OF_ORDER_SEQUENCE_NUMBER on any later batch only means it arrived first.
 */
export class PartitionSequences {
  private readonly next = new Map<number, number>();
  private readonly open = new Map<number, SealedBatch[]>();
  /**
   * Per partition, accepted messages in accept order; those before head are sealed or settled, and
   * their slots are emptied so that the list does not keep acknowledged messages (and through them
   * their encoded batches) alive until it is next compacted.
   */
  private readonly accepted = new Map<number, AcceptQueue>();
  /**
   * Partitions where the broker has acknowledged a batch of the current producer id. A broker takes
   * any first sequence from an id it does not know yet, so until then only one batch of a
   * partition is open at a time: were the first one lost and a later one written, the partition
   * would be out of order for good.
   */
  private readonly confirmed = new Set<number>();

  /** Per partition, the last sequence the broker acknowledged, with the id and epoch it was under. */
  private readonly acknowledgedThrough = new Map<number, { producerId: bigint; producerEpoch: number; sequence: number }>();

  confirm(partition: number): void {
    this.confirmed.add(partition);
  }

  /** Notes an acknowledged batch (or one the broker called a duplicate). */
  acknowledged(batch: SealedBatch): void {
    const last = batch.baseSequence + batch.messages.length - 1;
    const known = this.acknowledgedThrough.get(batch.partition);
    if (known !== undefined && known.producerId === batch.producerId && known.producerEpoch === batch.producerEpoch && known.sequence >= last) return;
    this.acknowledgedThrough.set(batch.partition, { producerId: batch.producerId, producerEpoch: batch.producerEpoch, sequence: last });
  }

  /**
   * True when the broker has acknowledged a later batch of the partition under the same id and
   * epoch: it takes a known producer's sequences only in order, so this batch was written too.
   */
  writtenBeforeAcknowledged(batch: SealedBatch): boolean {
    const known = this.acknowledgedThrough.get(batch.partition);
    return known !== undefined && known.producerId === batch.producerId && known.producerEpoch === batch.producerEpoch
      && batch.baseSequence + batch.messages.length - 1 < known.sequence;
  }

  isConfirmed(partition: number): boolean {
    return this.confirmed.has(partition);
  }

  /** A new producer id: no broker knows it yet. */
  forgetConfirmations(): void {
    this.confirmed.clear();
  }

  /** True while the partition's first batch under this producer id waits for its answer. */
  isProbing(partition: number): boolean {
    return !this.confirmed.has(partition) && this.open.has(partition);
  }

  /** Records a message's place in its partition's accept order (produce()). */
  accept(message: PendingMessage): void {
    let queue = this.accepted.get(message.partition);
    if (queue === undefined) this.accepted.set(message.partition, (queue = { list: [], head: 0, next: 0 }));
    message.ordinal = queue.next++;
    queue.list.push(message);
  }

  /** The partition's oldest accepted message without sequence numbers or an outcome. */
  headOf(partition: number): PendingMessage | undefined {
    const queue = this.accepted.get(partition);
    if (queue === undefined) return undefined;
    advanceHead(queue);
    return queue.list[queue.head] ?? undefined;
  }

  /**
   * Of a partition's unsealed messages, those that may take sequence numbers now, in accept order:
   * a message may once every older message of its partition has them (or its outcome). A message
   * re-routed from a failed leader arrives after newer ones went straight to the new leader; sealing
   * those first would write the partition out of order. The others are parked by the sender.
   */
  sealable(partition: number, fresh: PendingMessage[]): { now: PendingMessage[]; later: PendingMessage[] } {
    if (this.isProbing(partition)) return { now: [], later: fresh };
    const queue = this.accepted.get(partition);
    if (queue === undefined) return { now: fresh, later: [] };
    advanceHead(queue);
    const { list } = queue;
    const headOrdinal = queue.head < list.length ? list[queue.head]!.ordinal : queue.next;
    let sorted = fresh;
    for (let i = 1; i < fresh.length; i++) {
      if (fresh[i - 1].ordinal > fresh[i].ordinal) {
        sorted = fresh.slice().sort((a, b) => a.ordinal - b.ordinal);
        break;
      }
    }
    const now: PendingMessage[] = [];
    const later: PendingMessage[] = [];
    let at = queue.head;
    for (const message of sorted) {
      // Behind the head: every older message has its sequence numbers (e.g. one split off alone).
      if (message.ordinal < headOrdinal) {
        now.push(message);
        continue;
      }
      while (at < list.length && list[at] !== message && isDone(list[at]!)) at++;
      if (later.length === 0 && list[at] === message) {
        now.push(message);
        at++;
      } else {
        later.push(message);
      }
    }
    return { now, later };
  }

  peek(partition: number): number {
    return this.next.get(partition) ?? 0;
  }

  seal(batch: SealedBatch): void {
    this.next.set(batch.partition, (batch.baseSequence + batch.messages.length) % SEQUENCE_WRAP);
    let list = this.open.get(batch.partition);
    if (list === undefined) this.open.set(batch.partition, (list = []));
    list.push(batch);
    for (const message of batch.messages) message.sealed = batch;
  }

  /** Marks a batch done and forgets it. */
  finish(batch: SealedBatch): void {
    batch.done = true;
    // Never sent again: a report the caller keeps must not keep the encoded batch alive with it.
    batch.records = null;
    const list = this.open.get(batch.partition);
    if (list === undefined) return;
    const at = list.indexOf(batch);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.open.delete(batch.partition);
  }

  /** The partition's oldest unfinished batch: the one the broker waits for. */
  oldestOf(partition: number): SealedBatch | undefined {
    return this.open.get(partition)?.[0];
  }

  /** True when no older batch of its partition is still unfinished. */
  isOldest(batch: SealedBatch): boolean {
    return this.open.get(batch.partition)?.[0] === batch;
  }

  /**
   * After an epoch bump every partition starts again at sequence 0: renumbers each unfinished
   * batch in its original order under the new identity. The caller re-encodes their records.
   */
  renumber(identity: ProducerIdentity): SealedBatch[] {
    this.next.clear();
    const renumbered: SealedBatch[] = [];
    for (const [partition, all] of this.open) {
      // A batch behind an acknowledged one was written: renumbered it would be written twice.
      const list = all.filter((batch) => {
        if (!this.writtenBeforeAcknowledged(batch)) return true;
        batch.provenWritten = true;
        return false;
      });
      if (list.length === 0) this.open.delete(partition);
      else this.open.set(partition, list);
      let sequence = 0;
      for (const batch of list) {
        batch.producerId = identity.producerId;
        batch.producerEpoch = identity.producerEpoch;
        batch.baseSequence = sequence;
        batch.records = null;
        sequence = (sequence + batch.messages.length) % SEQUENCE_WRAP;
        renumbered.push(batch);
      }
      this.next.set(partition, sequence);
    }
    return renumbered;
  }

  get openBatches(): number {
    let count = 0;
    for (const list of this.open.values()) count += list.length;
    return count;
  }
}

interface AcceptQueue {
  /** Slots before head are emptied (null) once passed. */
  list: Array<PendingMessage | null>;
  head: number;
  /** The next accepted message's ordinal. */
  next: number;
}

function isDone(message: PendingMessage): boolean {
  return message.sealed !== null || message.settled;
}

/** Moves head past sealed or settled messages, emptying their slots; compacts a mostly passed list. */
function advanceHead(queue: AcceptQueue): void {
  const { list } = queue;
  while (queue.head < list.length && isDone(list[queue.head]!)) list[queue.head++] = null;
  if (queue.head > 4096 && queue.head * 2 > list.length) {
    list.copyWithin(0, queue.head);
    list.length -= queue.head;
    queue.head = 0;
  }
}

/**
 * The idempotent producer's identity and sequence state, and its recovery: when the broker shows
 * a gap in the sequence numbers (a batch that failed for good was not written) or forgot the
 * producer, once no request is in flight the producer bumps its epoch (itself; a new
 * id from InitProducerId only when the epoch is exhausted) and renumbers every unfinished batch
 * from 0, in order.
 */
export class IdempotentState {
  identity: ProducerIdentity = { producerId: -1n, producerEpoch: -1 };
  readonly sequences = new PartitionSequences();
  /** Set when the sequence numbers can no longer be trusted. */
  resetNeeded = false;
  inFlightRequests = 0;
  epochBumps = 0;
  private bumping: Promise<void> | null = null;

  constructor(private readonly initProducerId: (current: ProducerIdentity | null) => Promise<ProducerIdentity>) {}

  async start(): Promise<void> {
    this.identity = await this.initProducerId(null);
  }

  /** Resolves true when batches may be planned now; false while a bump waits for in-flight requests. */
  async prepare(): Promise<boolean> {
    if (!this.resetNeeded && this.identity.producerId >= 0n) return true;
    if (this.inFlightRequests > 0) return false;
    this.bumping ??= this.bump().finally(() => {
      this.bumping = null;
    });
    await this.bumping;
    return true;
  }

  /**
   * A sealed batch is done: acknowledged, or failed for good. A failure leaves a gap only if the
   * broker never wrote the batch, which after a timeout or a lost connection nobody knows: bumping
   * the epoch then would renumber later batches the broker may have written too, and write them
   * twice. So the broker tells: the next batch of the partition is accepted if the failed one was
   * written, and answered OUT_OF_ORDER_SEQUENCE_NUMBER if not, which bumps the epoch then.
   */
  finished(batch: SealedBatch, failed: boolean): void {
    if (batch.done) return;
    if (!failed) {
      this.sequences.confirm(batch.partition);
      this.sequences.acknowledged(batch);
    }
    this.sequences.finish(batch);
  }

  private async bump(): Promise<void> {
    const fresh = this.identity.producerId < 0n;
    // Bumped here, as the Java client does for a producer without transactions (KIP-360): the
    // brokers take the next epoch from sequence 0 and keep enforcing order for an id they know.
    // InitProducerId would hand out a new id instead (brokers bump only transactional ones), and a
    // broker takes any first sequence from an id it does not know: a batch sealed after the bump
    // could then be written before the renumbered older ones, out of order.
    if (!fresh && this.identity.producerEpoch < MAX_EPOCH) this.identity = { producerId: this.identity.producerId, producerEpoch: this.identity.producerEpoch + 1 };
    else {
      const previousId = this.identity.producerId;
      this.identity = await this.initProducerId(fresh ? null : this.identity);
      if (this.identity.producerId !== previousId) this.sequences.forgetConfirmations();
    }
    if (!fresh) this.epochBumps++;
    this.sequences.renumber(this.identity);
    this.resetNeeded = false;
  }
}
