// flush() and stop() on a fresh producer must cover the produce() calls still waiting for the
// topic's metadata (or for room in the queue): 400,000 un-awaited produce() calls, then flush() or
// stop(). Every call gets exactly one report (none rejects) and kcat finds exactly the acknowledged
// records plus, at most, those reported "maybe written"; a three-message fire-and-forget script
// exits 0 with all three written.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { KafkaClient, type Message } from '../../lib/index.js';
import { REPO_ROOT, bootstrap } from '../support/broker.js';
import { DeliveryAudit, formatCounts } from '../support/delivery-audit.js';
import { consumeAll } from '../support/kcat.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

const CALLS = 400_000;

describe('reliability: flush() and stop() on a fresh producer with un-awaited produce() calls', function () {
  this.timeout(180_000);

  for (const ending of ['flush', 'stop'] as const) {
    it(`${CALLS.toLocaleString('en')} un-awaited produce() calls, then ${ending}(): each reported once, the topic holds exactly the acknowledged`, async () => {
      const topic = uniqueTopic(`fresh-${ending}`);
      await createTopic(topic, { partitions: 3 });
      const client = new KafkaClient({ brokers: bootstrap(), clientId: `kafka-rx-fresh-${ending}` });
      try {
        // Default options: lingerMs 5000 and 100,000 queued per broker, so most calls wait for room.
        const producer = client.producer(topic);
        const audit = new DeliveryAudit(CALLS, 16);
        audit.watch(producer);
        const calls: Array<Promise<Message>> = new Array(CALLS);
        const started = Date.now();
        for (let id = 0; id < CALLS; id++) calls[id] = producer.produce(audit.valueFor(id), null);
        audit.produced = CALLS;
        if (ending === 'flush') await producer.flush();
        else await producer.stop();
        const tookMs = Date.now() - started;
        const atEnd = audit.tally();
        const rejected = (await Promise.allSettled(calls)).filter((c) => c.status === 'rejected').length;
        if (ending === 'flush') await producer.stop();
        const counts = await audit.verify(topic, bootstrap(), 120_000);
        console.log(`      [fresh ${ending}] ${ending}() resolved after ${tookMs} ms with ${atEnd.acknowledged + atEnd.failed} of ${CALLS} reported; produce() rejected ${rejected}`);
        console.log(`      ${formatCounts(`fresh ${ending}`, counts)}`);
        expect(atEnd.acknowledged + atEnd.failed, `reports when ${ending}() resolved`).to.equal(CALLS);
        expect(rejected, 'produce() calls rejected').to.equal(0);
        expect(counts.unreported).to.equal(0);
        expect(counts.reportedTwice).to.equal(0);
        expect(counts.lost, 'acknowledged but not in the topic').to.equal(0);
        expect(counts.notWrittenButFound, 'reported not written, yet in the topic').to.equal(0);
        expect(counts.inTopic - counts.acknowledged, 'records beyond the acknowledged').to.be.within(0, counts.maybeWritten);
        // flush() has no time limit: everything is acknowledged. stop() gives up after pendingTimeoutMs
        // (5 s): on a loaded machine some may then fail, each with an honest report (checked above).
        if (ending === 'flush') expect(counts.failed, JSON.stringify(counts.failuresByType)).to.equal(0);
      } finally {
        await client.close();
      }
    });
  }

  it('a fire-and-forget script (three produce() calls not awaited, then stop()) exits 0 with all three written', async () => {
    const topic = uniqueTopic('fire-and-forget');
    await createTopic(topic, { partitions: 1 });
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'spec', 'reliability', 'scripts', 'fire-and-forget.ts'), bootstrap(), topic], { cwd: REPO_ROOT });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (exit) => resolve({ code: exit, output }));
    });
    console.log(`      [fire-and-forget] exit ${code}: ${output.trim().split('\n').pop()}`);
    expect(code, output).to.equal(0);
    expect(output).to.contain('done 3');
    const read = await consumeAll(topic, { timeoutMs: 20_000, headers: false });
    expect(read.map((r) => r.value?.toString()).sort()).to.deep.equal(['fire-and-forget 0', 'fire-and-forget 1', 'fire-and-forget 2']);
  });
});
