import { expect } from 'chai';
import { asyncScheduler, VirtualTimeScheduler } from 'rxjs';
import {
  CoordinatorLoadInProgressError,
  InvalidTxnStateError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionAbortRequiredError,
  TransactionStateError,
  UnknownProducerIdError,
  kafkaErrorFor,
} from '../../../lib/errors/index.js';
import type { KafkaApi } from '../../../lib/protocol/api.js';
import { TransactionManager } from '../../../lib/producer/transactions/transaction-manager.js';
import { ProducerTransactions } from '../../../lib/producer/transactions/producer-transactions.js';
import { PartitionBuffers } from '../../../lib/producer/partition-buffer.js';
import { DeliveryOutcomes } from '../../../lib/producer/delivery-reports.js';
import { IdempotentState } from '../../../lib/producer/idempotence.js';
import type { Answered, CoordinatorNode, TransactionTransport } from '../../../lib/producer/transactions/transaction-transport.js';

interface Call {
  api: string;
  version: number;
  node: number | 'any';
  request: any;
}

type Handler = (request: any, version: number) => any;

/**
 * A scripted coordinator: answers each API from a queue of answers (the last one repeats), records
 * every call with the version it was negotiated at, and speaks the broker versions given.
 */
class ScriptedCoordinator implements TransactionTransport {
  readonly calls: Call[] = [];
  private readonly scripts = new Map<string, Handler[]>();
  /** While set, requests to coordinators wait for it (a request under way). */
  gate: Promise<void> | null = null;

  constructor(
    private readonly level: number,
    private readonly brokerMax: Record<string, number>,
  ) {}

  on(api: string, ...handlers: Handler[]): this {
    this.scripts.set(api, handlers);
    return this;
  }

  callsOf(api: string): Call[] {
    return this.calls.filter((c) => c.api === api);
  }

  private answer<Res>(api: KafkaApi<any, Res>, node: number | 'any', request: any, version: number): Answered<Res> {
    this.calls.push({ api: api.name, version, node, request });
    const queue = this.scripts.get(api.name);
    if (queue === undefined || queue.length === 0) throw new Error(`no answer scripted for ${api.name}`);
    const handler = queue.length > 1 ? queue.shift()! : queue[0];
    return { response: handler(request, version), version };
  }

  async sendToAny<Req, Res>(api: KafkaApi<Req, Res>, request: Req): Promise<Answered<Res>> {
    return this.answer(api, 'any', request, await this.versionAt({ nodeId: 0, host: '', port: 0 }, api));
  }

  async sendTo<Req, Res>(node: CoordinatorNode, api: KafkaApi<Req, Res>, request: Req): Promise<Answered<Res>> {
    const version = await this.versionAt(node, api);
    if (this.gate !== null) {
      this.calls.push({ api: `${api.name} (sent)`, version, node: node.nodeId, request });
      await this.gate;
    }
    return this.answer(api, node.nodeId, request, await this.versionAt(node, api));
  }

  async transactionVersionOf(): Promise<number> {
    return this.level;
  }

  async versionAt(_node: CoordinatorNode, api: KafkaApi<unknown, unknown>): Promise<number> {
    return Math.min(api.maxVersion, this.brokerMax[api.name] ?? api.maxVersion);
  }

  async topicIdOf(topic: string): Promise<Buffer> {
    return Buffer.alloc(16, topic.length);
  }
}

const V1_BROKER = { FindCoordinator: 4, InitProducerId: 5, AddPartitionsToTxn: 5, AddOffsetsToTxn: 4, EndTxn: 4, TxnOffsetCommit: 4 };
const V2_BROKER = { FindCoordinator: 6, InitProducerId: 5, AddPartitionsToTxn: 5, AddOffsetsToTxn: 4, EndTxn: 5, TxnOffsetCommit: 6 };

