import { expect } from 'chai';
import type { TestScheduler } from 'rxjs/testing';
import { CoordinatorLoadInProgressError, NotCoordinatorError, TransactionAbortableError } from '../../../lib/errors/index.js';
import type { KafkaApi } from '../../../lib/protocol/api.js';
import { EndTxn } from '../../../lib/protocol/end-txn.js';
import { CoordinatorKeyType, CoordinatorRequests, throwIfError } from '../../../lib/producer/transactions/coordinator-requests.js';
import type { Answered, CoordinatorNode, TransactionTransport } from '../../../lib/producer/transactions/transaction-transport.js';
import { virtualClock } from '../../support/virtual-clock.js';

/** A coordinator whose answers are error codes, one per request (the last repeats), each request's time noted. */
class ErrorCodeCoordinator implements TransactionTransport {
  readonly sentAt: number[] = [];
  findCoordinatorCalls = 0;

  constructor(
    private readonly scheduler: TestScheduler,
    private readonly codes: number[],
  ) {}

  async sendToAny<Req, Res>(_api: KafkaApi<Req, Res>, request: Req): Promise<Answered<Res>> {
    this.findCoordinatorCalls++;
    const keys = (request as { keys: string[] }).keys;
    return { response: { throttleTimeMs: 0, coordinators: keys.map((key) => ({ key, nodeId: 1, host: 'h', port: 9092, errorCode: 0, errorMessage: null })) } as Res, version: 4 };
  }

  async sendTo<Req, Res>(): Promise<Answered<Res>> {
    this.sentAt.push(this.scheduler.now());
    const code = this.codes.length > 1 ? this.codes.shift()! : this.codes[0];
    return { response: { errorCode: code } as Res, version: 4 };
  }

  async transactionVersionOf(): Promise<number> {
    return 0;
  }

  async versionAt(_node: CoordinatorNode, api: KafkaApi<unknown, unknown>): Promise<number> {
    return api.maxVersion;
  }

  async topicIdOf(): Promise<Buffer | undefined> {
    return undefined;
  }
}

/** The request's outcome and the virtual time it came at, the clock moved to `untilMs`. */
async function outcomeOf<T>(clock: ReturnType<typeof virtualClock>, promise: Promise<T>, untilMs: number): Promise<{ value?: T; error?: unknown; at: number }> {
  let outcome: { value?: T; error?: unknown; at: number } | undefined;
  promise.then((value) => (outcome = { value, at: clock.scheduler.now() }), (error: unknown) => (outcome = { error, at: clock.scheduler.now() }));
  await clock.advanceTo(untilMs);
  if (outcome === undefined) throw new Error(`still pending at ${untilMs} ms`);
  return outcome;
}

describe('CoordinatorRequests: the retries of a coordinator request (TestScheduler)', () => {
  const options = (scheduler: TestScheduler, maxBlockMs: number) => ({ retryBackoffMs: 100, retryBackoffMaxMs: 1_000, maxBlockMs, scheduler });
  const endTxn = (requests: CoordinatorRequests) =>
    requests.request(CoordinatorKeyType.transaction, 'tx-1', EndTxn, () => ({}) as never, ({ response }) => throwIfError((response as { errorCode: number }).errorCode, 'EndTxn'));

  it('asks a busy coordinator again after pauses doubling from retryBackoffMs to retryBackoffMaxMs, and gives up with the last error before a pause would pass maxBlockMs', async () => {
    const clock = virtualClock();
    const { scheduler } = clock;
    const transport = new ErrorCodeCoordinator(scheduler, [14]); // COORDINATOR_LOAD_IN_PROGRESS, every time
    const requests = new CoordinatorRequests(transport, options(scheduler, 4_000));
    const { error, at } = await outcomeOf(clock, endTxn(requests), 5_000);
    // Pauses 100, 200, 400, 800, 1000; the next (1000) would end at 3500 + 1000 > 4000.
    expect(transport.sentAt).to.deep.equal([0, 100, 300, 700, 1_500, 2_500, 3_500]);
    expect(error).to.be.instanceOf(CoordinatorLoadInProgressError);
    expect(at).to.equal(3_500);
    expect(transport.findCoordinatorCalls, 'a busy coordinator is not looked up again').to.equal(1);
  });

  it('a success after failures ends the retries; NOT_COORDINATOR looks the coordinator up again first', async () => {
    const clock = virtualClock();
    const { scheduler } = clock;
    const transport = new ErrorCodeCoordinator(scheduler, [NotCoordinatorError.code, 14, 0]);
    const requests = new CoordinatorRequests(transport, options(scheduler, 60_000));
    const { error, at } = await outcomeOf(clock, endTxn(requests), 5_000);
    expect(error).to.equal(undefined);
    expect(transport.sentAt).to.deep.equal([0, 100, 300]);
    expect(at).to.equal(300);
    expect(transport.findCoordinatorCalls).to.equal(2);
  });

  it('an error that time will not cure is thrown at once, without a pause', async () => {
    const clock = virtualClock();
    const { scheduler } = clock;
    const transport = new ErrorCodeCoordinator(scheduler, [TransactionAbortableError.code]);
    const requests = new CoordinatorRequests(transport, options(scheduler, 60_000));
    const { error, at } = await outcomeOf(clock, endTxn(requests), 5_000);
    expect(error).to.be.instanceOf(TransactionAbortableError);
    expect(at).to.equal(0);
    expect(transport.sentAt).to.deep.equal([0]);
  });
});
