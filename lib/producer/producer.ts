import { asyncScheduler, BehaviorSubject, interval, map, Subject, type Observable, type Subscription } from 'rxjs';
import { ConfigError, PartitionerError, ProducerStoppedError, QueueFullError, RecordTooLargeError, RecordTypeError, SerializationError, UnknownTopicOrPartitionError } from '../errors/index.js';
import { asKafkaRxError } from '../errors/convert.js';
import { prepareCodec } from '../records/index.js';
import { recordSizeBound } from '../records/record-batch.js';
import { youngArray } from '../young-array.js';
import { BatchSender } from './batch-sender.js';
import { BrokerQueues } from './broker-queues.js';
import { DeliveryOutcomes } from './delivery-reports.js';
import { IdempotentState } from './idempotence.js';
import { PendingMessage, publicMessage, type DeliveryReport, type Message, type RecordHeader } from './message.js';
import { PartitionBuffers } from './partition-buffer.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './options.js';
import { RandomPartitioner, checkedPartition, type PartitionFunction } from './partitioners.js';
import { producerPipeline } from './pipeline.js';
import { Pressure } from './pressure.js';
import { QueuedBytes } from './queued-bytes.js';
import { sendAll, type SendAllOptions } from './send-all.js';
import { assertBytes } from './serializers.js';
import { ProducerStats, type ProducerStatsSnapshot } from './stats.js';
import { SyncWaiters } from './sync-waiter.js';
import { loadTracing, type ProducerTracing } from './tracing.js';
import type { ProducerTransport } from './transport.js';
import type { RecordFields } from './record.js';
import { ProducerTransactions } from './transactions/producer-transactions.js';
import { TransactionManager, type GroupMetadata, type OffsetToCommit } from './transactions/transaction-manager.js';

/** How long initTransactions(), commitTransaction() and the others keep retrying (the Java client's max.block.ms). */
const TRANSACTION_CALL_TIMEOUT_MS = 60_000;

/** The second argument of produce() in its record form (its public name). */
export type ProduceOptions<K = unknown> = RecordFields<K>;

type State = 'idle' | 'running' | 'stopping' | 'stopped';

/** Most messages staged before they are pushed without waiting for the end of the burst. */
const STAGE_LIMIT = 512;
/**
 * Most bytes staged, as a share of maxRequestSize: a request is filled with whole chunks, so a
 * chunk of large messages must be a small part of one (512 records of 1 KiB would leave half of
 * every request empty).
 */
const STAGE_SHARE_OF_REQUEST = 1 / 8;

const recordFormKeys: ReadonlySet<string> = new Set(['topic', 'key', 'timestamp', 'headers', 'partition']);

function isRecordForm(argument: unknown): argument is ProduceOptions {
  if (argument === null || typeof argument !== 'object' || Buffer.isBuffer(argument) || argument instanceof Uint8Array) return false;
  if (Object.getPrototypeOf(argument) !== Object.prototype) return false;
  // for-in rather than Object.keys(): no array per call; hasOwn keeps it to the same keys.
  let any = false;
  for (const key in argument) {
    if (!Object.hasOwn(argument, key)) continue;
    if (!recordFormKeys.has(key)) return false;
    any = true;
  }
  return any;
}

/**
 * pykafka's Producer as an RxJS dataflow. produce() pushes into a Subject; the pipeline groups by
 * leader broker, batches by count, bytes and linger, sends with retries, and gives every accepted
 * message exactly one delivery report.
 *
 * One producer writes to any number of topics: records carry their topic (`{ topic }` in the
 * record form), or go to the producer's default topic (pykafka's form, `client.producer(topic)`).
 * Grouping is by leader broker, not by topic, so one Produce request carries the batches of every
 * topic partition its broker leads, and the queue bound, linger and in-flight limit stay per broker.
 */
export class Producer<V = Buffer | null, K = Buffer | null> implements AsyncDisposable {
  readonly options: ResolvedProducerOptions;
  /** Every message's outcome, acknowledged or failed; completes after stop(). */
  readonly deliveryReports$: Observable<DeliveryReport<V, K>>;
  /** True while the producer's queues are above 80% of their room, false again below 50%. */
  readonly pressure$: BehaviorSubject<boolean>;

