// The kafka-rx producer -> the fault proxy -> the real broker: a Produce request cut in half, its
// response cut, responses stalled past the request timeout, garbage instead of a response, a wrong
// correlation id, a 2 GB size prefix. Each time the connection must be dropped and opened again,
// with no crash and no allocation to match the bogus size, and every message acknowledged or
// reported failed, exactly once. The topic is read back with kcat (directly from the broker).
//
// Without idempotence a lost acknowledgement for a request the broker wrote (the faulty one, or
// any other in flight on the dropped connection) means a second copy (at-least-once); those
// copies are counted, and they must be zero, with every partition in order, with enableIdempotence.
import { expect } from 'chai';
import { ConnectionError, KafkaClient, type Producer, type ProducerOptions } from '../../lib/index.js';
import { brokers } from '../support/broker.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { consumeAll } from '../support/kcat.js';
import { uniqueTopic } from '../support/topics.js';
import { expectEveryMessageReportedOnce, expectPartitionOrder, Outcomes, produceLabelled, valueOf, type Tally } from './outcomes.js';

const PRODUCE = 0;
const METADATA = 3;
const PARTITIONS = 3;
const REQUEST_TIMEOUT_MS = 1_500;

interface Fault {
  name: string;
  inject(proxy: FaultProxy): void;
}

const stall: Fault = { name: 'responses stalled past the request timeout', inject: (p) => p.stallResponses(REQUEST_TIMEOUT_MS * 2) };

const faults: Fault[] = [
  { name: 'a Produce request cut mid-frame', inject: (p) => p.cutNext({ direction: 'request', apiKey: PRODUCE }) },
  { name: 'a Produce response cut mid-frame', inject: (p) => p.cutNext({ direction: 'response', apiKey: PRODUCE }) },
  stall,
  { name: 'garbage bytes instead of a Produce response', inject: (p) => p.garbageNext({ apiKey: PRODUCE }) },
  { name: 'a Produce response with a wrong correlation id', inject: (p) => p.wrongCorrelationNext({ apiKey: PRODUCE }) },
  { name: 'a 2 GB size prefix instead of a Produce response', inject: (p) => p.hugeLengthNext({ apiKey: PRODUCE }) },
  { name: 'a Produce response with a garbled body', inject: (p) => p.corruptNext({ apiKey: PRODUCE }) },
];

