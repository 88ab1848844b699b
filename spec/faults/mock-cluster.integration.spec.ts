// Proves the mock cluster helper with an independent client (kcat / librdkafka): records go in
// and come back, injected errors reach the client, brokers go down and come back, leaders move.
// Needs no Kafka broker, but Debian tools (gcc, librdkafka-dev, kcat), hence ".integration.".
import { expect } from 'chai';
import { connect } from 'node:net';
import { startFaultProxies } from '../support/fault-proxy.js';
import { consumeAll, metadata, produce } from '../support/kcat.js';
import { ApiKey, MockClusterError, startMockCluster, type MockCluster } from '../support/mock-cluster/index.js';

describe('mock cluster (librdkafka rdkafka_mock, driven over stdin)', function () {
  this.timeout(60_000);
  let mock: MockCluster;

  beforeEach(async () => {
    mock = await startMockCluster({ brokers: 3, topics: [{ name: 'faults', partitions: 3, replicationFactor: 3 }] });
  });
  afterEach(async () => {
    await mock.stop();
  });

  it('prints one loopback address per broker', () => {
    expect(mock.brokers).to.have.length(3);
    for (const b of mock.brokers) expect(b).to.match(/^127\.0\.0\.1:\d+$/);
  });

  it('kcat produces records and consumes them back', async () => {
    const records = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: `value-${i}` }));
    await produce('faults', records, { bootstrap: mock.bootstrap, timeoutMs: 20_000 });
    const back = await consumeAll('faults', { bootstrap: mock.bootstrap, count: 500, timeoutMs: 20_000 });
    expect(back).to.have.length(500);
    expect(back.map((r) => r.value!.toString()).sort()).to.deep.equal(records.map((r) => r.value).sort());
    expect(new Set(back.map((r) => r.partition)).size).to.be.greaterThan(1);
  });

  it('injected retriable Produce errors are retried by librdkafka and the records arrive once', async () => {
    // Through counting proxies, to see that the three errors were answered and retried.
    const proxies = await startFaultProxies(mock.brokers);
    try {
      await mock.pushRequestErrors(ApiKey.Produce, [6, 'NOT_LEADER_OR_FOLLOWER', 6]);
      await produce('faults', [{ value: 'survives' }], { bootstrap: proxies.map((p) => p.address).join(','), partition: 0, timeoutMs: 20_000 });
      const produceRequests = proxies.reduce((n, p) => n + (p.counters.requestsByApiKey.get(ApiKey.Produce) ?? 0), 0);
      expect(produceRequests).to.equal(4);
    } finally {
      await Promise.all(proxies.map((p) => p.close()));
    }
    const back = await consumeAll('faults', { bootstrap: mock.bootstrap, partition: 0, timeoutMs: 20_000 });
    expect(back.map((r) => r.value!.toString())).to.deep.equal(['survives']);
  });

  it('an injected non-retriable Produce error reaches the client (the injection is real)', async () => {
    await mock.pushRequestErrors(ApiKey.Produce, ['TOPIC_AUTHORIZATION_FAILED']);
    let failure: unknown;
    try {
      await produce('faults', [{ value: 'refused' }], { bootstrap: mock.bootstrap, partition: 0, timeoutMs: 10_000 });
    } catch (e) {
      failure = e;
    }
    // kcat -q exits 1 without printing the reason; the accepted send right after shows the
    // one pushed error was the cause.
    expect(String(failure)).to.match(/kcat could not produce to faults/);
    // The next request is accepted again: only one error was pushed.
    await produce('faults', [{ value: 'accepted' }], { bootstrap: mock.bootstrap, partition: 0, timeoutMs: 20_000 });
    const back = await consumeAll('faults', { bootstrap: mock.bootstrap, partition: 0, timeoutMs: 20_000 });
    expect(back.map((r) => r.value!.toString())).to.deep.equal(['accepted']);
  });

  it('a broker set down refuses connections until it is set up again', async () => {
    const third = mock.brokers[2];
    await metadata({ bootstrap: third, timeoutMs: 5_000 });
    await mock.brokerDown(3);
    expect(await tcpConnects(third)).to.equal(false);
    let failure: unknown;
    try {
      await metadata({ bootstrap: third, timeoutMs: 2_000 });
    } catch (e) {
      failure = e;
    }
    expect(String(failure)).to.match(/kcat -L failed/);
    await mock.brokerUp(3);
    expect(await tcpConnects(third)).to.equal(true);
    const md = await metadata({ bootstrap: third, timeoutMs: 5_000 });
    expect(md.brokers.map((b) => b.id).sort()).to.deep.equal([1, 2, 3]);
  });

  it('leader moves show in the metadata kcat reads', async () => {
    await mock.setLeader('faults', 0, 1);
    await mock.setLeader('faults', 1, 2);
    let md = await metadata({ bootstrap: mock.bootstrap, topic: 'faults' });
    expect(md.topics[0].partitions.map((p) => p.leader).slice(0, 2)).to.deep.equal([1, 2]);
    await mock.setLeader('faults', 0, 3);
    await mock.setLeader('faults', 1, 3);
    md = await metadata({ bootstrap: mock.bootstrap, topic: 'faults' });
    expect(md.topics[0].partitions.map((p) => p.leader).slice(0, 2)).to.deep.equal([3, 3]);
    // Records still reach the moved partition through its new leader.
    await produce('faults', [{ value: 'moved' }], { bootstrap: mock.bootstrap, partition: 0, timeoutMs: 20_000 });
    const back = await consumeAll('faults', { bootstrap: mock.bootstrap, partition: 0, timeoutMs: 20_000 });
    expect(back.map((r) => r.value!.toString())).to.deep.equal(['moved']);
  });

  it('creates topics on command and reports bad commands as typed errors', async () => {
    await mock.createTopic('later', 5, 2);
    const md = await metadata({ bootstrap: mock.bootstrap, topic: 'later' });
    expect(md.topics[0].partitions).to.have.length(5);
    await expectReject(mock.setLeader('faults', 0, 9), /Broker not available/);
    await expectReject(mock.pushRequestErrors(ApiKey.Produce, ['NO_SUCH_ERROR']), /unknown error code/);
    // The session still answers after errors.
    await mock.setRtt(1, 0);
  });

  it('advertises the API ranges kafka-rx must negotiate with (ApiVersions v0)', async () => {
    const ranges = await apiVersionsV0(mock.brokers[0]);
    expect(ranges.get(ApiKey.Produce)).to.deep.equal([0, 7]);
    expect(ranges.get(ApiKey.Metadata)).to.deep.equal([0, 2]);
    expect(ranges.get(ApiKey.ApiVersions)).to.deep.equal([0, 2]);
    await mock.setApiVersion(ApiKey.Produce, 3, 5);
    expect((await apiVersionsV0(mock.brokers[0])).get(ApiKey.Produce)).to.deep.equal([3, 5]);
  });

  it('broker-scoped errors with a delay are answered late', async () => {
    await mock.setLeader('faults', 0, 1);
    await mock.pushBrokerErrors(1, ApiKey.Produce, [{ code: 'REQUEST_TIMED_OUT', rttMs: 1500 }]);
    const started = Date.now();
    await produce('faults', [{ value: 'late' }], { bootstrap: mock.bootstrap, partition: 0, timeoutMs: 20_000 });
    expect(Date.now() - started).to.be.at.least(1500);
  });

  it('sits behind one fault proxy per broker (startFaultProxies): the client only sees proxies', async () => {
    const proxies = await startFaultProxies(mock.brokers);
    try {
      const boot = proxies.map((p) => p.address).join(',');
      const md = await metadata({ bootstrap: boot, topic: 'faults' });
      expect(md.brokers.map((b) => `${b.host}:${b.port}`).sort()).to.deep.equal(proxies.map((p) => p.address).sort());
      const records = Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
      await produce('faults', records, { bootstrap: boot, timeoutMs: 20_000 });
      const back = await consumeAll('faults', { bootstrap: boot, count: 60, timeoutMs: 20_000 });
      expect(back).to.have.length(60);
      // Every partition leader was reached through its own proxy.
      const leaders = new Set(md.topics[0].partitions.map((p) => p.leader));
      const used = proxies.filter((p) => (p.counters.requestsByApiKey.get(ApiKey.Produce) ?? 0) > 0).length;
      expect(used).to.equal(leaders.size);
    } finally {
      await Promise.all(proxies.map((p) => p.close()));
    }
  });

  it('stop() ends the helper and later commands fail', async () => {
    await mock.stop();
    await expectReject(mock.brokerDown(1), MockClusterError);
  });
});