const found = (nodeId = 1) => (request: any) => ({ throttleTimeMs: 0, coordinators: request.keys.map((key: string) => ({ key, nodeId, host: 'h', port: 9092, errorCode: 0, errorMessage: null })) });
const initAnswer = (errorCode = 0, producerId = 7n, producerEpoch = 3) => () => ({ throttleTimeMs: 0, errorCode, producerId, producerEpoch, ongoingTxnProducerId: -1n, ongoingTxnProducerEpoch: -1 });
const added = (errorCode = 0) => (request: any) => ({
  throttleTimeMs: 0,
  errorCode: 0,
  transactions: [{ transactionalId: null, topics: request.transactions[0].topics.map((t: any) => ({ name: t.name, partitions: t.partitions.map((p: number) => ({ partitionIndex: p, errorCode })) })) }],
});
const ended = (errorCode = 0) => (request: any, version: number) => ({
  throttleTimeMs: 0,
  errorCode,
  producerId: version >= 5 ? request.producerId : -1n,
  producerEpoch: version >= 5 ? request.producerEpoch + 1 : -1,
});
const plain = (errorCode = 0) => () => ({ throttleTimeMs: 0, errorCode });
const committedOffsets = (errorCode = 0) => (request: any) => ({
  throttleTimeMs: 0,
  topics: request.topics.map((t: any) => ({ name: t.name, topicId: null, partitions: t.partitions.map((p: any) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
});

/** Runs a promise to its end, flushing virtual time whenever it waits on the scheduler. */
async function settle<T>(scheduler: VirtualTimeScheduler, promise: Promise<T>): Promise<T> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 10_000 && !done; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    scheduler.flush();
  }
  return promise;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

function managerOn(transport: ScriptedCoordinator, maxBlockMs = 60_000) {
  const scheduler = new VirtualTimeScheduler();
  const manager = new TransactionManager(transport, {
    transactionalId: 'tx-1',
    transactionTimeoutMs: 60_000,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1_000,
    maxBlockMs,
    scheduler,
  });
  return { manager, scheduler, run: <T>(p: Promise<T>) => settle(scheduler, p) };
}

describe('TransactionManager', () => {
  describe('initTransactions', () => {
    it('finds the coordinator, then InitProducerId with the transactional id and timeout', async () => {
      const transport = new ScriptedCoordinator(0, V1_BROKER).on('FindCoordinator', found(2)).on('InitProducerId', initAnswer());
      const { manager, run } = managerOn(transport);
      const identities: unknown[] = [];
      manager.onIdentityChange((identity) => identities.push(identity));
      await run(manager.initTransactions());
      expect(transport.calls.map((c) => `${c.api}@${c.node}`)).to.deep.equal(['FindCoordinator@any', 'InitProducerId@2']);
      expect(transport.calls[0].request).to.deep.equal({ keyType: 1, keys: ['tx-1'] });
      expect(transport.calls[1].request).to.include({ transactionalId: 'tx-1', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
      expect(manager.state).to.equal('ready');
      expect(manager.producerIdentity).to.deep.equal({ producerId: 7n, producerEpoch: 3 });
      expect(identities).to.deep.equal([{ producerId: 7n, producerEpoch: 3 }]);
    });

    it('retries COORDINATOR_LOAD_IN_PROGRESS and CONCURRENT_TRANSACTIONS after pauses of 100, 200, 400 ms (virtual time)', async () => {
      const transport = new ScriptedCoordinator(0, V1_BROKER)
        .on('FindCoordinator', found())
        .on('InitProducerId', initAnswer(14), initAnswer(51), initAnswer(14), initAnswer());
      const { manager, scheduler, run } = managerOn(transport);
      await run(manager.initTransactions());
      expect(transport.callsOf('InitProducerId')).to.have.length(4);
      expect(transport.callsOf('FindCoordinator'), 'a busy coordinator is not looked up again').to.have.length(1);
      expect(scheduler.now()).to.equal(100 + 200 + 400);
    });

    it('looks the coordinator up again on NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE, and asks the new one', async () => {
      const transport = new ScriptedCoordinator(0, V1_BROKER)
        .on('FindCoordinator', found(1), found(1), found(3))
        .on('InitProducerId', initAnswer(16), initAnswer(15), initAnswer());
      const { manager, run } = managerOn(transport);
      await run(manager.initTransactions());
      expect(transport.calls.map((c) => `${c.api}@${c.node}`)).to.deep.equal([
        'FindCoordinator@any', 'InitProducerId@1', 'FindCoordinator@any', 'InitProducerId@1', 'FindCoordinator@any', 'InitProducerId@3',
      ]);
    });

    it('gives up after maxBlockMs with the last error, and may be called again', async () => {
      const transport = new ScriptedCoordinator(0, V1_BROKER).on('FindCoordinator', found()).on('InitProducerId', initAnswer(14));
      const { manager, scheduler, run } = managerOn(transport, 1_000);
      const error = await rejection(run(manager.initTransactions()));
      expect(error).to.be.instanceOf(CoordinatorLoadInProgressError);
      expect(scheduler.now()).to.be.at.most(1_000);
      expect(manager.state).to.equal('uninitialized');
      transport.on('InitProducerId', initAnswer());
      await run(manager.initTransactions());
      expect(manager.state).to.equal('ready');
    });

    it('chooses transactions v2 when the coordinator finalized transaction.version 2 and speaks EndTxn v5, v1 otherwise', async () => {
      const v2 = managerOn(new ScriptedCoordinator(2, V2_BROKER).on('FindCoordinator', found()).on('InitProducerId', initAnswer()));
      await v2.run(v2.manager.initTransactions());
      expect(v2.manager.protocol).to.equal(2);
      expect(v2.manager.maxProduceVersion).to.equal(Infinity);
      const oldEndTxn = managerOn(new ScriptedCoordinator(2, { ...V2_BROKER, EndTxn: 4 }).on('FindCoordinator', found()).on('InitProducerId', initAnswer()));
      await oldEndTxn.run(oldEndTxn.manager.initTransactions());
      expect(oldEndTxn.manager.protocol).to.equal(1);
      const v1 = managerOn(new ScriptedCoordinator(0, V2_BROKER).on('FindCoordinator', found()).on('InitProducerId', initAnswer()));
      await v1.run(v1.manager.initTransactions());
      expect(v1.manager.protocol).to.equal(1);
      expect(v1.manager.maxProduceVersion, 'Produce v12 would tell the broker the producer speaks v2').to.equal(11);
    });

    it('a fenced or unauthorized InitProducerId is fatal', async () => {
      const { manager, run } = managerOn(new ScriptedCoordinator(0, V1_BROKER).on('FindCoordinator', found()).on('InitProducerId', initAnswer(53)));
      await rejection(run(manager.initTransactions()));
      expect(manager.state).to.equal('fatal-error');
      expect(() => manager.beginTransaction()).to.throw(TransactionStateError, /cannot go on/);
    });
  });

  describe('state machine', () => {
    it('refuses calls out of order with TransactionStateError, sending nothing', async () => {
      const transport = new ScriptedCoordinator(0, V1_BROKER).on('FindCoordinator', found()).on('InitProducerId', initAnswer()).on('EndTxn', ended());
      const { manager, run } = managerOn(transport);
      expect(() => manager.beginTransaction()).to.throw(TransactionStateError, /uninitialized/);
      expect(await rejection(manager.commitTransaction())).to.be.instanceOf(TransactionStateError);
      await run(manager.initTransactions());
      expect(await rejection(manager.initTransactions())).to.be.instanceOf(TransactionStateError);
      expect(await rejection(manager.abortTransaction())).to.be.instanceOf(TransactionStateError);
      expect(await rejection(manager.addPartitions([{ topic: 't', partition: 0 }]))).to.be.instanceOf(TransactionStateError);
      manager.beginTransaction();
      expect(() => manager.beginTransaction()).to.throw(TransactionStateError, /in-transaction/);
      await run(manager.commitTransaction());
      expect(manager.state).to.equal('ready');
      expect(transport.callsOf('EndTxn'), 'nothing joined: no transaction to end').to.have.length(0);
    });
  });

  describe('transactions v1', () => {
    async function ready() {
      const transport = new ScriptedCoordinator(0, V1_BROKER)
        .on('FindCoordinator', found())
        .on('InitProducerId', initAnswer())
        .on('AddPartitionsToTxn', added())
        .on('AddOffsetsToTxn', plain())
        .on('TxnOffsetCommit', committedOffsets())
        .on('EndTxn', ended());
      const env = managerOn(transport);
      await env.run(env.manager.initTransactions());
      env.manager.beginTransaction();
      return { transport, ...env };
    }

    it('batches AddPartitionsToTxn: partitions asked for together go in one request, those asked while it is under way in the next, none of those twice', async () => {
      const { transport, manager, run } = await ready();
      let release!: () => void;
      transport.gate = new Promise((resolve) => (release = resolve));
      const first = Promise.all([
        manager.addPartitions([{ topic: 'a', partition: 0 }, { topic: 'a', partition: 1 }]),
        manager.addPartitions([{ topic: 'b', partition: 5 }]),
      ]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(transport.callsOf('AddPartitionsToTxn (sent)')).to.have.length(1);
      const second = manager.addPartitions([{ topic: 'a', partition: 1 }, { topic: 'c', partition: 2 }]);
      const third = manager.addPartitions([{ topic: 'c', partition: 3 }]);
      transport.gate = null;
      release();
      await run(Promise.all([first, second, third]));
      const requests = transport.callsOf('AddPartitionsToTxn');
      expect(requests.map((c) => c.version)).to.deep.equal([3, 3]);
      expect(requests[0].request.transactions[0]).to.deep.include({ transactionalId: 'tx-1', producerId: 7n, producerEpoch: 3 });
      expect(requests[0].request.transactions[0].topics).to.deep.equal([{ name: 'a', partitions: [0, 1] }, { name: 'b', partitions: [5] }]);
      expect(requests[1].request.transactions[0].topics).to.deep.equal([{ name: 'c', partitions: [2, 3] }]);
    });

    it('commit waits for the pending AddPartitionsToTxn and the drain, then EndTxn v4 (commit); the epoch stays', async () => {
      const { transport, manager, run } = await ready();
      void manager.addPartitions([{ topic: 'a', partition: 0 }]);
      const order: string[] = [];
      await run(manager.commitTransaction(async () => {
        order.push(`drain after ${transport.callsOf('AddPartitionsToTxn').length} add`);
        return null;
      }));
      const end = transport.callsOf('EndTxn');
      expect(order).to.deep.equal(['drain after 1 add']);
      expect(end.map((c) => c.version)).to.deep.equal([4]);
      expect(end[0].request).to.deep.equal({ transactionalId: 'tx-1', producerId: 7n, producerEpoch: 3, committed: true });
      expect(manager.producerIdentity).to.deep.equal({ producerId: 7n, producerEpoch: 3 });
      expect(manager.state).to.equal('ready');
    });

    it('a failed record makes the transaction abortable: commit refuses, abort ends it and bumps the epoch when sequences are out of step', async () => {
      const { transport, manager, run } = await ready();
      await run(manager.addPartitions([{ topic: 'a', partition: 0 }]));
      const error = await rejection(run(manager.commitTransaction(async () => new UnknownProducerIdError())));
      expect(error).to.be.instanceOf(TransactionAbortRequiredError);
      expect((error as TransactionAbortRequiredError).cause).to.be.instanceOf(UnknownProducerIdError);
      expect(manager.state).to.equal('abortable-error');
      expect(transport.callsOf('EndTxn')).to.have.length(0);
      expect(() => manager.beginTransaction()).to.throw(TransactionStateError, /abort the transaction first/);
      transport.on('InitProducerId', initAnswer(0, 7n, 4));
      await run(manager.abortTransaction());
      expect(transport.callsOf('EndTxn').map((c) => c.request.committed)).to.deep.equal([false]);
      const bump = transport.callsOf('InitProducerId')[1];
      expect(bump.request).to.include({ producerId: 7n, producerEpoch: 3 });
      expect(manager.producerIdentity).to.deep.equal({ producerId: 7n, producerEpoch: 4 });
      expect(manager.state).to.equal('ready');
    });

    it('TRANSACTION_ABORTABLE from AddPartitionsToTxn: abortable, abort goes on without a bump', async () => {
      const { transport, manager, run } = await ready();
      transport.on('AddPartitionsToTxn', added(120));
      expect(await rejection(run(manager.addPartitions([{ topic: 'a', partition: 0 }])))).to.be.instanceOf(TransactionAbortableError);
      expect(manager.state).to.equal('abortable-error');
      expect(await rejection(manager.commitTransaction())).to.be.instanceOf(TransactionAbortRequiredError);
      await run(manager.abortTransaction());
      expect(manager.state).to.equal('ready');
      expect(transport.callsOf('InitProducerId')).to.have.length(1);
    });

    it('PRODUCER_FENCED or INVALID_PRODUCER_EPOCH from EndTxn: fatal, the producer can do nothing more', async () => {
      for (const code of [90, 47]) {
        const { transport, manager, run } = await ready();
        await run(manager.addPartitions([{ topic: 'a', partition: 0 }]));
        transport.on('EndTxn', ended(code));
        expect(await rejection(run(manager.commitTransaction())), `code ${code}`).to.deep.equal(kafkaErrorFor(code, 'EndTxn (commit)'));
        expect(manager.state).to.equal('fatal-error');
        expect(() => manager.beginTransaction()).to.throw(TransactionStateError);
        expect(await rejection(manager.abortTransaction())).to.be.instanceOf(TransactionStateError);
      }
    });

    it('a fenced record batch is fatal; INVALID_TXN_STATE from the coordinator too', async () => {
      const { manager } = await ready();
      manager.recordFailed(new ProducerFencedError());
      expect(manager.state).to.equal('fatal-error');
      expect(manager.lastError).to.be.instanceOf(ProducerFencedError);
      const other = await ready();
      await other.run(other.manager.addPartitions([{ topic: 'a', partition: 0 }]));
      other.transport.on('EndTxn', ended(48));
      expect(await rejection(other.run(other.manager.commitTransaction()))).to.be.instanceOf(InvalidTxnStateError);
      expect(other.manager.state).to.equal('fatal-error');
    });

    it('sendOffsetsToTransaction: AddOffsetsToTxn to the transaction coordinator, then TxnOffsetCommit v4 to the group coordinator', async () => {
      const { transport, manager, run } = await ready();
      transport.on('FindCoordinator', found(2));
      await run(manager.sendOffsetsToTransaction(
        [{ topic: 'in', partition: 0, offset: 10n }, { topic: 'in', partition: 1, offset: 20n }],
        { groupId: 'g', generationId: 4, memberId: 'm-1' },
      ));
      expect(transport.calls.slice(2).map((c) => `${c.api}@${c.node}`)).to.deep.equal(['AddOffsetsToTxn@1', 'FindCoordinator@any', 'TxnOffsetCommit@2']);
      expect(transport.callsOf('FindCoordinator')[1].request).to.deep.equal({ keyType: 0, keys: ['g'] });
      const commit = transport.callsOf('TxnOffsetCommit')[0];
      expect(commit.version).to.equal(4);
      expect(commit.request).to.deep.include({ transactionalId: 'tx-1', groupId: 'g', producerId: 7n, producerEpoch: 3, generationIdOrMemberEpoch: 4, memberId: 'm-1' });
      expect(commit.request.topics[0].partitions.map((p: any) => p.committedOffset)).to.deep.equal([10n, 20n]);
      await run(manager.commitTransaction());
      expect(transport.callsOf('EndTxn'), 'offsets alone are a transaction to end').to.have.length(1);
    });

    it('commit waits for a sendOffsetsToTransaction() under way: EndTxn goes after its TxnOffsetCommit', async () => {
      const { transport, manager, run } = await ready();
      let release!: () => void;
      transport.gate = new Promise((resolve) => (release = resolve));
      const offsets = manager.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 10n }], { groupId: 'g' });
      const commit = manager.commitTransaction();
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(transport.calls.slice(2).map((c) => c.api)).to.deep.equal(['AddOffsetsToTxn (sent)']);
      transport.gate = null;
      release();
      await run(Promise.all([offsets, commit]));
      expect(transport.calls.slice(2).map((c) => c.api)).to.deep.equal(['AddOffsetsToTxn (sent)', 'AddOffsetsToTxn', 'FindCoordinator', 'TxnOffsetCommit', 'EndTxn']);
      expect(manager.state).to.equal('ready');
    });

    it('offsets that fail while the commit waits for them: nothing is committed, the transaction is left to abort', async () => {
      const { transport, manager, run } = await ready();
      transport.on('TxnOffsetCommit', committedOffsets(120));
      const offsets = manager.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 10n }], { groupId: 'g' });
      const error = await rejection(run(manager.commitTransaction()));
      expect(await rejection(offsets)).to.be.instanceOf(TransactionAbortableError);
      expect(error).to.be.instanceOf(TransactionAbortRequiredError);
      expect((error as TransactionAbortRequiredError).cause).to.be.instanceOf(TransactionAbortableError);
      expect(transport.callsOf('EndTxn')).to.have.length(0);
      await run(manager.abortTransaction());
      expect(transport.callsOf('EndTxn').map((c) => c.request.committed)).to.deep.equal([false]);
      expect(manager.state).to.equal('ready');
    });

    it('abort waits for a sendOffsetsToTransaction() under way, and its failure then does not disturb the abort', async () => {
      const { transport, manager, run } = await ready();
      transport.on('TxnOffsetCommit', committedOffsets(120));
      const offsets = manager.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 10n }], { groupId: 'g' });
      await run(manager.abortTransaction());
      expect(await rejection(offsets)).to.be.instanceOf(TransactionAbortableError);
      expect(transport.calls.slice(2).map((c) => c.api)).to.deep.equal(['AddOffsetsToTxn', 'FindCoordinator', 'TxnOffsetCommit', 'EndTxn']);
      expect(manager.state).to.equal('ready');
    });

    it('an UNKNOWN_MEMBER_ID from TxnOffsetCommit leaves the transaction abortable', async () => {
      const { transport, manager, run } = await ready();
      transport.on('TxnOffsetCommit', committedOffsets(25));
      await rejection(run(manager.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 1n }], { groupId: 'g' })));
      expect(manager.state).to.equal('abortable-error');
    });
  });

  describe('transactions v2 (KIP-890)', () => {
    it('adds partitions with no request, commits with EndTxn v5 and takes the bumped epoch for the next transaction', async () => {
      const transport = new ScriptedCoordinator(2, V2_BROKER).on('FindCoordinator', found()).on('InitProducerId', initAnswer()).on('EndTxn', ended()).on('TxnOffsetCommit', committedOffsets());
      const { manager, run } = managerOn(transport);
      const identities: unknown[] = [];
      manager.onIdentityChange((identity) => identities.push(identity));
      await run(manager.initTransactions());
      for (let i = 0; i < 2; i++) {
        manager.beginTransaction();
        await run(manager.addPartitions([{ topic: 'a', partition: 0 }]));
        await run(manager.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 5n }], { groupId: 'g' }));
        await run(i === 0 ? manager.commitTransaction() : manager.abortTransaction());
      }
      expect(transport.callsOf('AddPartitionsToTxn')).to.have.length(0);
      expect(transport.callsOf('AddOffsetsToTxn')).to.have.length(0);
      expect(transport.callsOf('EndTxn').map((c) => [c.version, c.request.producerEpoch, c.request.committed])).to.deep.equal([[5, 3, true], [5, 4, false]]);
      const commits = transport.callsOf('TxnOffsetCommit');
      expect(commits.map((c) => c.version)).to.deep.equal([6, 6]);
      expect(commits[0].request.topics[0].topicId).to.deep.equal(Buffer.alloc(16, 2));
      expect(identities).to.deep.equal([{ producerId: 7n, producerEpoch: 3 }, { producerId: 7n, producerEpoch: 4 }, { producerId: 7n, producerEpoch: 5 }]);
      expect(manager.state).to.equal('ready');
    });
  });
});

