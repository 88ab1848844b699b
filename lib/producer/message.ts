import type { KafkaRxError } from '../errors/index.js';
import type { PartitionBuffer, SealedBatch } from './partition-buffer.js';
import type { PendingBlock } from './pending-messages.js';
import type { SyncWaiter } from './sync-waiter.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/**
 * A message as the producer reports it: where it landed and what the caller gave. `value` and
 * `key` are the bytes sent; `input` and `inputKey` keep the caller's values before serialization.
 */
export interface Message<V = unknown, K = unknown> {
  readonly topic: string;
  readonly partition: number;
  /** Offset in the partition once acknowledged; -1n before, and with acks=0 (the broker never says). */
  readonly offset: bigint;
  /** Milliseconds since the epoch: the create time sent, or the broker's log-append time. */
  readonly timestamp: number;
  readonly value: Buffer | null;
  readonly key: Buffer | null;
  readonly headers: readonly RecordHeader[] | undefined;
  readonly input: V;
  readonly inputKey: K | undefined;
  /** How many times the message was sent. */
  readonly attempts: number;
}

export interface DeliveryReport<V = unknown, K = unknown> {
  readonly message: Message<V, K>;
  /** Present when delivery failed; a typed kafka-rx error. */
  readonly error?: KafkaRxError;
}

/**
 * Times are kept as milliseconds from this instant: small integers stored in the message itself,
 * where a time since the epoch would need a heap number of its own per field per message (for
 * about 24 days after the module loads; later ones are still exact, as heap numbers).
 */
const CLOCK_BASE = Date.now();

/** The offset of a message not acknowledged (one BigInt for all: `-1n` written in place makes one per message). */
const NOT_ACKNOWLEDGED = -1n;

/** Bits of PendingMessage's `state`; the count of failed attempts is kept above them. */
const SETTLED = 1;
const ALONE = 2;
const IN_FLIGHT = 4;
const MAY_BE_WRITTEN = 8;
const HOLDS_BYTES = 16;
const FLAG_BITS = 31;
const FAILURES_SHIFT = 5;

/** The caller's value and key before serialization, when they differ from the bytes sent. */
interface Inputs<V, K> {
  readonly input: V;
  readonly inputKey: K | undefined;
}

/**
 * The producer's own record of a message in flight. One object per message carries it from
 * produce() to its outcome: the record batch encoder reads key, value, timestamp and headers from
 * it directly. It never reaches the caller, who gets plain copies (publicMessage, reportOf): its
 * links, callbacks and retry state are the producer's to change.
 */
export class PendingMessage<V = unknown, K = unknown> implements Message<V, K> {
  /** Base offset of the acknowledged batch and this message's place in it; the offset is made on read. */
  private baseOffset = NOT_ACKNOWLEDGED;
  private offsetDelta = 0;
  /** The failure, once reported failed. */
  error: KafkaRxError | undefined = undefined;
  /** Where the producer's register of pending messages holds this one (PendingMessages). */
  pendingBlock: PendingBlock | null = null;
  pendingSlot = 0;
  attempts = 0;
  /** Leader broker whose queue holds the message (for per-broker queue accounting). */
  broker = -1;
  /** The produce() call waiting for the outcome (sync mode). */
  waiter: SyncWaiter<V, K> | null = null;
  /** The caller's callback for this message's report (operators correlate through it). */
  onReport: ((report: DeliveryReport<V, K>) => void) | null = null;
  /** With idempotence: the batch that fixed this message's sequence number. */
  sealed: SealedBatch | null = null;
  /** With idempotence: its partition's buffer, which holds the partition's order and sequence state. */
  buffer: PartitionBuffer | null = null;
  /** With idempotence: the message's place in its partition's accept order (sequence numbers follow it). */
  ordinal = 0;
  /** Last retriable error seen, reported if attempts run out. */
  lastError: KafkaRxError | null = null;
  /**
   * The five yes/no states below and the count of failed attempts, in one small integer: every
   * field is 8 bytes of every message (Node.js builds V8 without pointer compression), and the
   * messages waiting in the queue are what scavenges copy. 248 -> 208 bytes per message.
   */
  private state = 0;

  /** Set once the outcome is reported; a second outcome is ignored (exactly one per message). */
  get settled(): boolean {
    return (this.state & SETTLED) !== 0;
  }

  set settled(yes: boolean) {
    this.setFlag(SETTLED, yes);
  }

  /** Sent in a record batch of its own (after the broker refused a batch it was in as too large). */
  get alone(): boolean {
    return (this.state & ALONE) !== 0;
  }

  set alone(yes: boolean) {
    this.setFlag(ALONE, yes);
  }

  /** In a request that is on the wire now, its answer not yet in. */
  get inFlight(): boolean {
    return (this.state & IN_FLIGHT) !== 0;
  }

  set inFlight(yes: boolean) {
    this.setFlag(IN_FLIGHT, yes);
  }

  /** An earlier request carrying it may have been written (no answer came): a failure is then "maybe written". */
  get mayBeWritten(): boolean {
    return (this.state & MAY_BE_WRITTEN) !== 0;
  }

  set mayBeWritten(yes: boolean) {
    this.setFlag(MAY_BE_WRITTEN, yes);
  }

  /** Its bytes are counted against maxQueuedBytes (taken at admission, given back at its outcome). */
  get holdsBytes(): boolean {
    return (this.state & HOLDS_BYTES) !== 0;
  }

  set holdsBytes(yes: boolean) {
    this.setFlag(HOLDS_BYTES, yes);
  }