  private state: State = 'idle';
  private readonly outcomes: DeliveryOutcomes;
  private readonly queues: BrokerQueues;
  private readonly queuedBytes: QueuedBytes;
  private readonly stats = new ProducerStats();
  private readonly partition: PartitionFunction;
  private input: Subject<PendingMessage[]> | null = null;
  /**
   * Messages accepted in the current synchronous burst (the first stagedCount slots), pushed into
   * the pipeline as one chunk. The array is kept across bursts and each chunk copied out at its
   * exact length: an array grown push by push leaves every copy it outgrew as garbage.
   */
  private readonly staged: Array<PendingMessage | undefined> = [];
  private stagedCount = 0;
  private stagedBytes = 0;
  private readonly stageBytesLimit: number;
  private stageScheduled = false;
  private readonly releaseLater = (): void => {
    this.stageScheduled = false;
    this.releaseStaged();
    // While flush() or stop() waits, what a burst admits leaves at once rather than after lingerMs.
    if (this.urgent > 0) this.flush$.next();
  };
  /** produce() calls not yet accepted nor refused (waiting for metadata or for room in the queue). */
  private admitting = 0;
  private readonly admittedWaiters: Array<() => void> = [];
  /** flush() and stop() calls under way. */
  private urgent = 0;
  /** Messages of produce() calls waiting for room in a full queue (stop() reports them if it gives up). */
  private readonly waitingForRoom = new Set<PendingMessage>();
  /** Sync-mode calls waiting for their outcome, with one pendingTimeoutMs timer for all (made at the first). */
  private syncWaiters: SyncWaiters | null = null;
  private readonly flush$ = new Subject<void>();
  private pipeline: Subscription | null = null;
  private ready: Promise<void> | null = null;
  private isReady = false;
  /** Set by stop(): new produce() calls are refused while earlier ones finish being accepted. */
  private stopRequested = false;
  private stopping: Promise<void> | null = null;
  private readonly idempotence: IdempotentState | null;
  /** Present when the producer has a transactionalId. */
  private readonly transactions: ProducerTransactions | null = null;
  private readonly buffers = new PartitionBuffers();
  private readonly sender: BatchSender;
  /** Trace context and spans when @opentelemetry/api is installed (lib/producer/tracing.ts); null otherwise. */
  private tracing: ProducerTracing | null = null;
  private readonly tracingLoaded: Promise<void>;
  /** Metadata look-ups under way for topics met for the first time (one per topic, shared by its records). */
  private readonly topicLookups = new Map<string, Promise<unknown>>();

  /**
   * `topic` is the default topic (pykafka's form), undefined for a producer whose records each
   * name their topic.
   */
  constructor(
    private readonly transport: ProducerTransport,
    readonly topic: string | undefined,
    options: ProducerOptions = {},
  ) {
    if (topic !== undefined && (typeof topic !== 'string' || topic.length === 0)) throw new RecordTypeError('topic', 'a non-empty string', topic);
    this.options = resolveProducerOptions(options);
    this.stageBytesLimit = Math.max(1, Math.floor(this.options.maxRequestSize * STAGE_SHARE_OF_REQUEST));
    const partitioner = this.options.partitioner ?? new RandomPartitioner();
    this.partition = typeof partitioner === 'function' ? partitioner : partitioner.partition.bind(partitioner);
    this.outcomes = new DeliveryOutcomes(this.options.deliveryReports && !this.options.sync, this.options.maxQueuedMessages, this.options.scheduler);
    this.outcomes.topicCounts = this.stats.topics;
    const pressure = new Pressure(this.options.maxQueuedMessages, this.options.maxQueuedBytes);
    this.queuedBytes = new QueuedBytes(this.options.maxQueuedBytes, pressure);
    this.outcomes.queuedBytes = this.queuedBytes;
    this.deliveryReports$ = this.outcomes.reports$ as Observable<DeliveryReport<V, K>>;
    // Room is per broker; the message watermarks speak of one broker's worth, the unit a user configures.
    this.queues = new BrokerQueues(this.options.maxQueuedMessages, pressure);
    this.pressure$ = pressure.high$;
    const transactionalId = this.options.transactionalId;
    this.idempotence = this.options.enableIdempotence ? new IdempotentState(this.buffers, (current) => transport.initProducerId(current), transactionalId !== null) : null;
    if (transactionalId !== null) {
      if (transport.transactions === undefined) throw new ConfigError('transactionalId', 'null: this transport has no transaction coordinator client', transactionalId);
      const manager = new TransactionManager(transport.transactions, {
        transactionalId,
        transactionTimeoutMs: this.options.transactionTimeoutMs,
        retryBackoffMs: this.options.retryBackoffMs,
        retryBackoffMaxMs: this.options.retryBackoffMaxMs,
        maxBlockMs: TRANSACTION_CALL_TIMEOUT_MS,
        scheduler: this.options.scheduler,
      });
      this.transactions = new ProducerTransactions(manager, this.outcomes, this.idempotence!, () => this.flush(), this.options.scheduler);
    }
    this.sender = new BatchSender({
      options: this.options,
      transport: this.transport,
      outcomes: this.outcomes,
      stats: this.stats,
      queues: this.queues,
      idempotence: this.idempotence,
      transactions: this.transactions,
    });
    this.tracingLoaded = loadTracing().then((tracing) => {
      this.tracing = tracing;
    });
    if (this.options.autoStart) this.start();
  }

