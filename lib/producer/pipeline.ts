import { debounceTime, groupBy, merge, mergeMap, NEVER, type Observable } from 'rxjs';
import type { BatchSender } from './batch-sender.js';
import type { BrokerQueues } from './broker-queues.js';
import { lingerBuffer } from './linger-buffer.js';
import type { PendingMessage } from './message.js';
import type { ResolvedProducerOptions } from './options.js';
import type { ProducerTransport } from './transport.js';
import { requestSlots } from './request-slots.js';

export interface PipelineContext {
  readonly options: ResolvedProducerOptions;
  readonly queues: BrokerQueues;
  /** Each emission sends every buffered batch at once (flush() and stop()). */
  readonly flush$: Observable<unknown>;
  readonly sender: BatchSender;
  /** Leaders as the metadata names them now, and its refreshes: a leader move sends its partitions' messages on at once. */
  readonly transport: Pick<ProducerTransport, 'leaderOf' | 'metadataChanges$'>;
}

/**
 * The producer's dataflow, in the user's shape: messages from produce() are grouped by the leader
 * broker of their partition, each group is batched by count, bytes and linger time, and each batch
 * is sent with retries, a bounded number of batches under way per group (batches that wait for a
 * slot are joined: natural batching). A metadata refresh that moves the leader of a partition a
 * group's linger buffer holds sends that batch at once, to the new leader. Each element is a sent
 * batch, emitted once every message still in it has its outcome; beside the groups' batches come
 * those the sender makes of messages their partition buffer let go (see BatchSender).
 *
 * Messages travel in chunks (all of one broker): produce() stages what one synchronous burst
 * accepts and pushes it as one emission, so the Subject, groupBy and the buffer do their work per
 * chunk rather than per message; the linger buffer still counts messages. That staging is the one
 * chunking done for speed.
 *
 * A group lives until stop() (queueEmptyTimeoutMs 0), until it has been idle for
 * queueEmptyTimeoutMs after its last batch left (> 0), or only while it holds messages (-1).
 */
export function producerPipeline(chunks$: Observable<PendingMessage[]>, context: PipelineContext): Observable<PendingMessage[]> {
  const { options, queues } = context;
  const idle = options.queueEmptyTimeoutMs;
  const lingered$ = chunks$.pipe(
    groupBy((chunk) => chunk[0].broker, {
      duration: idle === 0 ? () => NEVER : (group$) => group$.pipe(debounceTime(options.lingerMs + Math.max(idle, 0), options.scheduler)),
    }),
    mergeMap((group$) =>
      group$.pipe(
        lingerBuffer<PendingMessage[]>({
          lingerMs: options.lingerMs,
          maxCount: options.minQueuedMessages,
          countOf: (chunk) => chunk.length,
          maxBytes: options.maxRequestSize,
          sizeOf: chunkBytes,
          flush$: context.flush$,
          recheck$: context.transport.metadataChanges$,
          leavesNow: (chunk) => holdsMovedPartition(chunk, group$.key, context.transport),
          scheduler: options.scheduler,
        }),
        requestSlots<PendingMessage[], PendingMessage[]>(
          (chunks) => {
            const batch = chunks.length === 1 ? chunks[0] : ([] as PendingMessage[]).concat(...chunks);
            // Leaving the queue only when a request slot is free keeps maxQueuedMessages a real bound.
            queues.remove(group$.key, batch.length);
            return context.sender.send(batch);
          },
          { slots: options.maxInFlightRequestsPerBroker, maxBytes: options.maxRequestSize, sizeOf: chunksBytes },
        ),
      ),
    ),
  );
  return merge(lingered$, context.sender.releasedSends$);
}

function chunksBytes(chunks: readonly PendingMessage[][]): number {
  let bytes = 0;
  for (let i = 0; i < chunks.length; i++) bytes += chunkBytes(chunks[i]);
  return bytes;
}

function chunkBytes(chunk: readonly PendingMessage[]): number {
  let bytes = 0;
  for (let i = 0; i < chunk.length; i++) bytes += chunk[i].size;
  return bytes;
}

/** True when a message of the chunk belongs to a partition whose leader is no longer `broker`. */
function holdsMovedPartition(chunk: readonly PendingMessage[], broker: number, transport: PipelineContext['transport']): boolean {
  for (let i = 0; i < chunk.length; i++) {
    const leader = transport.leaderOf(chunk[i].topic, chunk[i].partition);
    if (leader !== -1 && leader !== broker) return true;
  }
  return false;
}
