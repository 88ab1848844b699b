// Proves the fault proxy against the real broker with an independent client (kcat/librdkafka):
// traffic passes and is counted, Metadata names the proxy, and each fault has the effect a
// client can observe (disconnect and recovery, time-outs, an unknown correlation id, a refused
// oversized frame, added latency, dropped connections).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { brokers } from '../support/broker.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { consumeAll, metadata, produce } from '../support/kcat.js';
import { createTopic, uniqueTopic } from '../support/topics.js';
import { readResponseHeader, responseHeaderIsFlexible, writeRequestFrame } from '../../lib/protocol/header.js';
import { ApiVersions } from '../../lib/protocol/api-versions.js';
import { Metadata } from '../../lib/protocol/metadata.js';
import { RawClient } from '../protocol/support/raw-client.js';
import { Writer } from '../../lib/protocol/writer.js';

const PRODUCE = 0;
const METADATA = 3;

describe('fault proxy (between kcat and the real broker)', function () {
  this.timeout(90_000);
  let proxy: FaultProxy;
  let topic: string;

  before(async () => {
    topic = uniqueTopic('faults-proxy');
    await createTopic(topic, { partitions: 1 });
  });
  beforeEach(async () => {
    proxy = await startFaultProxy({ target: brokers()[0] });
  });
  afterEach(async () => {
    await proxy.close();
    await spare?.close();
    spare = undefined;
  });

  // kcat ends itself on librdkafka's "all brokers down" event, which a single broker connection
  // raises at once when it drops. A second bootstrap entry (another proxy whose Metadata points
  // at the first one) keeps kcat running, so what is observed is librdkafka's own retry.
  let spare: FaultProxy | undefined;
  async function bootstrapWithSpare(): Promise<string> {
    spare = await startFaultProxy({ target: brokers()[0], rewriteMetadata: () => ({ host: proxy.host, port: proxy.port }) });
    return `${proxy.address},${spare.address}`;
  }

  it('rewrites Metadata so the client stays on the proxy (and leaves it when told not to)', async () => {
    const md = await metadata({ bootstrap: proxy.address });
    expect(md.brokers.map((b) => `${b.host}:${b.port}`)).to.deep.equal([proxy.address]);
    expect(proxy.counters.metadataRewrites).to.be.greaterThan(0);
    const plain = await startFaultProxy({ target: brokers()[0], rewriteMetadata: false });
    try {
      const direct = await metadata({ bootstrap: plain.address });
      expect(direct.brokers.map((b) => `${b.host}:${b.port}`)).to.deep.equal([brokers()[0]]);
      expect(plain.counters.metadataRewrites).to.equal(0);
    } finally {
      await plain.close();
    }
  });

  it('rewrites the broker list of every Metadata version kafka-rx and the broker both speak, the rest intact', async () => {
    // Metadata v13 came with Kafka 4.x: a 3.9 broker of the CI matrix stops at v12.
    const newest = Math.min(Metadata.maxVersion, await brokerMaxVersion(brokers()[0], Metadata.apiKey));
    for (let version = Metadata.minVersion; version <= newest; version++) {
      const direct = await rawMetadata(brokers()[0], version, topic);
      const proxied = await rawMetadata(proxy.address, version, topic);
      expect(proxied.brokers.map((b) => `${b.host}:${b.port}`), `v${version}`).to.deep.equal([proxy.address]);
      expect(proxied.brokers.map((b) => b.nodeId)).to.deep.equal(direct.brokers.map((b) => b.nodeId));
      expect(proxied.topics, `v${version}`).to.deep.equal(direct.topics);
    }
    expect(proxy.counters.metadataRewrites).to.equal(newest - Metadata.minVersion + 1);
  });

  it('carries produce and consume traffic and counts it', async () => {
    const t = uniqueTopic('faults-proxy-traffic');
    await createTopic(t, { partitions: 2 });
    const records = Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `v${i}`.repeat(50) }));
    await produce(t, records, { bootstrap: proxy.address });
    const back = await consumeAll(t, { bootstrap: proxy.address, count: 200 });
    expect(back.map((r) => r.value!.toString()).sort()).to.deep.equal(records.map((r) => r.value).sort());
    const c = proxy.counters;
    expect(c.connectionsAccepted).to.be.at.least(2);
    expect(c.requestsByApiKey.get(PRODUCE)).to.be.at.least(1);
    expect(c.requests).to.be.at.least(c.responses);
    expect(c.responses).to.be.greaterThan(0);
    expect(c.bytesUp).to.be.greaterThan(200 * 100);
    expect(c.bytesDown).to.be.greaterThan(200 * 100);
  });

  it('tracks requests awaiting a response; acks=0 Produce requests expect none', async () => {
    proxy.stallResponses('forever');
    const socket = connect(proxy.port, proxy.host);
    await new Promise((resolve) => socket.once('connect', resolve));
    const w = new Writer();
    writeRequestFrame(w, Metadata, 12, 1, 'faults-spec', { topics: [topic] });
    socket.write(w.toBuffer());
    await until(() => proxy.counters.awaitingResponses === 1);
    proxy.reset();
    await until(() => proxy.counters.awaitingResponses === 0);
    socket.destroy();

    const r = await kcat(['-P', '-b', proxy.address, '-t', topic, '-p', '0', '-X', 'acks=0'], 'acks-zero\n');
    expect(r.code).to.equal(0);
    expect(proxy.counters.requestsByApiKey.get(PRODUCE)).to.equal(1);
    await until(() => proxy.counters.connectionsOpen === 0);
    expect(proxy.counters.awaitingResponses).to.equal(0);
    const stored = await consumeAll(topic, { bootstrap: brokers()[0] });
    expect(stored[stored.length - 1].value!.toString()).to.equal('acks-zero');
  });

  it('cutNext on a Produce request: the client sees a disconnect, reconnects and delivers once', async () => {
    const before = (await consumeAll(topic, { bootstrap: brokers()[0] })).length;
    proxy.cutNext({ apiKey: PRODUCE, direction: 'request' });
    const r = await kcat(['-P', '-b', await bootstrapWithSpare(), '-t', topic, '-p', '0', '-X', 'acks=all', '-X', 'debug=broker'], 'cut-request\n');
    expect(r.code).to.equal(0);
    expect(proxy.counters.faultsFired).to.equal(1);
    expect(r.stderr).to.match(/Disconnected|Connection reset|Receive failed|Send failed/);
    expect(proxy.counters.connectionsAccepted).to.be.at.least(2);
    const after = await consumeAll(topic, { bootstrap: brokers()[0] });
    expect(after.length - before).to.equal(1);
    expect(after[after.length - 1].value!.toString()).to.equal('cut-request');
  });

  it('cutNext on a Produce response: an idempotent librdkafka producer retries without a duplicate', async () => {
    const before = (await consumeAll(topic, { bootstrap: brokers()[0] })).length;
    proxy.cutNext({ apiKey: PRODUCE, direction: 'response' });
    const r = await kcat(['-P', '-b', await bootstrapWithSpare(), '-t', topic, '-p', '0', '-X', 'enable.idempotence=true'], 'cut-response\n');
    expect(r.code).to.equal(0);
    expect(proxy.counters.faultsFired).to.equal(1);
    // Two Produce requests: the first was written by the broker, its answer was cut.
    expect(proxy.counters.requestsByApiKey.get(PRODUCE)).to.equal(2);
    const after = await consumeAll(topic, { bootstrap: brokers()[0] });
    expect(after.length - before).to.equal(1);
    expect(after[after.length - 1].value!.toString()).to.equal('cut-response');
  });

  it('stallResponses forever makes requests time out until reset(); a finite stall only delays', async () => {
    proxy.stallResponses('forever');
    const stalled = await kcat(['-L', '-b', proxy.address, '-m', '3', '-X', 'socket.timeout.ms=1500']);
    expect(stalled.code).to.not.equal(0);
    expect(stalled.stderr).to.match(/Timed out/);
    proxy.reset();
    expect((await kcat(['-L', '-b', proxy.address, '-m', '5'])).code).to.equal(0);
    proxy.stallResponses(1500);
    const started = Date.now();
    expect((await kcat(['-L', '-b', proxy.address, '-m', '10'])).code).to.equal(0);
    expect(Date.now() - started).to.be.at.least(1400);
  });

  it('hugeLengthNext: librdkafka refuses the 2 GB frame and drops the connection', async () => {
    proxy.hugeLengthNext({ apiKey: METADATA });
    const r = await kcat(['-L', '-b', proxy.address, '-m', '5']);
    expect(r.stderr).to.match(/Invalid response size 2147483632/);
    expect(proxy.counters.faultsFired).to.equal(1);
    await until(() => proxy.counters.connectionsOpen === 0);
  });

  it('garbageNext and wrongCorrelationNext: librdkafka sees a response for an unknown correlation id', async () => {
    for (const inject of [() => proxy.garbageNext({ apiKey: METADATA }), () => proxy.wrongCorrelationNext({ apiKey: METADATA })]) {
      const fired = proxy.counters.faultsFired;
      inject();
      const r = await kcat(['-L', '-b', proxy.address, '-m', '5', '-X', 'debug=broker,protocol']);
      expect(r.stderr, r.stderr).to.match(/Response for unknown CorrId/);
      expect(proxy.counters.faultsFired).to.equal(fired + 1);
    }
  });

  it('delay adds latency to every frame; bytesPerSecond caps the throughput', async () => {
    proxy.delay(200);
    let started = Date.now();
    expect((await kcat(['-L', '-b', proxy.address, '-m', '10'])).code).to.equal(0);
    // ApiVersions and Metadata: two requests and two responses, each held 200 ms.
    expect(Date.now() - started).to.be.at.least(780);

    proxy.delay(0, { bytesPerSecond: 200_000 });
    started = Date.now();
    await produce(topic, [{ value: Buffer.alloc(300_000, 7) }], { bootstrap: proxy.address });
    expect(Date.now() - started).to.be.at.least(1400);
    proxy.reset();
  });

  it('dropAll closes open connections; with refuse, new ones until reset()', async () => {
    const socket = connect(proxy.port, proxy.host);
    await new Promise((resolve) => socket.once('connect', resolve));
    await until(() => proxy.counters.connectionsOpen === 1);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    proxy.dropAll();
    await closed;
    expect(proxy.counters.connectionsOpen).to.equal(0);

    proxy.dropAll({ refuse: true });
    const refused = await kcat(['-L', '-b', proxy.address, '-m', '2']);
    expect(refused.code).to.not.equal(0);
    proxy.reset();
    expect((await kcat(['-L', '-b', proxy.address, '-m', '5'])).code).to.equal(0);
  });
});