  /** What the producer is, for logs: its default topic (null: none) and state (JSON.stringify would meet timers and subjects). */
  toJSON(): { topic: string | null; state: string } {
    return { topic: this.topic ?? null, state: this.state };
  }

  /** Starts the pipeline and fetches the default topic's metadata. */
  start(): void {
    if (this.state === 'running') return;
    if (this.state !== 'idle') throw new ProducerStoppedError('a stopped producer cannot be started again; create a new one');
    this.state = 'running';
    const input = new Subject<PendingMessage[]>();
    this.input = input;
    this.pipeline = producerPipeline(input, { options: this.options, queues: this.queues, flush$: this.flush$, sender: this.sender, transport: this.transport }).subscribe({
      error: (error) => {
        // The pipeline settles every failure itself; reaching here is a defect. Fail what is pending.
        const failure = asKafkaRxError(error, 'producer pipeline failed');
        this.outcomes.failAll(() => failure);
      },
    });
    this.ready = this.startUp();
  }

  /**
   * The default topic's metadata, producer id and codec; a failure is reported to the produce()
   * calls waiting for it. Other topics' metadata is fetched at their first record.
   */
  private startUp(): Promise<void> {
    const ready = Promise.all([this.topic === undefined ? undefined : this.transport.partitionsOf(this.topic), this.idempotence?.start(), prepareCodec(this.options.compression), this.tracingLoaded]).then(() => undefined);
    ready.then(
      () => {
        this.isReady = true;
      },
      () => {
        // The next produce() tries again: a cluster unreachable for a moment at start must not
        // leave a producer that refuses every message for good.
        if (this.ready === ready) this.ready = null;
      },
    );
    return ready;
  }

  /**
   * Queues a message. `produce(value, key?, timestamp?)` as in pykafka (to the default topic), or
   * `produce(value, { topic, key, timestamp, headers, partition })`. Resolves with the Message once
   * queued (async mode) or once acknowledged (sync mode, rejecting with the delivery error). A
   * topic the cluster does not have rejects with UnknownTopicOrPartitionError for that record alone,
   * after the metadata wait (then at once for unknownTopicCacheMs).
   */
  produce(value: V, keyOrRecord?: K | null | ProduceOptions<K>, timestamp?: number | Date): Promise<Message<V, K>> {
    if (isRecordForm(keyOrRecord)) {
      const record = keyOrRecord as ProduceOptions<K>;
      return this.enqueue(record.topic, value, record.key ?? null, record.timestamp, record.headers, record.partition, null);
    }
    return this.enqueue(undefined, value, (keyOrRecord as K | null | undefined) ?? null, timestamp, undefined, undefined, null);
  }

  /**
   * produce() in its record form with a callback for the message's one report: what operators
   * build on to correlate each source value with its outcome without scanning deliveryReports$.
   */
  send(value: V, record: ProduceOptions<K>, onReport: ((report: DeliveryReport<V, K>) => void) | null): Promise<Message<V, K>> {
    return this.enqueue(record.topic, value, record.key ?? null, record.timestamp, record.headers, record.partition, onReport);
  }

