import type { PartitionBuffers, ProducerIdentity } from './partition-buffer.js';

export type { ProducerIdentity, SealedBatch } from './partition-buffer.js';

/** An epoch is an int16; past the largest a new producer id is needed. */
const MAX_EPOCH = 32767;

/**
 * The idempotent producer's identity and its recovery; the per-partition sequence state lives in
 * the partition buffers. When the broker shows a gap in the sequence numbers (a batch that failed
 * for good was not written) or forgot the producer, once no request is in flight the producer
 * bumps its epoch (itself; a new id from InitProducerId only when the epoch is exhausted) and every
 * partition renumbers its unfinished batches from 0, in order.
 */
export class IdempotentState {
  identity: ProducerIdentity = { producerId: -1n, producerEpoch: -1 };
  /** Set when the sequence numbers can no longer be trusted. */
  resetNeeded = false;
  inFlightRequests = 0;
  epochBumps = 0;
  private bumping: Promise<void> | null = null;

  constructor(
    readonly buffers: PartitionBuffers,
    private readonly initProducerId: (current: ProducerIdentity | null) => Promise<ProducerIdentity>,
    /**
     * A transactional producer's identity comes from its transaction coordinator only (an epoch
     * the coordinator did not hand out is refused): it never bumps itself. A sequence gap fails the
     * transaction, and the epoch moves on when it is aborted (see transactions/).
     */
    private readonly transactional = false,
  ) {}

  async start(): Promise<void> {
    if (this.transactional) return;
    this.identity = await this.initProducerId(null);
  }

  /**
   * A transactional producer's new identity (after initTransactions(), or the epoch bump at the end
   * of a transaction): every partition starts again at sequence 0 under it.
   */
  adopt(identity: ProducerIdentity): void {
    const newId = identity.producerId !== this.identity.producerId;
    this.identity = identity;
    for (const buffer of this.buffers) {
      if (newId) buffer.forgetConfirmation();
      buffer.renumber(identity);
    }
    this.resetNeeded = false;
  }

  /** Resolves true when batches may be planned now; false while a bump waits for in-flight requests. */
  async prepare(): Promise<boolean> {
    if (this.transactional) return true;
    if (!this.resetNeeded && this.identity.producerId >= 0n) return true;
    if (this.inFlightRequests > 0) return false;
    this.bumping ??= this.bump().finally(() => {
      this.bumping = null;
    });
    await this.bumping;
    return true;
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
      if (this.identity.producerId !== previousId) for (const buffer of this.buffers) buffer.forgetConfirmation();
    }
    if (!fresh) this.epochBumps++;
    for (const buffer of this.buffers) buffer.renumber(this.identity);
    this.resetNeeded = false;
  }
}