describe('ProducerTransactions: which partitions joined is kept in their partition buffers', () => {
  it('a partition joins once per transaction: its buffer remembers it; the next transaction asks again', async () => {
    const transport = new ScriptedCoordinator(0, V1_BROKER).on('FindCoordinator', found()).on('InitProducerId', initAnswer()).on('AddPartitionsToTxn', added()).on('EndTxn', ended());
    const { manager, run } = managerOn(transport);
    const buffers = new PartitionBuffers();
    const outcomes = new DeliveryOutcomes(false, 100);
    const idempotence = new IdempotentState(buffers, async () => ({ producerId: -1n, producerEpoch: -1 }), true);
    const transactions = new ProducerTransactions(manager, outcomes, idempotence, async () => undefined, asyncScheduler);
    await run(transactions.initTransactions());
    expect(idempotence.identity, 'the identity comes from the coordinator').to.deep.equal({ producerId: 7n, producerEpoch: 3 });
    transactions.beginTransaction();
    await run(transactions.joined([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]));
    await run(transactions.joined([{ topic: 't', partition: 1 }, { topic: 't', partition: 0 }]));
    expect(transport.callsOf('AddPartitionsToTxn')).to.have.length(1);
    expect(buffers.of('t', 0).joinedTransaction).to.equal(buffers.of('t', 1).joinedTransaction);
    expect(buffers.of('t', 2).joinedTransaction).to.equal(-1);
    await run(transactions.commitTransaction());
    transactions.beginTransaction();
    await run(transactions.joined([{ topic: 't', partition: 0 }]));
    expect(transport.callsOf('AddPartitionsToTxn').map((c) => c.request.transactions[0].topics)).to.deep.equal([[{ name: 't', partitions: [0, 1] }], [{ name: 't', partitions: [0] }]]);
  });
});