  private enqueue(
    recordTopic: string | undefined,
    value: V,
    key: K | null,
    timestamp: number | Date | undefined,
    headers: ProduceOptions['headers'],
    partition: number | undefined,
    onReport: ((report: DeliveryReport<V, K>) => void) | null,
  ): Promise<Message<V, K>> {
    if (this.state !== 'running' || this.stopRequested) {
      return Promise.reject(new ProducerStoppedError(this.state === 'idle' ? 'the producer is not started (autoStart is false): call start()' : 'the producer is stopped'));
    }
    if (this.transactions !== null) {
      try {
        this.transactions.requireOpen();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const topic = recordTopic ?? this.topic;
    if (typeof topic !== 'string' || topic.length === 0) {
      return Promise.reject(new RecordTypeError('topic', this.topic === undefined ? 'a non-empty string (this producer has no default topic: produce(value, { topic, ... }))' : 'a non-empty string', recordTopic));
    }
    return this.admit(topic, value, key, timestamp, headers, partition, onReport);
  }

  /**
   * Accepts a message from a produce() call made while the producer ran: also after stop() was
   * called, since stop() sends every message of the calls made before it.
   */
  private admit(
    topic: string,
    value: V,
    key: K | null,
    timestamp: number | Date | undefined,
    headers: ProduceOptions['headers'],
    partition: number | undefined,
    onReport: ((report: DeliveryReport<V, K>) => void) | null,
  ): Promise<Message<V, K>> {
    if (this.state === 'stopped') return Promise.reject(new ProducerStoppedError('stop() gave up before this produce() call was accepted; the message was not sent'));
    // The common case (metadata known, room in the queue) accepts the message synchronously:
    // no promise hop per message, and a produce() called before stop() is always accepted.
    // The waits are methods of their own: a closure here would cost every call a context object.
    if (!this.isReady) return this.admitAfter(this.ready ??= this.startUp(), false, topic, value, key, timestamp, headers, partition, onReport);
    const partitions = this.transport.knownPartitionsOf(topic);
    if (partitions === undefined) return this.admitAfter(this.lookUp(topic), true, topic, value, key, timestamp, headers, partition, onReport);
    const traced = this.tracing?.begin(topic, headers, onReport, value);
    if (traced !== undefined && traced !== null) {
      headers = traced.headers;
      onReport = traced.onReport;
    }
    try {
      const message = this.prepare(topic, value, key, timestamp, headers, partition, partitions);
      if (this.roomNow(message)) return this.accept(message, onReport);
      return this.acceptWhenRoom(message, onReport);
    } catch (error) {
      traced?.refused(error);
      return Promise.reject(error);
    }
  }

  /**
   * admit() once `wait` is over: the producer's start-up, or the metadata look-up of a topic met
   * for the first time (or one that left the cache: deleted, or a refresh failed), which only its
   * own records wait for. Counted meanwhile, so flush() and stop() wait for the call.
   */
  private admitAfter(
    wait: Promise<unknown>,
    lookingUp: boolean,
    topic: string,
    value: V,
    key: K | null,
    timestamp: number | Date | undefined,
    headers: ProduceOptions['headers'],
    partition: number | undefined,
    onReport: ((report: DeliveryReport<V, K>) => void) | null,
  ): Promise<Message<V, K>> {
    this.admitting++;
    return wait.then(
      () => {
        try {
          if (lookingUp && this.transport.knownPartitionsOf(topic) === undefined) throw new UnknownTopicOrPartitionError(`topic ${topic} has no partitions in the metadata`);
          return this.admit(topic, value, key, timestamp, headers, partition, onReport);
        } finally {
          this.admissionEnded();
        }
      },
      (error: unknown) => {
        this.admissionEnded();
        throw error;
      },
    );
  }

  /** The topic's metadata, fetched once for all the records waiting for it. */
  private lookUp(topic: string): Promise<unknown> {
    let lookup = this.topicLookups.get(topic);
    if (lookup === undefined) {
      lookup = this.transport.partitionsOf(topic).finally(() => this.topicLookups.delete(topic));
      this.topicLookups.set(topic, lookup);
    }
    return lookup;
  }

  private prepare(
    topic: string,
    value: V,
    key: K | null,
    timestamp: number | Date | undefined,
    rawHeaders: ProduceOptions['headers'],
    explicitPartition: number | undefined,
    partitions: readonly number[],
  ): PendingMessage<V, K> {
    // undefined is a caller's slip (a missing field, a function that returned nothing), not a
    // tombstone: writing one would delete the key's data under compaction. null is the tombstone.
    if (value === undefined) throw new RecordTypeError('value', 'a Buffer, a Uint8Array or null (null is the tombstone; undefined is refused)', value);
    let valueBytes: Buffer | null;
    let keyBytes: Buffer | null;
    const serializer = this.options.serializer;
    if (serializer === null) {
      valueBytes = assertBytes(value, 'value');
      keyBytes = assertBytes(key, 'key');
    } else {
      let result: unknown;
      try {
        result = serializer(value, key);
      } catch (error) {
        throw asKafkaRxError(error, 'the serializer threw', (message, cause) => new SerializationError(message, { cause }));
      }
      if (!Array.isArray(result) || result.length !== 2) throw new RecordTypeError('serializer result', 'a [value, key] pair of Buffers or nulls', result);
      valueBytes = assertBytes(result[0], 'value');
      keyBytes = assertBytes(result[1], 'key');
    }
    const headers = normaliseHeaders(rawHeaders);
    if (explicitPartition !== undefined && !Number.isInteger(explicitPartition)) throw new RecordTypeError('partition', 'an integer partition id', explicitPartition);
    const partition = checkedPartition(explicitPartition !== undefined ? explicitPartition : this.partitionOf(keyBytes, partitions, topic), partitions);
    const now = Date.now();
    const time = timestamp === undefined ? now : toMillis(timestamp);
    // Read while key and value are in cache; the planner sizes batches with it, not with them.
    const size = recordSizeBound(keyBytes, valueBytes, headers);
    const message = new PendingMessage<V, K>(
      topic, partition, time, valueBytes, keyBytes, headers, value, key ?? undefined,
      // asyncScheduler's clock is Date.now(): read it once per message, not twice.
      (this.options.scheduler === asyncScheduler ? now : this.options.scheduler.now()) + this.options.deliveryTimeoutMs, size,
    );
    message.broker = this.transport.leaderOf(topic, partition);
    return message;
  }

  /** The partitioner's choice; a caller's partitioner that throws fails this record alone, with a typed error. */
  private partitionOf(key: Buffer | null, partitions: readonly number[], topic: string): number {
    try {
      return this.partition(key, partitions, topic);
    } catch (error) {
      throw asKafkaRxError(error, 'the partitioner threw', (message, cause) => new PartitionerError(message, { cause }));
    }
  }

  /**
   * Takes the record's bytes and a place in the broker's queue now if there is room for both;
   * throws QueueFullError if not and not blocking (giving back what it took). A record that may
   * wait keeps the bytes it took: it waits for the rest holding them, ahead of later callers.
   */
  private roomNow(message: PendingMessage<V, K>): boolean {
    if (this.outcomes.pullQueueFull) {
      this.refuseIfTooLarge(message);
      if (this.options.blockOnQueueFull) return false;
      throw new QueueFullError(`maxQueuedMessages (${this.options.maxQueuedMessages}) delivery reports wait for getDeliveryReport()`);
    }
    if (!this.queuedBytes.tryTake(message as PendingMessage)) {
      this.refuseIfTooLarge(message);
      if (this.options.blockOnQueueFull) return false;
      throw new QueueFullError(`the producer holds ${this.queuedBytes.total} bytes of records; ${message.size} more would pass maxQueuedBytes (${this.options.maxQueuedBytes})`);
    }
    if (this.queues.tryAdd(message.broker)) return true;
    if (this.options.blockOnQueueFull) return false;
    this.queuedBytes.release(message as PendingMessage);
    throw new QueueFullError(`the queue for broker ${message.broker} holds maxQueuedMessages (${this.options.maxQueuedMessages}) messages`);
  }

  /** A record that alone passes maxQueuedBytes would wait forever: refused at once. */
  private refuseIfTooLarge(message: PendingMessage<V, K>): void {
    if (message.size > this.options.maxQueuedBytes) {
      throw new RecordTooLargeError(`the record takes up to ${message.size} bytes, more than maxQueuedBytes (${this.options.maxQueuedBytes}), all the producer may hold`);
    }
  }

  private async acceptWhenRoom(message: PendingMessage<V, K>, onReport: ((report: DeliveryReport<V, K>) => void) | null): Promise<Message<V, K>> {
    // Counted from here until accepted or refused: flush() and stop() wait for this call.
    this.admitting++;
    message.onReport = onReport as PendingMessage['onReport'];
    this.waitingForRoom.add(message as PendingMessage);
    let placed = false;
    try {
      try {
        while (this.outcomes.pullQueueFull && this.state !== 'stopped') await this.outcomes.waitForPullRoom();
        // Settled already when stop() gave up while it waited for report room: nothing to take then.
        if (!message.settled && !message.holdsBytes && !this.queuedBytes.tryTake(message as PendingMessage)) await this.queuedBytes.waitFor(message as PendingMessage);
        placed = this.queues.tryAdd(message.broker);
        if (!placed) {
          await this.queues.waitForRoom(message.broker);
          placed = true;
        }
      } catch (error) {
        // stop() gave up while this call waited: it has reported the message failed, not sent.
        if (!message.settled) throw error;
      } finally {
        this.waitingForRoom.delete(message as PendingMessage);
      }
      if (this.state === 'stopped' && !message.settled) this.failUnsent(message as PendingMessage);
      if (message.settled) {
        // Its bytes, if it took any, were given back when stop() settled it.
        if (placed) this.queues.remove(message.broker, 1);
        if (this.options.sync) throw message.error;
        return publicMessage(message);
      }
      return this.accept(message, onReport);
    } finally {
      this.admissionEnded();
    }
  }

  /** A produce() call made before stop() that stop() gave up on before it left: reported failed, not written. */
  private failUnsent(message: PendingMessage): void {
    this.outcomes.track(message);
    this.stats.produced++;
    this.stats.topics.of(message.topic).produced++;
    this.outcomes.settle(message, new ProducerStoppedError(`stop() gave up after pendingTimeoutMs (${this.options.pendingTimeoutMs} ms) while produce() waited for room; the message was not sent`));
  }

  private accept(message: PendingMessage<V, K>, onReport: ((report: DeliveryReport<V, K>) => void) | null): Promise<Message<V, K>> {
    message.onReport = onReport as PendingMessage['onReport'];
    const settled = this.options.sync ? this.whenSettled(message) : null;
    this.outcomes.track(message as PendingMessage);
    if (this.idempotence !== null) {
      const buffer = this.buffers.of(message.topic, message.partition);
      message.buffer = buffer;
      buffer.accept(message as PendingMessage);
    }
    this.stats.produced++;
    this.stats.topics.of(message.topic).produced++;
    this.stage(message as PendingMessage);
    return settled ?? Promise.resolve(publicMessage(message));
  }

  private stage(message: PendingMessage): void {
    this.staged[this.stagedCount++] = message;
    this.stagedBytes += message.size;
    if (this.stagedCount >= STAGE_LIMIT || this.stagedBytes >= this.stageBytesLimit) {
      this.releaseStaged();
    } else if (!this.stageScheduled) {
      this.stageScheduled = true;
      queueMicrotask(this.releaseLater);
    }
  }

  /** Pushes the staged messages into the pipeline, one chunk per leader broker. */
  private releaseStaged(): void {
    const count = this.stagedCount;
    if (count === 0) return;
    const chunk = this.staged.slice(0, count) as PendingMessage[];
    // Settled messages must not stay reachable from here.
    this.staged.fill(undefined, 0, count);
    this.stagedCount = 0;
    this.stagedBytes = 0;
    this.push(chunk);
  }

  private push(messages: PendingMessage[]): void {
    const input = this.input;
    if (input === null) {
      // After stop() there is no pipeline to join: stop() has settled these already.
      for (const message of messages) this.queues.remove(message.broker, 1);
      return;
    }
    const broker = messages[0].broker;
    let oneBroker = true;
    for (let i = 1; i < messages.length && oneBroker; i++) oneBroker = messages[i].broker === broker;
    if (oneBroker) {
      input.next(messages);
      return;
    }
    const byBroker = new Map<number, PendingMessage[]>();
    for (const message of messages) {
      let chunk = byBroker.get(message.broker);
      if (chunk === undefined) byBroker.set(message.broker, (chunk = youngArray()));
      chunk.push(message);
    }
    for (const chunk of byBroker.values()) input.next(chunk);
  }

  /**
   * Sends everything queued now and resolves when every message produced so far has its outcome,
   * including those of produce() calls still waiting for metadata or for room in the queue.
   */
  async flush(): Promise<void> {
    this.urgent++;
    try {
      await this.sendEverything();
    } finally {
      this.urgent--;
    }
  }

  /** Until every produce() call so far is accepted (or refused) and every accepted message settled. */
  private async sendEverything(): Promise<void> {
    do {
      this.releaseStaged();
      this.flush$.next();
      await this.whenAdmitted();
      this.releaseStaged();
      this.flush$.next();
      await this.outcomes.whenIdle();
    } while (this.admitting > 0);
  }

  private admissionEnded(): void {
    if (--this.admitting === 0) for (const wake of this.admittedWaiters.splice(0)) wake();
  }

  private whenAdmitted(): Promise<void> {
    if (this.admitting === 0) return Promise.resolve();
    return new Promise((resolve) => this.admittedWaiters.push(resolve));
  }

  /**
   * Sends at once what is queued and what every produce() call made before it brings (calls still
   * waiting for metadata or for room included), waits up to pendingTimeoutMs for every outcome, then
   * fails whatever remains with ProducerStoppedError (MaybeWrittenError around it for a message
   * whose request was on the wire), those of calls still waiting for room included. produce()
   * afterwards rejects.
   */
  stop(): Promise<void> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = this.stopNow();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * Produces every item of a lazy source with pull-based backpressure, yielding each item's report
   * in input order: the source is read only while fewer than maxInFlight records are outstanding.
   */
  sendAll<T>(items: Iterable<T> | AsyncIterable<T>, options: SendAllOptions<T, V, K> = {}): AsyncGenerator<DeliveryReport<V, K>, void, undefined> {
    return sendAll(this, items, options);
  }

  /**
   * pykafka's pull-style delivery reports (deliveryReports: true). Rejects with ConfigError when
   * none are kept: deliveryReports is false, or sync is true (each produce() then resolves or
   * rejects with its own outcome, and reports are not kept twice).
   */
  getDeliveryReport(options: { block?: boolean; timeoutMs?: number } = {}): Promise<DeliveryReport<V, K> | undefined> {
    if (this.options.sync && this.options.deliveryReports) {
      return Promise.reject(new ConfigError('sync', 'false for getDeliveryReport(): with sync: true each produce() resolves or rejects with its own outcome and no reports are kept', true));
    }
    return this.outcomes.getDeliveryReport(options) as Promise<DeliveryReport<V, K> | undefined>;
  }

  /**
   * Transactional producers (transactionalId): finds the transaction coordinator and gets the
   * producer id and epoch for the id, fencing any older instance with the same id (its open
   * transaction is aborted). Once per producer, before the first transaction.
   */
  async initTransactions(): Promise<void> {
    const transactions = this.requireTransactions('initTransactions()');
    if (this.state === 'idle') throw new ProducerStoppedError('the producer is not started (autoStart is false): call start()');
    await (this.ready ??= this.startUp());
    await transactions.initTransactions();
  }

  /** Opens a transaction: produce() is allowed until commitTransaction() or abortTransaction(). */
  beginTransaction(): void {
    this.requireTransactions('beginTransaction()').beginTransaction();
  }

  /**
   * Sends everything produced in the transaction, waits for every record's answer, then commits:
   * read_committed readers see all of its records (and the group its offsets) or none. The held
   * delivery reports come out as acknowledged once the commit is done. A record that failed makes
   * the commit fail with TransactionAbortRequiredError: abort then.
   */
  async commitTransaction(): Promise<void> {
    return this.requireTransactions('commitTransaction()').commitTransaction();
  }

  /** Aborts the open transaction; its records are reported failed with TransactionAbortedError. */
  async abortTransaction(): Promise<void> {
    return this.requireTransactions('abortTransaction()').abortTransaction();
  }

  /**
   * Commits a consumer group's offsets with the transaction (consume-transform-produce): `offset`
   * is the next record to read. With any consumer: pass its group id (and generation and member
   * id, so the group coordinator can fence a zombie).
   */
  async sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: GroupMetadata): Promise<void> {
    return this.requireTransactions('sendOffsetsToTransaction()').sendOffsetsToTransaction(offsets, group);
  }

  /**
   * One transaction around `work`: begins it, runs `work(this)`, commits when the work's promise
   * resolves and aborts when it rejects (rethrowing its error). Resolves with the work's result.
   */
  async transaction<T>(work: (producer: this) => Promise<T> | T): Promise<T> {
    this.beginTransaction();
    let result: T;
    try {
      result = await work(this);
    } catch (error) {
      await this.abortTransaction().catch(() => undefined);
      throw error;
    }
    try {
      await this.commitTransaction();
    } catch (error) {
      if (this.transactions!.manager.state === 'abortable-error') await this.abortTransaction().catch(() => undefined);
      throw error;
    }
    return result;
  }

  /** The transaction manager's state, for logs and specs; null without a transactionalId. */
  get transactionState(): string | null {
    return this.transactions?.manager.state ?? null;
  }

  private requireTransactions(operation: string): ProducerTransactions {
    if (this.transactions === null) throw new ConfigError('transactionalId', `a transactional id for ${operation}`, null);
    return this.transactions;
  }

  /** Snapshots of the producer's state every statsIntervalMs, for dashboards and benchmarks. */
  get stats$(): Observable<ProducerStatsSnapshot> {
    return interval(this.options.statsIntervalMs, this.options.scheduler).pipe(map(() => this.statsSnapshot()));
  }

  statsSnapshot(): ProducerStatsSnapshot {
    return {
      time: this.options.scheduler.now(),
      produced: this.stats.produced,
      acknowledged: this.outcomes.acknowledged,
      failed: this.outcomes.failed,
      pending: this.outcomes.pendingCount,
      queuedPerBroker: this.queues.snapshot(),
      queued: this.queues.totalQueued,
      queuedBytes: this.queuedBytes.total,
      requests: this.stats.requests,
      bytes: this.stats.bytes,
      requestsPerBroker: Object.fromEntries(this.stats.requestsPerBroker),
      retries: this.stats.retries,
      errors: this.stats.errors,
      epochBumps: this.idempotence?.epochBumps ?? 0,
      topics: this.stats.topics.snapshot(),
    };
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  private async stopNow(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      this.outcomes.complete();
      return;
    }
    this.stopRequested = true;
    this.urgent++;
    // produce() calls made before stop() that still wait for metadata are accepted first.
    await this.ready?.catch(() => undefined);
    this.state = 'stopping';
    const idle = this.sendEverything();
    const limit = this.options.pendingTimeoutMs;
    if (limit === Infinity) {
      await idle;
    } else {
      let timer: Subscription | undefined;
      await Promise.race([idle, new Promise<void>((resolve) => (timer = this.options.scheduler.schedule(resolve, limit)))]);
      timer?.unsubscribe();
    }
    // An open transaction will never commit now: abort it, and its records are reported failed.
    await this.transactions?.abandon(limit === Infinity ? TRANSACTION_CALL_TIMEOUT_MS : limit);
    this.state = 'stopped';
    const gaveUp = new ProducerStoppedError(`stop() gave up after pendingTimeoutMs (${limit} ms) while produce() waited for room; the message was not sent`);
    // Out of the line first: bytes given back below must not go to a caller that stop() fails.
    this.queuedBytes.rejectWaiters(gaveUp);
    // Every call made before stop() gets its report: those still waiting for room fail, never sent.
    for (const message of this.waitingForRoom) this.failUnsent(message);
    this.queues.rejectWaiters(gaveUp);
    this.outcomes.failAll(() => new ProducerStoppedError(`stop() gave up waiting for an acknowledgement after pendingTimeoutMs (${limit} ms)`));
    this.urgent--;
    this.input?.complete();
    this.pipeline?.unsubscribe();
    this.pipeline = null;
    this.input = null;
    this.state = 'stopped';
    this.syncWaiters?.close();
    this.outcomes.complete();
  }

  private whenSettled(message: PendingMessage<V, K>): Promise<Message<V, K>> {
    const waiter = (this.syncWaiters ??= new SyncWaiters(this.options.scheduler, this.options.pendingTimeoutMs)).wait<V, K>();
    message.waiter = waiter;
    return waiter.promise;
  }
}

/**
 * Milliseconds since the epoch as a record can hold them: 0 or later (a negative time other than
 * -1, "none", is not a time to Kafka, and the Java client refuses it likewise) and exact in a
 * JavaScript number (2^53 - 1, far inside int64). Anything else would be written wrapped or fail
 * its whole batch at encoding.
 */
function toMillis(timestamp: number | Date): number {
  const millis = timestamp instanceof Date ? timestamp.getTime() : timestamp;
  if (typeof millis !== 'number' || !Number.isFinite(millis)) throw new RecordTypeError('timestamp', 'milliseconds since the epoch or a Date', timestamp);
  const whole = Math.trunc(millis);
  if (whole < 0 || whole > Number.MAX_SAFE_INTEGER) {
    throw new RecordTypeError('timestamp', `milliseconds since the epoch from 0 to ${Number.MAX_SAFE_INTEGER} (or a Date)`, timestamp);
  }
  return whole;
}

/** A header value as bytes: a string as UTF-8, bytes as they are, null as null; undefined is refused. */
function headerBytes(value: unknown, field: string): Buffer | null {
  if (typeof value === 'string') return Buffer.from(value);
  if (value === undefined) throw new RecordTypeError(field, 'a string, a Buffer, a Uint8Array or null', value);
  return assertBytes(value, field);
}

function normaliseHeaders(headers: ProduceOptions['headers']): RecordHeader[] | undefined {
  // Most records have no headers: they must not pay for headerList's closure context.
  if (headers === undefined || headers === null) return undefined;
  return headerList(headers);
}

function headerList(headers: NonNullable<ProduceOptions['headers']>): RecordHeader[] {
  if (headers instanceof Map) {
    const list: RecordHeader[] = [];
    for (const [key, value] of headers) {
      if (typeof key !== 'string') throw new RecordTypeError('headers key', 'a string', key);
      list.push({ key, value: headerBytes(value, `headers.${key}`) });
    }
    return list;
  }
  // Object.entries() would take a string's characters (or nothing of a number) as headers.
  if (!Array.isArray(headers) && (typeof headers !== 'object' || Buffer.isBuffer(headers) || headers instanceof Uint8Array)) {
    throw new RecordTypeError('headers', 'an array of { key, value }, an object or a Map of header values', headers);
  }
  if (!Array.isArray(headers)) return Object.entries(headers).map(([key, value]) => ({ key, value: headerBytes(value, `headers.${key}`) }));
  let list: RecordHeader[] = headers;
  headers.forEach((header, index) => {
    if (header === null || typeof header !== 'object' || typeof header.key !== 'string') {
      throw new RecordTypeError(`headers[${index}].key`, 'a string', header?.key);
    }
    if (header.value === undefined) throw new RecordTypeError(`headers[${index}].value`, 'a Buffer, a Uint8Array or null', header.value);
    const bytes = assertBytes(header.value, `headers[${index}].value`);
    // A Uint8Array is sent through a Buffer view of it: the caller's array is left as given.
    if (bytes !== header.value) {
      if (list === headers) list = headers.slice();
      list[index] = { key: header.key, value: bytes };
    }
  });
  return list;
}

