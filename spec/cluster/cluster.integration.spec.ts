import { expect } from 'chai';
import { firstValueFrom, skip } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
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

  it('refreshes the topics it knows every metadataMaxAgeMs on its scheduler, from the first topic asked for until close() (virtual time)', async () => {
    const scheduler = new TestScheduler(() => undefined);
    const aged = new Cluster({ brokers: brokers(), clientId: 'kafka-rx-cluster-spec', metadataMaxAgeMs: 60_000, scheduler });
    const topic = uniqueTopic('max-age');
    try {
      await cluster.createTopics([{ name: topic, numPartitions: 1, replicationFactor: 1 }]);
      await cluster.partitionsOf(topic);
      const moveTo = (frame: number) => {
        scheduler.maxFrames = frame;
        scheduler.flush();
      };
      let refreshes = 0;
      const refresh = aged.refreshMetadata.bind(aged);
      aged.refreshMetadata = (topics) => {
        if (topics.length === 0) refreshes++;
        return refresh(topics);
      };
      moveTo(120_000);
      expect(refreshes, 'no timer before a topic is asked for').to.equal(0);
      scheduler.frame = 0;
      await aged.partitionsOf(topic);
      moveTo(59_999);
      expect(refreshes, 'at 59,999 ms').to.equal(0);
      const answered = firstValueFrom(aged.metadata$.pipe(skip(1)));
      moveTo(60_000);
      expect(refreshes, 'at 60,000 ms').to.equal(1);
      expect((await answered).topics.get(topic)?.partitions).to.have.length(1);
      moveTo(119_999);
      expect(refreshes, 'at 119,999 ms').to.equal(1);
      moveTo(120_000);
      expect(refreshes, 'at 120,000 ms').to.equal(2);
      await aged.close();
      moveTo(600_000);
      expect(refreshes, 'after close()').to.equal(2);
    } finally {
      await aged.close();
      await cluster.deleteTopics([topic]);
    }
  });

  it('drops a topic unused for metadataMaxIdleMs from the refreshes and the cache, judged at each max-age refresh; a topic in use stays (virtual time)', async () => {
    const scheduler = new TestScheduler(() => undefined);
    const aged = new Cluster({ brokers: brokers(), clientId: 'kafka-rx-cluster-spec', metadataMaxAgeMs: 60_000, metadataMaxIdleMs: 100_000, scheduler });
    const [used, idle] = [uniqueTopic('max-idle-used'), uniqueTopic('max-idle-idle')];
    try {
      await cluster.createTopics([used, idle].map((name) => ({ name, numPartitions: 1, replicationFactor: 1 })));
      const moveTo = async (frame: number) => {
        scheduler.maxFrames = frame;
        scheduler.flush();
        // Let the refresh the tick started answer before looking at the cache.
        await aged.refreshMetadata([]);
      };
      const asked: string[][] = [];
      await aged.partitionsOf(used);
      await aged.partitionsOf(idle);
      const fetch = (aged as unknown as { fetchMetadata(topics: string[]): Promise<unknown> }).fetchMetadata.bind(aged);
      (aged as unknown as { fetchMetadata(topics: string[]): Promise<unknown> }).fetchMetadata = (topics) => {
        asked.push([...topics].sort());
        return fetch(topics);
      };
      // Records go to `used` between the refreshes; `idle` gets none after its first look-up.
      for (const frame of [60_000, 120_000, 180_000]) {
        expect(aged.knownPartitionIdsOf(used)).to.deep.equal([0]);
        await moveTo(frame);
      }
      // At 60 s both were used since the start; at 120 s `idle` was last seen used at 60 s (20 s
      // short of 100 s idle); at 180 s it is 120 s idle: dropped before that refresh.
      expect(asked.slice(0, 2).every((topics) => topics.includes(idle) && topics.includes(used)), JSON.stringify(asked)).to.equal(true);
      const last = asked.filter((topics) => topics.length > 0).at(-1)!;
      expect(last).to.deep.equal([used]);
      expect(aged.knownPartitionIdsOf(idle), 'gone from the cache').to.equal(undefined);
      expect(aged.knownPartitionIdsOf(used)).to.deep.equal([0]);
      // Its next use fetches it again.
      expect((await aged.partitionsOf(idle)).map((p) => p.partition)).to.deep.equal([0]);
      expect(aged.knownPartitionIdsOf(idle)).to.deep.equal([0]);
    } finally {
      await aged.close();
      await cluster.deleteTopics([used, idle]);
    }
  });
});