describe('reliability: kafka-rx producer through the fault proxy to the real broker', function () {
  this.timeout(60_000);
  let admin: KafkaClient;
  let proxy: FaultProxy;
  let client: KafkaClient;

  before(async () => {
    admin = new KafkaClient({ brokers: brokers(), clientId: 'reliability-admin' });
  });
  after(async () => {
    await admin.close();
  });
  beforeEach(async () => {
    proxy = await startFaultProxy({ target: brokers()[0] });
    client = new KafkaClient({ brokers: proxy.address, clientId: 'reliability-proxy', requestTimeoutMs: REQUEST_TIMEOUT_MS, reconnectBackoffMs: 20, reconnectBackoffMaxMs: 200 });
  });
  afterEach(async () => {
    await client.close();
    await proxy.close();
  });

  async function newTopic(prefix: string): Promise<string> {
    const name = uniqueTopic(prefix);
    await admin.createTopics([{ name, numPartitions: PARTITIONS, replicationFactor: 1 }]);
    return name;
  }

  function producerFor(topic: string, label: string, options: ProducerOptions): { producer: Producer; outcomes: Outcomes } {
    // ackTimeoutMs + 1 s stays under the request timeout, so the client's own limit is what fires.
    const producer = client.producer(topic, { lingerMs: 5, minQueuedMessages: 40, retryBackoffMs: 50, maxRetries: 5, ackTimeoutMs: 400, ...options });
    return { producer, outcomes: new Outcomes(label, producer) };
  }

  // One message per partition first: a broker takes the first batch it sees from a producer on
  // a partition whatever its sequence number, so the faults are injected once each partition
  // knows the producer (what happens otherwise is handled, but may reorder the first batches).
  async function warmUp(producer: Producer, outcomes: Outcomes): Promise<void> {
    await produceLabelled(producer, outcomes, PARTITIONS, (index) => ({ partition: index % PARTITIONS }));
    await producer.flush();
  }

  async function readBack(topic: string, outcomes: Outcomes, producer: Producer) {
    const expected = outcomes.produced - outcomes.failedIndices().length;
    await consumeAll(topic, { count: expected, timeoutMs: 20_000, headers: false });
    const read = await consumeAll(topic, { timeoutMs: 20_000, headers: false });
    return { tally: outcomes.tally(read, producer.statsSnapshot().retries) as Tally, read };
  }

  for (const idempotent of [false, true]) {
    const mode = idempotent ? 'idempotent' : 'acks 1';
    for (const fault of faults) {
      it(`${mode}: survives ${fault.name}: connection re-established, every message reported once${idempotent ? ', nothing written twice, order kept' : ''}`, async () => {
        const topic = await newTopic('proxy-fault');
        const { producer, outcomes } = producerFor(topic, `${mode}, ${fault.name}`, idempotent ? { requiredAcks: -1, enableIdempotence: true } : { requiredAcks: 1 });
        await warmUp(producer, outcomes);
        await produceLabelled(producer, outcomes, 90);
        await producer.flush();
        const connectionsBefore = proxy.counters.connectionsAccepted;
        const memoryBefore = process.memoryUsage();
        fault.inject(proxy);
        await produceLabelled(producer, outcomes, 210);
        await producer.flush();
        const memoryAfter = process.memoryUsage();
        proxy.reset();
        await producer.stop();
        const { tally, read } = await readBack(topic, outcomes, producer);
        expectEveryMessageReportedOnce(tally);
        expect(tally.failed, JSON.stringify(tally.errorsByName)).to.equal(0);
        // A stall is no one-shot fault: the timeouts it causes show in the retries and the reconnect.
        if (fault !== stall) expect(proxy.counters.faultsFired, 'the fault fired').to.equal(1);
        expect(proxy.counters.connectionsAccepted, 'a new connection after the fault').to.be.greaterThan(connectionsBefore);
        expect(tally.retries, 'the affected messages were retried').to.be.greaterThan(0);
        // Nothing sized after a bogus length: no buffer growth anywhere near it.
        expect(memoryAfter.arrayBuffers - memoryBefore.arrayBuffers).to.be.below(64 * 1024 * 1024);
        if (idempotent) {
          expect(tally.duplicated).to.equal(0);
          expectPartitionOrder(read);
        }
      });
    }
  }

  it('starts anyway when a Metadata response comes garbled or cut while the producer starts', async () => {
    const topic = await newTopic('proxy-metadata');
    proxy.corruptNext({ apiKey: METADATA });
    proxy.cutNext({ direction: 'response', apiKey: METADATA });
    const { producer, outcomes } = producerFor(topic, 'garbled and cut Metadata at start', { requiredAcks: -1 });
    await produceLabelled(producer, outcomes, 100);
    await producer.stop();
    const { tally } = await readBack(topic, outcomes, producer);
    expect(proxy.counters.faultsFired).to.equal(2);
    expectEveryMessageReportedOnce(tally);
    expect(tally.failed, JSON.stringify(tally.errorsByName)).to.equal(0);
    expect(tally.duplicated).to.equal(0);
  });

  it('delivers everything once the broker is reachable again after 2 s of refused connections (default reconnect backoff)', async () => {
    const topic = await newTopic('proxy-outage');
    const own = new KafkaClient({ brokers: proxy.address, clientId: 'reliability-outage', requestTimeoutMs: REQUEST_TIMEOUT_MS });
    try {
      const producer = own.producer(topic, { lingerMs: 5, minQueuedMessages: 40, requiredAcks: -1, maxRetries: 1_000, deliveryTimeoutMs: 30_000, pendingTimeoutMs: 30_000 });
      const outcomes = new Outcomes('refused for 2 s, then back', producer);
      await warmUp(producer, outcomes);
      proxy.dropAll({ refuse: true });
      await produceLabelled(producer, outcomes, 300);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(producer.statsSnapshot().acknowledged, 'nothing acknowledged during the outage').to.equal(PARTITIONS);
      proxy.reset();
      await producer.stop();
      const { tally, read } = await readBack(topic, outcomes, producer);
      expectEveryMessageReportedOnce(tally);
      expect(tally.failed, JSON.stringify(tally.errorsByName)).to.equal(0);
      expect(tally.duplicated).to.equal(0);
      expectPartitionOrder(read);
    } finally {
      await own.close();
    }
  });

  it('a producer made while the broker is unreachable refuses produce() with a typed error, then delivers once it is back', async () => {
    const topic = await newTopic('proxy-start-outage');
    proxy.dropAll({ refuse: true });
    const { producer, outcomes } = producerFor(topic, 'started during an outage', { requiredAcks: -1 });
    const refused = await producer.produce(valueOf('refused', 0)).then(() => null, (error: unknown) => error);
    expect(refused).to.be.instanceOf(ConnectionError);
    proxy.reset();
    await produceLabelled(producer, outcomes, 100);
    await producer.stop();
    const { tally } = await readBack(topic, outcomes, producer);
    expectEveryMessageReportedOnce(tally);
    expect(tally.failed, JSON.stringify(tally.errorsByName)).to.equal(0);
    expect(tally.duplicated).to.equal(0);
  });

  it('fails every message once, typed, when responses never come (stalled for good)', async () => {
    const topic = await newTopic('proxy-stalled');
    const { producer, outcomes } = producerFor(topic, 'responses stalled for good', { requiredAcks: 1, maxRetries: 1, deliveryTimeoutMs: 20_000 });
    await warmUp(producer, outcomes);
    proxy.stallResponses('forever');
    await produceLabelled(producer, outcomes, 200);
    await producer.flush();
    proxy.reset();
    await producer.stop();
    const { tally } = await readBack(topic, outcomes, producer);
    expectEveryMessageReportedOnce(tally);
    expect(tally.failed).to.equal(200);
    // Each request was written and timed out unanswered: the outcome is unknown, and said so.
    expect(Object.keys(tally.errorsByName)).to.deep.equal(['MaybeWrittenError(RequestTimeoutError)']);
    // The broker wrote what it never acknowledged: reported "maybe written", and in the topic (at
    // most twice, once per attempt) — the ambiguity of any producer whose acknowledgements are lost.
    console.log(`      [responses stalled for good] failed but written ${tally.failedButWritten} of ${tally.failed}`);
  });

  it('idempotent: a batch that fails for good after its acknowledgement was lost neither doubles nor reorders the batches after it', async () => {
    // The batch's first request is cut (not written); its retry and the next batches are written
    // but their answers stalled past the timeout. With one retry the batch fails (reported, yet
    // written); the later ones are retried. Had the producer taken the failure for a gap and
    // renumbered them under a new epoch, the broker would have written them a second time.
    const topic = await newTopic('proxy-unresolved');
    const { producer, outcomes } = producerFor(topic, 'idempotent, failed batch written', {
      requiredAcks: -1, enableIdempotence: true, maxRetries: 1, lingerMs: 2, minQueuedMessages: 10, ackTimeoutMs: 0,
    });
    await warmUp(producer, outcomes);
    proxy.cutNext({ direction: 'request', apiKey: PRODUCE });
    await produceLabelled(producer, outcomes, 10, () => ({ partition: 0 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    proxy.stallResponses(REQUEST_TIMEOUT_MS + 300);
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (let round = 0; round < 25; round++) {
      await produceLabelled(producer, outcomes, 10, () => ({ partition: 0 }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await producer.stop();
    proxy.reset();
    const { tally, read } = await readBack(topic, outcomes, producer);
    expectEveryMessageReportedOnce(tally);
    for (const name of Object.keys(tally.errorsByName)) expect(['MaybeWrittenError(RequestTimeoutError)', 'MaybeWrittenError(ConnectionError)']).to.include(name);
    expect(tally.duplicated).to.equal(0);
    expectPartitionOrder(read);
  });

  it('idempotent: the first request of a new producer lost: every message acknowledged, none twice, every partition in order', async () => {
    // No warm-up: garbage answers the first Produce request (never forwarded). A broker would take
    // a later batch of a partition as the first from an id it does not know, so until the broker
    // has acknowledged a batch of a partition nothing else of that partition is in flight.
    const topic = await newTopic('proxy-first-lost');
    const { producer, outcomes } = producerFor(topic, 'idempotent, first request lost', { requiredAcks: -1, enableIdempotence: true, lingerMs: 2, minQueuedMessages: 10 });
    proxy.garbageNext({ apiKey: PRODUCE });
    await produceLabelled(producer, outcomes, 300);
    await producer.flush();
    await producer.stop();
    const { tally, read } = await readBack(topic, outcomes, producer);
    console.log(`      epoch bumps ${producer.statsSnapshot().epochBumps}`);
    expectEveryMessageReportedOnce(tally);
    expect(tally.failed, JSON.stringify(tally.errorsByName)).to.equal(0);
    expect(tally.duplicated).to.equal(0);
    expect(proxy.counters.faultsFired).to.equal(1);
    expectPartitionOrder(read);
  });

  it('idempotent: a connection cut again and again while 3,000 messages are produced leaves no duplicate and every partition in order', async () => {
    const topic = await newTopic('proxy-cuts');
    const { producer, outcomes } = producerFor(topic, 'idempotent, repeated cuts', {
      requiredAcks: -1, enableIdempotence: true, lingerMs: 2, minQueuedMessages: 25, maxRetries: 20,
    });
    await warmUp(producer, outcomes);
    for (let round = 0; round < 30; round++) {
      // Alternately a request and a response, so some cut batches were written and some not;
      // each round's 100 messages make several requests in flight on the connection that drops.
      proxy.cutNext({ direction: round % 2 === 0 ? 'response' : 'request', apiKey: PRODUCE });
      await produceLabelled(producer, outcomes, 100);
      await producer.flush();
    }
    proxy.reset();
    await producer.stop();
    const { tally, read } = await readBack(topic, outcomes, producer);
    console.log(`      cuts fired ${proxy.counters.faultsFired}, connections ${proxy.counters.connectionsAccepted}, epoch bumps ${producer.statsSnapshot().epochBumps}`);
    expectEveryMessageReportedOnce(tally);
    expect(tally.failed, JSON.stringify(tally.errorsByName)).to.equal(0);
    expect(proxy.counters.faultsFired).to.equal(30);
    expect(tally.duplicated).to.equal(0);
    expect(read).to.have.length(3_003);
    expectPartitionOrder(read);
  });
});