function kcat(args: string[], stdin = '', timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('error', reject);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One Metadata request of this version over a raw socket, decoded by kafka-rx's codec. */
/** The newest version of an API the broker at `address` offers (ApiVersions v0, which every broker answers). */
async function brokerMaxVersion(address: string, apiKey: number): Promise<number> {
  const client = await RawClient.open(address);
  try {
    const range = (await client.request(ApiVersions, 0, {})).response.apiKeys.find((k) => k.apiKey === apiKey);
    if (!range) throw new Error(`the broker at ${address} does not offer API ${apiKey}`);
    return range.maxVersion;
  } finally {
    client.close();
  }
}

function rawMetadata(address: string, version: number, topic: string): Promise<ReturnType<typeof Metadata.decodeResponse>> {
  const i = address.lastIndexOf(':');
  const w = new Writer();
  writeRequestFrame(w, Metadata, version, 42, 'faults-spec', { topics: [topic], allowAutoTopicCreation: false });
  const frame = w.toBuffer();
  return new Promise((resolve, reject) => {
    const s = connect(Number(address.slice(i + 1)), address.slice(0, i), () => s.write(frame));
    let buf = Buffer.alloc(0);
    s.setTimeout(10_000, () => { s.destroy(); reject(new Error(`Metadata v${version} timed out`)); });
    s.on('error', reject);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      s.destroy();
      try {
        const body = buf.subarray(4, 4 + buf.readInt32BE(0));
        const header = readResponseHeader(body, responseHeaderIsFlexible(Metadata, version));
        expect(header.correlationId).to.equal(42);
        resolve(Metadata.decodeResponse(body.subarray(header.bodyOffset), version));
      } catch (e) {
        reject(e);
      }
    });
  });
}
