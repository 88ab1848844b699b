import { expect } from 'chai';
import { decodeRecordBatches, recordSize, recordSizeBound } from '../../lib/records/record-batch.js';
import { PendingMessage } from '../../lib/producer/message.js';
import { produceRequestSize, type ProduceRequest } from '../../lib/protocol/produce.js';
import { RequestPlanner, type PlanSettings, type RequestPlan } from '../../lib/producer/request-planner.js';
import { prng } from '../support/prng.js';

function message(partition: number, size: number, index: number, alone = false): PendingMessage {
  const value = Buffer.alloc(size, index % 251);
  const m: PendingMessage = new PendingMessage<unknown, unknown>('plan', partition, 1_700_000_000_000 + index, value, null, undefined, value, undefined, Infinity, recordSizeBound(null, value, undefined));
  m.alone = alone;
  return m;
}

const settings = (maxRequestSize: number): PlanSettings => ({
  version: 9, clientId: 'spec', acks: 1, timeoutMs: 1000, compression: 'none', maxRequestSize,
});

/** Per partition, the values' first bytes in the order the batches carry them, and each batch's record count. */
function carried(plan: RequestPlan) {
  const order = new Map<number, number[]>();
  const batchSizes: number[] = [];
  for (const request of plan.requests) {
    for (const batch of request.batches) {
      const [decoded] = decodeRecordBatches(batch.records);
      expect(decoded.records.map((r) => r.value![0])).to.deep.equal(batch.messages.map((m) => m.value![0]));
      batchSizes.push(batch.messages.length);
      const list = order.get(batch.partition) ?? [];
      list.push(...batch.messages.map((m) => m.value![0]));
      order.set(batch.partition, list);
    }
  }
  return { order, batchSizes };
}

const planOnce = (messages: PendingMessage[], planSettings: PlanSettings): RequestPlan => new RequestPlanner(planSettings).plan(messages);

