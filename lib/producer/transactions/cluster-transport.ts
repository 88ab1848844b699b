import { ProtocolError } from '../../errors/index.js';
import type { Cluster } from '../../cluster/cluster.js';
import type { Connection } from '../../network/connection.js';
import type { KafkaApi } from '../../protocol/api.js';
import type { Answered, CoordinatorNode, TransactionTransport } from './transaction-transport.js';

/**
 * The transaction manager's requests over the client's cluster: FindCoordinator to any broker,
 * everything else to the coordinator by its node id (the cluster's metadata names its address).
 */
export function clusterTransactionTransport(cluster: Cluster, requestTimeoutMs: number): TransactionTransport {
  const answer = async <Req, Res>(connection: Connection, api: KafkaApi<Req, Res>, request: Req): Promise<Answered<Res>> => {
    const version = connection.versionOf(api);
    const response = await connection.send(api, request, { timeoutMs: requestTimeoutMs });
    if (response === undefined) throw new ProtocolError(`${api.name} came back without a response`);
    return { response, version };
  };
  const connectionTo = (node: CoordinatorNode) => cluster.connectionTo(node.nodeId);
  return {
    sendToAny: async (api, request) => answer(await cluster.anyConnection(), api, request),
    sendTo: async (node, api, request) => answer(await connectionTo(node), api, request),
    transactionVersionOf: async (node) => (await connectionTo(node)).finalizedFeatureLevel('transaction.version'),
    versionAt: async (node, api) => (await connectionTo(node)).versionOf(api),
    topicIdOf: async (topic) => {
      await cluster.partitionsOf(topic);
      return cluster.topicIdOf(topic);
    },
  };
}
