import { expect } from 'chai';
import { decodeRecordBatches, recordSizeBound } from '../../lib/records/record-batch.js';
import { PendingMessage } from '../../lib/producer/message.js';
import { Murmur2Partitioner, RandomPartitioner, StickyPartitioner } from '../../lib/producer/partitioners.js';
import { RequestPlanner, type PlanSettings } from '../../lib/producer/request-planner.js';

const planRequests = (messages: PendingMessage[], settings: PlanSettings) => new RequestPlanner(settings).plan(messages);
import { TopicCounts } from '../../lib/producer/stats.js';

/** A message whose value says where it belongs: [topic index, partition, sequence high, sequence low]. */
function message(topic: number, partition: number, sequence: number, size = 100): PendingMessage {
  const value = Buffer.alloc(size);
  value.writeUInt8(topic, 0);
  value.writeUInt8(partition, 1);
  value.writeUInt16BE(sequence, 2);
  return new PendingMessage<unknown, unknown>(`topic-${topic}`, partition, 1_700_000_000_000 + sequence, value, null, undefined, value, undefined, Infinity, recordSizeBound(null, value, undefined));
}

const settings = (maxRequestSize: number, version = 9): PlanSettings => ({
  version, clientId: 'spec', acks: 1, timeoutMs: 1000, compression: 'none', maxRequestSize,
});

describe('multi-topic producer: planning, partitioning and counting per topic', () => {
  it('puts the batches of every topic a broker leads in one Produce request, one entry per topic', () => {
    // 3 topics x 2 partitions, records interleaved as a router would produce them.
    const messages = Array.from({ length: 600 }, (_, i) => message(i % 3, (i >> 1) % 2, i));
    const plan = planRequests(messages, settings(1_000_000));
    expect(plan.requests).to.have.length(1);
    const { request, batches } = plan.requests[0];
    expect(request.topics.map((t) => t.name)).to.deep.equal(['topic-0', 'topic-1', 'topic-2']);
    for (const topic of request.topics) expect(topic.partitions.map((p) => p.index).sort()).to.deep.equal([0, 1]);
    expect(batches).to.have.length(6);
    for (const batch of batches) {
      const [decoded] = decodeRecordBatches(batch.records);
      // Every record of the batch belongs to the batch's topic and partition, in produce order.
      const values = decoded.records.map((r) => r.value!);
      expect(values.every((v) => `topic-${v[0]}` === batch.topic && v[1] === batch.partition)).to.equal(true);
      const sequences = values.map((v) => v.readUInt16BE(2));
      expect(sequences).to.deep.equal([...sequences].sort((a, b) => a - b));
      expect(sequences).to.have.length(100);
    }
  });

  it('keeps each topic partition in order across requests when maxRequestSize splits them', () => {
    const messages = Array.from({ length: 3_000 }, (_, i) => message(i % 4, i % 3, i));
    const plan = planRequests(messages, settings(20_000));
    expect(plan.requests.length).to.be.greaterThan(10);
    const seen = new Map<string, number[]>();
    for (const planned of plan.requests) {
      const inRequest = new Set<string>();
      for (const batch of planned.batches) {
        const key = `${batch.topic}/${batch.partition}`;
        expect(inRequest.has(key), `${key} twice in one request`).to.equal(false);
        inRequest.add(key);
        const list = seen.get(key) ?? [];
        for (const record of decodeRecordBatches(batch.records)[0].records) list.push(record.value!.readUInt16BE(2));
        seen.set(key, list);
      }
      expect(planned.size).to.be.at.most(20_000);
    }
    expect(seen.size).to.equal(12);
    let total = 0;
    for (const [key, list] of seen) {
      expect(list, key).to.deep.equal([...list].sort((a, b) => a - b));
      total += list.length;
    }
    expect(total).to.equal(3_000);
  });

  it('names each topic by its own id from Produce v13', () => {
    const ids = new Map([['topic-0', Buffer.alloc(16, 1)], ['topic-1', Buffer.alloc(16, 2)]]);
    const messages = Array.from({ length: 10 }, (_, i) => message(i % 2, 0, i));
    const plan = planRequests(messages, { ...settings(1_000_000, 13), topicIdOf: (topic) => ids.get(topic) });
    expect(plan.requests[0].request.topics.map((t) => t.topicId)).to.deep.equal([ids.get('topic-0'), ids.get('topic-1')]);
  });

  it('round-robins each topic over all of its partitions when records alternate between topics', () => {
    const partitioner = new RandomPartitioner();
    const partitions = [0, 1, 2, 3, 4, 5];
    const used = new Map<string, Set<number>>();
    for (let i = 0; i < 20 * 6; i++) {
      const topic = `t${i % 20}`;
      const set = used.get(topic) ?? new Set();
      set.add(partitioner.partition(null, partitions, topic));
      used.set(topic, set);
    }
    // One cycle shared by all topics gave each topic only even or only odd partitions.
    for (const [topic, set] of used) expect([...set].sort(), topic).to.deep.equal(partitions);
    const keyless = new Murmur2Partitioner();
    const a = Array.from({ length: 6 }, () => keyless.partition(null, partitions, 'a'));
    expect(new Set(a).size).to.equal(6);
  });

  it('sticks to a partition per topic (a record of another topic does not move it)', () => {
    const partitioner = new StickyPartitioner(10);
    const partitions = [0, 1, 2, 3, 4, 5];
    const a: number[] = [];
    for (let i = 0; i < 10; i++) {
      a.push(partitioner.partition(null, partitions, 'a'));
      partitioner.partition(null, partitions, 'b');
    }
    expect(new Set(a).size).to.equal(1);
  });

  it('counts produced, acknowledged and failed records and batches per topic', () => {
    const counts = new TopicCounts();
    counts.of('a').produced += 2;
    counts.of('b').produced += 1;
    counts.settled('a', false);
    counts.settled('b', true);
    counts.settled('a', false);
    expect(counts.snapshot()).to.deep.equal({
      a: { produced: 2, acknowledged: 2, failed: 0, batches: 0, batchBytes: 0 },
      b: { produced: 1, acknowledged: 0, failed: 1, batches: 0, batchBytes: 0 },
    });
  });
});
