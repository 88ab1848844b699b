import type { KafkaApi } from '../../protocol/api.js';

/** A broker as FindCoordinator names it. */
export interface CoordinatorNode {
  nodeId: number;
  host: string;
  port: number;
}

/** A response with the version it was negotiated at (some fields exist only from a version on). */
export interface Answered<Res> {
  response: Res;
  version: number;
}

/**
 * What the transaction manager needs from the cluster: one request to any broker (to find a
 * coordinator), one request to a named node, the node's finalized transaction.version feature
 * (2 means transactions v2, KIP-890), and topic ids (TxnOffsetCommit v6 names topics by id).
 * Requests are sent at the highest version both sides speak within the API's range, so an API
 * object with a lower maxVersion caps it.
 */
export interface TransactionTransport {
  sendToAny<Req, Res>(api: KafkaApi<Req, Res>, request: Req): Promise<Answered<Res>>;
  sendTo<Req, Res>(node: CoordinatorNode, api: KafkaApi<Req, Res>, request: Req): Promise<Answered<Res>>;
  /** The transaction.version level the node's ApiVersions answer finalized; 0 when it names none. */
  transactionVersionOf(node: CoordinatorNode): Promise<number>;
  /** The highest version of `api` the node and kafka-rx share. */
  versionAt(node: CoordinatorNode, api: KafkaApi<unknown, unknown>): Promise<number>;
  /** A topic's id (from metadata); undefined when the cluster gives none. */
  topicIdOf(topic: string): Promise<Buffer | undefined>;
}