describe('ProducerTransactions.abandon(): stop() with a transaction open', () => {
  it('waits for the coordinator\'s abort at most limitMs, on the producer\'s scheduler', async () => {
    const transport = new ScriptedCoordinator(0, V1_BROKER).on('FindCoordinator', found()).on('InitProducerId', initAnswer()).on('AddPartitionsToTxn', added()).on('EndTxn', ended());
    const { manager, scheduler, run } = managerOn(transport);
    const buffers = new PartitionBuffers();
    const idempotence = new IdempotentState(buffers, async () => ({ producerId: -1n, producerEpoch: -1 }), true);
    const transactions = new ProducerTransactions(manager, new DeliveryOutcomes(false, 100), idempotence, async () => undefined, scheduler);
    await run(transactions.initTransactions());
    transactions.beginTransaction();
    await run(transactions.joined([{ topic: 't', partition: 0 }]));
    transport.gate = new Promise(() => undefined); // the coordinator never answers EndTxn
    const startedAt = scheduler.now();
    let abandonedAt = -1;
    await run(transactions.abandon(500).then(() => (abandonedAt = scheduler.now())));
    expect(abandonedAt - startedAt).to.equal(500);
    expect(transport.callsOf('EndTxn (sent)').map((c) => c.request.committed)).to.deep.equal([false]);
  });
});
