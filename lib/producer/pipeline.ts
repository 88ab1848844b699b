import { debounceTime, groupBy, mergeMap, NEVER, type Observable } from 'rxjs';
import { sendBatch, type SenderContext } from './batch-sender.js';
import type { BrokerQueues } from './broker-queues.js';
import { lingerBuffer } from './linger-buffer.js';
import type { PendingMessage } from './message.js';

export interface PipelineContext extends SenderContext {
  readonly queues: BrokerQueues;
  /** Each emission sends every buffered batch at once (flush() and stop()). */
  readonly flush$: Observable<unknown>;
}

/**
 * The producer's dataflow, in the user's shape: messages from produce() are grouped by the leader
 * broker of their partition, each group is batched by count, bytes and linger time, and each batch
 * is sent with retries, a bounded number of requests in flight per broker.
 *
 * A group lives until stop() (queueEmptyTimeoutMs 0), until it has been idle for
 * queueEmptyTimeoutMs after its last batch left (> 0), or only while it holds messages (-1).
 */
export function producerPipeline(messages$: Observable<PendingMessage>, context: PipelineContext): Observable<never> {
  const { options, queues } = context;
  const idle = options.queueEmptyTimeoutMs;
  return messages$.pipe(
    groupBy((message) => message.broker, {
      duration: idle === 0 ? () => NEVER : (group$) => group$.pipe(debounceTime(options.lingerMs + Math.max(idle, 0), options.scheduler)),
    }),
    mergeMap((group$) =>
      group$.pipe(
        lingerBuffer<PendingMessage>({
          lingerMs: options.lingerMs,
          maxCount: options.minQueuedMessages,
          maxBytes: options.maxRequestSize,
          sizeOf: (message) => message.size,
          flush$: context.flush$,
          scheduler: options.scheduler,
        }),
        mergeMap((batch) => {
          // Leaving the queue only when a request slot is free keeps maxQueuedMessages a real bound.
          queues.remove(group$.key, batch.length);
          return sendBatch(context, group$.key, batch);
        }, options.maxInFlightRequestsPerBroker),
      ),
    ),
  ) as Observable<never>;
}