  /** Failed attempts that count against maxRetries (a failover's errors do not). */
  get countedFailures(): number {
    return this.state >>> FAILURES_SHIFT;
  }

  set countedFailures(count: number) {
    this.state = (this.state & FLAG_BITS) | (count << FAILURES_SHIFT);
  }

  private setFlag(bit: number, yes: boolean): void {
    this.state = yes ? this.state | bit : this.state & ~bit;
  }

  private timeFromBase: number;
  private deadlineFromBase: number;
  private readonly inputs: Inputs<V, K> | null;

  /** Milliseconds since the epoch: the create time sent, or the broker's log-append time. */
  get timestamp(): number {
    return CLOCK_BASE + this.timeFromBase;
  }

  set timestamp(time: number) {
    this.timeFromBase = time - CLOCK_BASE;
  }

  /** Scheduler time after which the message fails with DeliveryTimeoutError. */
  get deadline(): number {
    return CLOCK_BASE + this.deadlineFromBase;
  }

  get input(): V {
    return this.inputs === null ? (this.value as V) : this.inputs.input;
  }

  get inputKey(): K | undefined {
    return this.inputs === null ? ((this.key ?? undefined) as K | undefined) : this.inputs.inputKey;
  }

  /** Offset in the partition once acknowledged; -1n before and with acks=0. */
  get offset(): bigint {
    return this.baseOffset < 0n ? this.baseOffset : this.baseOffset + BigInt(this.offsetDelta);
  }

  /** Records where the broker put the message (one BigInt per batch, none per message). */
  acknowledgedAt(baseOffset: bigint, delta: number): void {
    this.baseOffset = baseOffset;
    this.offsetDelta = delta;
  }

  constructor(
    readonly topic: string,
    public partition: number,
    timestamp: number,
    readonly value: Buffer | null,
    readonly key: Buffer | null,
    readonly headers: RecordHeader[] | undefined,
    input: V,
    inputKey: K | undefined,
    deadline: number,
    /** The most bytes its record can take in a batch (recordSizeBound): byte budgets and batch sizing. */
    readonly size: number,
  ) {
    this.timeFromBase = timestamp - CLOCK_BASE;
    this.deadlineFromBase = deadline - CLOCK_BASE;
    // Without a serializer the input is the value itself: no second pair of fields for it.
    this.inputs = (input as unknown) === value && inputKey === (key ?? undefined) ? null : { input, inputKey };
  }
}

/**
 * Copies handed to callers are made by constructors, not object literals. V8 decides per literal
 * site whether to allocate its objects straight in the old generation ("allocation-site
 * pretenuring"), from how many of them a scavenge finds alive. The first produce() calls, made
 * before the producer is ready, hold their copies until start-up ends, and that one burst was
 * enough for V8 to tenure the site for good: every later copy went to the old generation as
 * garbage (~410 B per 100 B record outlived its scavenge, peak RSS 420-470 MB). Objects made by
 * `new` have no allocation site, so a caller who keeps its copies cannot make everyone's copies
 * old (bench/PROFILE.md). The constructors' prototype is Object.prototype: callers still get plain
 * objects, equal under assert.deepStrictEqual to the literals they would write.
 */
type Writable<T> = { -readonly [P in keyof T]: T[P] };

interface SnapshotConstructor {
  new <V, K>(message: PendingMessage<V, K>): Message<V, K>;
}

const MessageSnapshot = function MessageSnapshot<V, K>(this: Writable<Message<V, K>>, message: PendingMessage<V, K>): void {
  this.topic = message.topic;
  this.partition = message.partition;
  this.offset = message.offset;
  this.timestamp = message.timestamp;
  this.value = message.value;
  this.key = message.key;
  this.headers = message.headers;
  this.input = message.input;
  this.inputKey = message.inputKey;
  this.attempts = message.attempts;
} as unknown as SnapshotConstructor;
MessageSnapshot.prototype = Object.prototype;

interface ReportConstructor {
  new <V, K>(message: Message<V, K>, error: KafkaRxError | undefined): DeliveryReport<V, K>;
}

/** `{ message }`, or `{ message, error }` when the message failed. */
const OutcomeReport = function OutcomeReport<V, K>(this: Writable<DeliveryReport<V, K>>, message: Message<V, K>, error: KafkaRxError | undefined): void {
  this.message = message;
  if (error !== undefined) this.error = error;
} as unknown as ReportConstructor;
OutcomeReport.prototype = Object.prototype;

/** The message as the caller sees it: the documented fields only, as they are now. */
export function publicMessage<V, K>(message: PendingMessage<V, K>): Message<V, K> {
  return new MessageSnapshot(message);
}

/** The delivery report of a message that has its outcome: `{ message }`, or `{ message, error }` when it failed. */
export function reportOf<V, K>(message: PendingMessage<V, K>): DeliveryReport<V, K> {
  return new OutcomeReport(new MessageSnapshot(message), message.error);
}

/**
 * The message of a record that never reached the producer's queue (refused: wrong type, stopped,
 * queue full; or not sent at all by an operator): no partition, no offset, no bytes, no attempts.
 */
export function unsentMessage<V, K>(topic: string, input: V, inputKey: K | undefined, timestamp?: number): Message<V, K> {
  return {
    topic,
    partition: -1,
    offset: -1n,
    timestamp: timestamp ?? Date.now(),
    value: null,
    key: null,
    headers: undefined,
    input,
    inputKey,
    attempts: 0,
  };
}
