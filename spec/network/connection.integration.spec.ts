import { expect } from 'chai';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConnectionError, KafkaRxError, ProtocolError, RequestNotSentError, RequestTimeoutError } from '../../lib/errors/index.js';
import { Connection } from '../../lib/network/connection.js';
import { ApiVersions, brokerRangeOf } from '../../lib/protocol/api-versions.js';
import { Metadata } from '../../lib/protocol/metadata.js';
import { Produce } from '../../lib/protocol/produce.js';
import { encodeRecordBatch } from '../../lib/records/index.js';
import { brokers } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { createTopic, uniqueTopic } from '../support/topics.js';
import { RawClient } from '../protocol/support/raw-client.js';

function brokerConnection(options: Partial<ConstructorParameters<typeof Connection>[0]> = {}) {
  const [host, port] = brokers()[0].split(':');
  return new Connection({ host, port: Number(port), clientId: 'kafka-rx-spec', ...options });
}

/**
 * A real TCP peer in front of the broker: it relays the first request (ApiVersions) to the broker
 * and its answer back, so the connection negotiates for real, then misbehaves as told.
 */
async function misbehavingPeer(behaviour: (socket: Socket, request: Buffer) => void): Promise<{ server: Server; port: number }> {
  const [host, port] = brokers()[0].split(':');
  const server = createServer((client) => {
    let negotiated = false;
    client.on('data', async (chunk) => {
      // Every ApiVersions request (a retry at the broker's version follows one it does not know).
      if (negotiated || chunk.readInt16BE(4) !== ApiVersions.apiKey) {
        negotiated = true;
        return behaviour(client, chunk);
      }
      client.write(await relayOnce(host, Number(port), chunk));
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function relayOnce(host: string, port: number, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (all.length >= 4 && all.length >= all.readInt32BE(0) + 4) {
        socket.destroy();
        resolve(all);
      }
    });
    socket.on('error', reject);
  });
}

describe('Connection against the real broker', function () {
  this.timeout(60_000);

  it('negotiates versions with ApiVersions first: the highest each side speaks', async () => {
    const broker = await RawClient.versionsOf(brokers()[0]);
    const connection = brokerConnection();
    await connection.connect();
    for (const api of [ApiVersions, Metadata, Produce]) {
      const expected = Math.min(api.maxVersion, brokerRangeOf(broker, api.apiKey)!.maxVersion);
      expect(connection.versionOf(api), api.name).to.equal(expected);
    }
    expect(connection.versionOf(ApiVersions)).to.be.at.least(3);
    await connection.close();
  });

  it('keeps 20 requests in flight through a bound of 5 and matches every answer', async () => {
    const connection = brokerConnection({ maxInFlightRequests: 5 });
    await connection.connect();
    const responses = await Promise.all(Array.from({ length: 20 }, () => connection.send(Metadata, { topics: [] })));
    expect(responses).to.have.length(20);
    for (const response of responses) expect(response!.brokers.length).to.be.at.least(1);
    await connection.close();
  });

  it('resolves an acks=0 Produce once written, and the records arrive', async () => {
    const topic = uniqueTopic('acks0');
    await createTopic(topic, { partitions: 1 });
    const connection = brokerConnection();
    await connection.connect();
    const records = encodeRecordBatch([{ key: null, value: Buffer.from('fire and forget'), timestamp: Date.now() }]);
    const topicId = (await connection.send(Metadata, { topics: [topic] }))!.topics[0].topicId;
    const response = await connection.send(Produce, { transactionalId: null, acks: 0, timeoutMs: 1000, topics: [{ name: topic, topicId, partitions: [{ index: 0, records }] }] });
    expect(response).to.equal(undefined);
    const read = await consumeAll(topic, { count: 1 });
    expect(read[0].value!.toString()).to.equal('fire and forget');
    await connection.close();
  });

  it('fails with ConnectionError when nothing listens', async () => {
    const connection = new Connection({ host: '127.0.0.1', port: 1, clientId: 'x' });
    let error: unknown;
    await connection.connect().catch((e) => (error = e));
    expect(error).to.be.instanceOf(ConnectionError);
    expect((error as KafkaRxError).retriable).to.equal(true);
  });

  it('times out a request that gets no answer and drops the connection', async () => {
    const { server, port } = await misbehavingPeer(() => undefined);
    const connection = new Connection({ host: '127.0.0.1', port, clientId: 'x', requestTimeoutMs: 300 });
    await connection.connect();
    let closed: unknown;
    connection.onClose((error) => (closed = error));
    const started = Date.now();
    let error: unknown;
    await connection.send(Metadata, { topics: [] }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(RequestTimeoutError);
    expect(Date.now() - started).to.be.within(250, 2000);
    expect(closed).to.be.instanceOf(ConnectionError);
    await connection.close();
    server.close();
  });

  it('tells a request that never left (RequestNotSentError) from one lost on the wire (a plain ConnectionError)', async () => {
    // The peer closes the connection on the first request after negotiation: that request was
    // written (maybe read), the one waiting for a slot behind it and the one sent after were not.
    const { server, port } = await misbehavingPeer((socket) => socket.destroy());
    const connection = new Connection({ host: '127.0.0.1', port, clientId: 'x', maxInFlightRequests: 1 });
    await connection.connect();
    const [written, queued] = await Promise.all([
      connection.send(Metadata, { topics: [] }).catch((e: unknown) => e),
      connection.send(Metadata, { topics: [] }).catch((e: unknown) => e),
    ]);
    const after = await connection.send(Metadata, { topics: [] }).catch((e: unknown) => e);
    expect(written).to.be.instanceOf(ConnectionError);
    expect(written).not.to.be.instanceOf(RequestNotSentError);
    expect(queued).to.be.instanceOf(RequestNotSentError);
    expect(after).to.be.instanceOf(RequestNotSentError);
    expect((after as RequestNotSentError).retriable).to.equal(true);
    await connection.close();
    server.close();
  });

  it('times out by the earliest deadline among requests with different timeouts', async () => {
    const { server, port } = await misbehavingPeer(() => undefined);
    const connection = new Connection({ host: '127.0.0.1', port, clientId: 'x', requestTimeoutMs: 30_000 });
    await connection.connect();
    const started = Date.now();
    const outcomes = await Promise.all([
      connection.send(Metadata, { topics: [] }, { timeoutMs: 20_000 }).catch((e: unknown) => e),
      connection.send(Metadata, { topics: [] }, { timeoutMs: 250 }).catch((e: unknown) => e),
    ]);
    // The later request's shorter deadline decides; the earlier request fails with the connection.
    expect(Date.now() - started).to.be.within(200, 3000);
    expect(outcomes[1]).to.be.instanceOf(RequestTimeoutError);
    expect(outcomes[0]).to.be.instanceOf(ConnectionError);
    await connection.close();
    server.close();
  });

  it('drops the connection on a 2 GB length prefix, on garbage and on a wrong correlation id', async () => {
    const answers: Array<[string, (socket: Socket, request: Buffer) => void]> = [
      ['huge', (socket) => socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]))],
      ['garbage', (socket, request) => {
        // The right correlation id, then bytes that are no Metadata response.
        const frame = Buffer.alloc(16, 0xff);
        frame.writeInt32BE(12, 0);
        frame.writeInt32BE(request.readInt32BE(8), 4);
        socket.write(frame);
      }],
      ['wrong id', (socket, request) => {
        const id = request.readInt32BE(8) + 1000;
        const frame = Buffer.alloc(8);
        frame.writeInt32BE(4, 0);
        frame.writeInt32BE(id, 4);
        socket.write(frame);
      }],
    ];
    for (const [name, behaviour] of answers) {
      const { server, port } = await misbehavingPeer(behaviour);
      const connection = new Connection({ host: '127.0.0.1', port, clientId: 'x', requestTimeoutMs: 5000 });
      await connection.connect();
      let error: unknown;
      await connection.send(Metadata, { topics: [] }).catch((e) => (error = e));
      expect(error, name).to.be.instanceOf(KafkaRxError);
      expect(error instanceof ConnectionError || error instanceof ProtocolError, `${name}: ${String(error)}`).to.equal(true);
      expect(connection.isConnected, name).to.equal(false);
      await connection.close();
      server.close();
    }
  });

  describe('a socket whose write() throws (socketFactory)', () => {
    /** A real TCP socket to the broker whose next write() calls throw, as a test's own socket may. */
    function throwingSocketConnection(): { connection: Connection; throwOnWrite: (pieceIndex: number) => void } {
      const [host, port] = brokers()[0].split(':');
      let throwAt = -1;
      const socketFactory = (h: string, p: number) => {
        const socket = connect({ host: h, port: p });
        const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
        socket.write = ((...args: unknown[]) => {
          if (throwAt === 0) {
            throwAt = -1;
            throw new Error('write refused by the test socket');
          }
          if (throwAt > 0) throwAt -= 1;
          return write(...args);
        }) as Socket['write'];
        return socket;
      };
      const connection = new Connection({ host, port: Number(port), clientId: 'kafka-rx-spec', socketFactory });
      return { connection, throwOnWrite: (pieceIndex) => (throwAt = pieceIndex) };
    }

    /** The topic's id, which Produce v13 (Kafka 4.x) names it by. */
    const topicIds = new Map<string, Buffer | null>();
    async function learnTopicId(connection: Connection, topic: string): Promise<void> {
      topicIds.set(topic, (await connection.send(Metadata, { topics: [topic] }))!.topics[0].topicId);
    }

    /** A 20 KB value makes the record batch a piece of its own (frame-writer's GATHER_FROM). */
    function produceRequest(topic: string, value: string, padding = 0) {
      const records = encodeRecordBatch([{ key: null, value: Buffer.from(value.padEnd(value.length + padding, '.')), timestamp: Date.now() }]);
      return { transactionalId: null, acks: 1 as const, timeoutMs: 5000, topics: [{ name: topic, topicId: topicIds.get(topic), partitions: [{ index: 0, records }] }] };
    }

    it('fails only that request as not sent and keeps the connection: no mismatch, no duplicate', async () => {
      const topic = uniqueTopic('throwing-write');
      await createTopic(topic, { partitions: 1 });
      const { connection, throwOnWrite } = throwingSocketConnection();
      await connection.connect();
      await learnTopicId(connection, topic);
      await connection.send(Produce, produceRequest(topic, 'first'));
      throwOnWrite(0);
      let error: unknown;
      await connection.send(Produce, produceRequest(topic, 'refused')).catch((e) => (error = e));
      expect(error).to.be.instanceOf(ConnectionError);
      expect(String(error)).to.contain('not sent');
      expect(connection.isConnected).to.equal(true);
      // Without unregistering, the refused request would be due first and this answer a mismatch.
      const responses = await Promise.all(['second', 'third'].map((value) => connection.send(Produce, produceRequest(topic, value))));
      for (const response of responses) expect(response!.responses[0].partitionResponses[0].errorCode).to.equal(0);
      expect(connection.isConnected).to.equal(true);
      await connection.close();
      const read = await consumeAll(topic);
      expect(read.map((record) => record.value!.toString())).to.deep.equal(['first', 'second', 'third']);
    });

    it('drops the connection when a write throws midway through a frame, the request unsent', async () => {
      const topic = uniqueTopic('throwing-write-midway');
      await createTopic(topic, { partitions: 1 });
      const { connection, throwOnWrite } = throwingSocketConnection();
      await connection.connect();
      await learnTopicId(connection, topic);
      throwOnWrite(1);
      let error: unknown;
      await connection.send(Produce, produceRequest(topic, 'cut', 20_000)).catch((e) => (error = e));
      expect(error).to.be.instanceOf(ConnectionError);
      expect(String(error)).to.contain('not sent');
      expect(connection.isConnected).to.equal(false);
      await connection.close();
      expect(await consumeAll(topic)).to.deep.equal([]);
    });
  });
});
