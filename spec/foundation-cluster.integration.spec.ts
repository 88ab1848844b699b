// The three-node shape the reliability specs use: replication factor 3 with min.insync.replicas=2,
// a leader killed (SIGKILL) and restarted, data kept throughout.
import { expect } from 'chai';
import { startCluster, type LocalCluster } from './support/broker.js';
import { consumeAll, metadata, produce } from './support/kcat.js';
import { createTopic, uniqueTopic } from './support/topics.js';

describe('foundation: a 3-node cluster of its own', function () {
  this.timeout(180_000);
  let cluster: LocalCluster;

  before(async () => {
    cluster = await startCluster({ nodes: 3 });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('survives the SIGKILL of a partition leader and takes the node back', async () => {
    expect(cluster.brokers).to.have.length(3);
    const topic = uniqueTopic('found-3node');
    const created = await createTopic(topic, {
      partitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': 2 }, bootstrap: cluster.bootstrap,
    });
    expect(created.partitions[0].replicas).to.have.members([1, 2, 3]);
    await produce(topic, [{ key: 'before', value: 'kill' }], { bootstrap: cluster.bootstrap });

    const leader = created.partitions[0].leader;
    await cluster.killNode(leader);
    // The controller fences the dead node (broker.session.timeout.ms) and elects another leader.
    const deadline = Date.now() + 30_000;
    let now = created.partitions[0];
    while (Date.now() < deadline) {
      now = (await metadata({ bootstrap: cluster.bootstrap, topic })).topics[0].partitions[0];
      if (now.leader !== leader && now.leader >= 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(now.leader).to.not.equal(leader);
    expect(now.isrs).to.not.include(leader);

    // Two in-sync replicas remain, enough for acks=all with min.insync.replicas=2.
    await produce(topic, [{ key: 'after', value: 'kill' }], { bootstrap: cluster.bootstrap });
    await cluster.startNode(leader);
    const back = await metadata({ bootstrap: cluster.brokers[leader - 1] });
    expect(back.brokers.map((b) => b.id)).to.include(leader);

    const got = await consumeAll(topic, { bootstrap: cluster.bootstrap });
    expect(got.map((r) => r.key?.toString())).to.deep.equal(['before', 'after']);
  });
});
