import { expect } from 'chai';
import { Cluster } from '../../lib/cluster/cluster.js';
import { TopicAlreadyExistsError, UnknownTopicOrPartitionError } from '../../lib/errors/index.js';
import { brokers } from '../support/broker.js';
import { metadata } from '../support/kcat.js';
import { uniqueTopic } from '../support/topics.js';

describe('Cluster against the real broker', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  beforeEach(() => {
    cluster = new Cluster({ brokers: brokers(), clientId: 'kafka-rx-cluster-spec' });
  });
  afterEach(() => cluster.close());

  it('creates a topic with exact partitions, knows its leaders as kcat does, and deletes it', async () => {
    const topic = uniqueTopic('cluster');
    await cluster.createTopics([{ name: topic, numPartitions: 4, replicationFactor: 1 }]);
    const partitions = await cluster.partitionsOf(topic);
    expect(partitions.map((p) => p.partition)).to.deep.equal([0, 1, 2, 3]);
    expect(cluster.knownPartitionIdsOf(topic)).to.deep.equal([0, 1, 2, 3]);
    const seen = await metadata({ topic });
    const kcatTopic = seen.topics.find((t) => t.topic === topic)!;
    for (const p of kcatTopic.partitions) expect(cluster.leaderOf(topic, p.partition)).to.equal(p.leader);
    let error: unknown;
    await cluster.createTopics([{ name: topic, numPartitions: 4, replicationFactor: 1 }]).catch((e) => (error = e));
    expect(error).to.be.instanceOf(TopicAlreadyExistsError);
    await cluster.deleteTopics([topic]);
  });

  it('gives a typed error for an unknown topic after retrying', async () => {
    let error: unknown;
    await cluster.partitionsOf(uniqueTopic('absent')).catch((e) => (error = e));
    expect(error).to.be.instanceOf(UnknownTopicOrPartitionError);
  });

  it('shares one refresh among concurrent callers and publishes snapshots', async () => {
    const snapshots: unknown[] = [];
    cluster.metadata$.subscribe((m) => snapshots.push(m));
    await Promise.all([cluster.refreshMetadata([]), cluster.refreshMetadata([]), cluster.refreshMetadata([])]);
    expect(snapshots.length).to.be.within(2, 3);
    expect(cluster.metadata.brokers.size).to.be.at.least(1);
  });
});