async function expectReject(p: Promise<unknown>, what: RegExp | typeof MockClusterError): Promise<void> {
  let failure: unknown;
  try {
    await p;
  } catch (e) {
    failure = e;
  }
  if (what instanceof RegExp) expect(String(failure)).to.match(what);
  else expect(failure).to.be.instanceOf(what);
}

function tcpConnects(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const s = connect(Number(port), host);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** ApiVersions v0 over a raw socket (its layout is fixed and tiny): apiKey -> [min, max]. */
function apiVersionsV0(address: string): Promise<Map<number, [number, number]>> {
  const [host, port] = address.split(':');
  const clientId = Buffer.from('faults-spec');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(7, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), host, () => s.write(frame));
    let buf = Buffer.alloc(0);
    s.setTimeout(5_000, () => { s.destroy(); reject(new Error('ApiVersions timed out')); });
    s.on('error', reject);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      s.destroy();
      expect(buf.readInt32BE(4)).to.equal(7);
      expect(buf.readInt16BE(8)).to.equal(0);
      const n = buf.readInt32BE(10);
      const out = new Map<number, [number, number]>();
      for (let i = 0, p = 14; i < n; i++, p += 6) out.set(buf.readInt16BE(p), [buf.readInt16BE(p + 2), buf.readInt16BE(p + 4)]);
      resolve(out);
    });
  });
}
