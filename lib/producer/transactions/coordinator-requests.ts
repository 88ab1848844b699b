import type { SchedulerLike } from 'rxjs';
import { attemptOnSchedule, type RetrySchedule } from '../../cluster/retry-schedule.js';
import { kafkaErrorFor, KafkaRxError } from '../../errors/index.js';
import type { KafkaApi } from '../../protocol/api.js';
import { CoordinatorKeyType, FindCoordinator } from '../../protocol/find-coordinator.js';
import { producerBackoff } from '../retry-policy.js';
import { coordinatorErrorAction } from './error-policy.js';
import type { Answered, CoordinatorNode, TransactionTransport } from './transaction-transport.js';

export interface CoordinatorRequestOptions {
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /** How long one call keeps retrying before it gives up with the last error (Java's max.block.ms). */
  maxBlockMs: number;
  scheduler: SchedulerLike;
}

/** The error a response carries (0: none), as a typed error; thrown so the retry loop sees it. */
export function throwIfError(errorCode: number, context: string): void {
  if (errorCode !== 0) throw kafkaErrorFor(errorCode, context);
}

/**
 * Requests to coordinators, each retried until it succeeds, fails for good, or maxBlockMs runs
 * out: a moved or unreachable coordinator is looked up again (FindCoordinator), a busy one
 * (COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS) is asked again after a pause that doubles
 * from retryBackoffMs to retryBackoffMaxMs on the injected scheduler. The coordinators found are
 * kept per key until an error says they moved.
 */
export class CoordinatorRequests {
  private readonly known = new Map<string, CoordinatorNode>();
  private readonly backoff: RetrySchedule;

  constructor(
    private readonly transport: TransactionTransport,
    private readonly options: CoordinatorRequestOptions,
  ) {
    this.backoff = producerBackoff(options);
  }

  /** The coordinator of a transactional id or group, found once and kept until it moves. */
  async coordinatorOf(keyType: CoordinatorKeyType, key: string): Promise<CoordinatorNode> {
    const cacheKey = `${keyType}:${key}`;
    const cached = this.known.get(cacheKey);
    if (cached !== undefined) return cached;
    const { response } = await this.transport.sendToAny(FindCoordinator, { keyType, keys: [key] });
    const found = response.coordinators.find((c) => c.key === null || c.key === key);
    if (found === undefined) throw new KafkaRxError(`FindCoordinator answered without an entry for ${key}`, { retriable: true });
    throwIfError(found.errorCode, `FindCoordinator for ${key}${found.errorMessage ? `: ${found.errorMessage}` : ''}`);
    const node = { nodeId: found.nodeId, host: found.host, port: found.port };
    this.known.set(cacheKey, node);
    return node;
  }

  /**
   * Sends `build()`'s request to the coordinator of `key` and hands the answer to `check`, which
   * throws the answer's error; retried as the class comment says. Errors that do not pass with
   * time (abortable, fatal) are thrown to the caller at once.
   */
  async request<Req, Res, T>(
    keyType: CoordinatorKeyType,
    key: string,
    api: KafkaApi<Req, Res>,
    build: (node: CoordinatorNode) => Req | Promise<Req>,
    check: (answered: Answered<Res>) => T,
  ): Promise<T> {
    const { scheduler, maxBlockMs } = this.options;
    const deadline = scheduler.now() + maxBlockMs;
    const attempt = async () => {
      const node = await this.coordinatorOf(keyType, key);
      return check(await this.transport.sendTo(node, api, await build(node)));
    };
    const askAgain = (error: unknown, pauseMs: number) => {
      const action = coordinatorErrorAction(error);
      if (action === 'abortable' || action === 'fatal') return false;
      if (action === 'find-coordinator') this.known.delete(`${keyType}:${key}`);
      return scheduler.now() + pauseMs <= deadline;
    };
    return attemptOnSchedule(attempt, this.backoff, askAgain, scheduler);
  }

  /** Forgets every coordinator found (after the producer learns they moved). */
  forget(): void {
    this.known.clear();
  }
}

export { CoordinatorKeyType };