describe('request planner: record batches and requests within maxRequestSize', () => {
  it('keeps a partition whose messages fit in one batch, in order', () => {
    const messages = Array.from({ length: 300 }, (_, i) => message(i % 3, 100, i));
    const plan = planOnce(messages, settings(1_000_000));
    expect(plan.requests).to.have.length(1);
    expect(plan.requests[0].batches.map((b) => b.messages.length)).to.deep.equal([100, 100, 100]);
    const { order } = carried(plan);
    for (const p of [0, 1, 2]) expect(order.get(p)).to.deep.equal(messages.filter((m) => m.partition === p).map((m) => m.value![0]));
  });

  it('splits a partition at the byte limit into batches in later requests, order kept, every request within the limit', () => {
    const messages = Array.from({ length: 500 }, (_, i) => message(0, 1000, i));
    const plan = planOnce(messages, settings(50_000));
    for (const request of plan.requests) expect(request.size).to.be.at.most(50_000);
    const { order, batchSizes } = carried(plan);
    expect(batchSizes.reduce((a, b) => a + b, 0)).to.equal(500);
    expect(batchSizes.length).to.be.greaterThan(9);
    expect(order.get(0)).to.deep.equal(messages.map((m) => m.value![0]));
    expect(plan.oversized).to.deep.equal([]);
  });

  it('sets aside a message too large alone and sends one marked alone in a batch of its own, the rest in order around them', () => {
    const messages = [
      ...Array.from({ length: 5 }, (_, i) => message(0, 100, i)),
      message(0, 60_000, 5),
      ...Array.from({ length: 5 }, (_, i) => message(0, 100, 6 + i)),
      message(0, 100, 11, true),
      ...Array.from({ length: 5 }, (_, i) => message(0, 100, 12 + i)),
    ];
    const plan = planOnce(messages, settings(50_000));
    expect(plan.oversized.map((m) => m.value![0])).to.deep.equal([5]);
    const { order, batchSizes } = carried(plan);
    expect(order.get(0)).to.deep.equal([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(batchSizes).to.deep.equal([10, 1, 5]);
  });

  it('plans many partitions interleaved, one split across requests: each request within the limit and holding a partition once, order kept', () => {
    // 20 small partitions and a large one (0) split by the batch limit: the first request holds
    // more than 8 batches (their partitions are then looked up in a map, not the batch list).
    const messages: PendingMessage[] = [];
    for (let i = 0; i < 600; i++) messages.push(message(i % 2 === 0 ? 0 : 1 + ((i >> 1) % 20), 100, i));
    const plan = planOnce(messages, settings(25_000));
    expect(plan.requests.length).to.be.greaterThan(1);
    expect(Math.max(...plan.requests.map((request) => request.batches.length))).to.be.greaterThan(8);
    for (const request of plan.requests) {
      expect(request.size).to.be.at.most(25_000);
      const partitions = request.batches.map((batch) => batch.partition);
      expect(new Set(partitions).size, 'a partition twice in one request').to.equal(partitions.length);
    }
    const { order } = carried(plan);
    expect(order.get(0)!.length).to.equal(300);
    for (let p = 0; p <= 20; p++) expect(order.get(p), `partition ${p}`).to.deep.equal(messages.filter((m) => m.partition === p).map((m) => m.value![0]));
  });

  it('places batches in requests as exact first fit does, whatever the Produce version and topic names', () => {
    // The planner checks room with an upper bound of a batch's entry while a request is far from
    // the limit and measures exactly near it: its choices must be those of measuring every time.
    const random = prng(20261203);
    for (let run = 0; run < 150; run++) {
      const version = [8, 9, 12, 13][run % 4];
      const names = Array.from({ length: 1 + Math.floor(random() * 12) }, (_, t) => `t${t}-${'n'.repeat(Math.floor(random() * (random() < 0.2 ? 240 : 20)))}`);
      const ids = new Map(names.map((name, t) => [name, Buffer.alloc(16, t + 1)]));
      const messages = Array.from({ length: 1 + Math.floor(random() * 400) }, (_, i) => {
        const value = Buffer.alloc(Math.floor(random() * 400), i % 251);
        return new PendingMessage<unknown, unknown>(names[Math.floor(random() * names.length)], Math.floor(random() * 8), 1_700_000_000_000 + i, value, null, undefined, value, undefined, Infinity, recordSizeBound(null, value, undefined));
      });
      const maxRequestSize = 3_000 + Math.floor(random() * 30_000);
      const planSettings: PlanSettings = { ...settings(maxRequestSize), version, topicIdOf: (topic) => ids.get(topic) };
      const plan = new RequestPlanner(planSettings).plan(messages);
      // The reference: partitions in the order they first appear, each one's batches in order, each
      // batch in the first request after its partition's previous one that lacks the partition and
      // measures, exactly, within the limit with it.
      const headerSize = 2 + 2 + 4 + 2 + 'spec'.length + (version >= 9 ? 1 : 0);
      const measure = (batches: Array<{ topic: string; partition: number; records: Buffer }>): number => {
        const topics: Array<{ name: string; topicId: Buffer | undefined; partitions: Array<{ index: number; records: Buffer }> }> = [];
        for (const b of batches) {
          let entry = topics.find((t) => t.name === b.topic);
          if (entry === undefined) topics.push((entry = { name: b.topic, topicId: ids.get(b.topic), partitions: [] }));
          entry.partitions.push({ index: b.partition, records: b.records });
        }
        const request: ProduceRequest = { transactionalId: null, acks: 1, timeoutMs: 1000, topics };
        return headerSize + produceRequestSize(version, request);
      };
      const placed = new Map<object, number>();
      plan.requests.forEach((request, r) => request.batches.forEach((batch) => placed.set(batch, r)));
      const order: string[] = [];
      for (const m of messages) if (!order.includes(`${m.topic}/${m.partition}`)) order.push(`${m.topic}/${m.partition}`);
      const reference: Array<Array<{ topic: string; partition: number; records: Buffer }>> = [];
      for (const key of order) {
        const own = [...placed.keys()].filter((b) => `${(b as { topic: string }).topic}/${(b as { partition: number }).partition}` === key) as Array<{ topic: string; partition: number; records: Buffer }>;
        own.sort((a, b) => placed.get(a)! - placed.get(b)!);
        let after = -1;
        for (const batch of own) {
          let r = after + 1;
          while (r < reference.length && (reference[r].some((b) => b.topic === batch.topic && b.partition === batch.partition) || measure([...reference[r], batch]) > maxRequestSize)) r++;
          if (r === reference.length) reference.push([]);
          reference[r].push(batch);
          expect(placed.get(batch), `run ${run} (v${version}): ${key}`).to.equal(r);
          after = r;
        }
      }
      expect(plan.requests.length, `run ${run}`).to.equal(reference.length);
      for (const request of plan.requests) {
        expect(request.size, `run ${run}`).to.equal(measure(request.batches));
        expect(request.size, `run ${run}`).to.be.at.most(maxRequestSize);
      }
    }
  });

  it('plans cleanly after an encoding that threw: nothing of the failed plan reaches the next one', () => {
    const planner = new RequestPlanner(settings(1_000_000));
    // The encoder, seen through: the first encoding of the chunk comes out over the limit (as an
    // incompressible one does), its first half encodes, its second half throws.
    const inner = planner as unknown as { encoder: { encode: (...args: unknown[]) => Buffer } };
    const real = inner.encoder.encode.bind(inner.encoder);
    let calls = 0;
    inner.encoder.encode = (...args: unknown[]) => {
      calls++;
      if (calls === 1) return Buffer.alloc(planner.batchLimit('plan') + 1);
      if (calls === 3) throw new Error('codec failure');
      return real(...args);
    };
    expect(() => planner.plan([message(0, 10, 1), message(0, 10, 2)])).to.throw('codec failure');
    expect(calls).to.equal(3);
    const next = message(1, 10, 3);
    const plan = planner.plan([next]);
    expect(plan.requests.map((request) => request.batches.map((batch) => [batch.partition, batch.messages]))).to.deep.equal([[[1, [next]]]]);
  });

  it('fills each batch to the byte limit exactly: none over it, none that could have taken the next message', () => {
    const random = prng(20261125);
    for (let run = 0; run < 200; run++) {
      const messages = Array.from({ length: 1 + Math.floor(random() * 200) }, (_, i) => {
        const value = Buffer.alloc(Math.floor(random() * (random() < 0.1 ? 3000 : 300)), i % 251);
        const key = random() < 0.5 ? null : Buffer.alloc(Math.floor(random() * 40));
        const headers = random() < 0.2 ? [{ key: `hé-${i}`, value: random() < 0.5 ? null : Buffer.alloc(7) }] : undefined;
        // Timestamps far apart now and then: their deltas take up to 10 bytes.
        const timestamp = 1_700_000_000_000 + Math.floor((random() - 0.3) * (random() < 0.1 ? 4e12 : 5000));
        return new PendingMessage<unknown, unknown>('plan', 0, timestamp, value, key, headers, value, undefined, Infinity, recordSizeBound(key, value, headers));
      });
      const planner = new RequestPlanner(settings(2_000 + Math.floor(random() * 20_000)));
      const plan = planner.plan(messages);
      const batches = plan.requests.flatMap((request) => request.batches);
      expect(batches.reduce((n, b) => n + b.messages.length, 0) + plan.oversized.length, `run ${run}`).to.equal(messages.length);
      for (let b = 0; b < batches.length; b++) {
        const batch = batches[b];
        expect(batch.records.length, `run ${run}`).to.be.at.most(planner.batchLimit('plan'));
        const next = batches[b + 1]?.messages[0];
        if (next === undefined || messages.indexOf(next) !== messages.indexOf(batch.messages[batch.messages.length - 1]) + 1) continue;
        const grown = batch.records.length + recordSize(next, batch.messages.length, next.timestamp - batch.messages[0].timestamp);
        expect(grown, `run ${run}: batch ${b} could have taken the next message`).to.be.greaterThan(planner.batchLimit('plan'));
      }
    }
  });
});
