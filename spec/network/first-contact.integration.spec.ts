// Pointing kafka-rx at a port where something else listens must say so, quickly: a real HTTP
// server (Node's http module) and a real TCP server that accepts and stays silent stand in for the
// services people mistype a port for.
import { expect } from 'chai';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { KafkaClient, KafkaRxError, NotKafkaError, RequestTimeoutError } from '../../lib/index.js';
import { Connection } from '../../lib/network/connection.js';

async function listening<T extends Server | ReturnType<typeof createHttpServer>>(server: T): Promise<{ server: T; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function closed(server: { close(callback: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('first contact with a peer that does not speak Kafka', function () {
  this.timeout(60_000);

  it('names an HTTP server as such at once, not after the request timeouts', async () => {
    const http = await listening(createHttpServer((_request, response) => response.end('hello')));
    // Timeouts far beyond the spec's own: an answer within them comes from reading the bytes.
    const client = new KafkaClient({ brokers: [`127.0.0.1:${http.port}`], requestTimeoutMs: 120_000, firstContactTimeoutMs: 120_000 });
    try {
      const producer = client.producer('events');
      const error = await producer.produce(Buffer.from('v')).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(NotKafkaError);
      expect(error).to.be.instanceOf(KafkaRxError);
      expect((error as NotKafkaError).retriable).to.equal(false);
      expect((error as Error).message).to.contain('does not speak Kafka').and.contain('HTTP/1.1 400').and.contain('an HTTP server');
      expect((error as NotKafkaError).broker).to.equal(`127.0.0.1:${http.port}`);
    } finally {
      await client.close();
      http.server.closeAllConnections();
      await closed(http.server);
    }
  });

  it('names a peer answering binary garbage, with its first bytes', async () => {
    const garbage = await listening(createServer((socket) => socket.once('data', () => socket.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3])))));
    const connection = new Connection({ host: '127.0.0.1', port: garbage.port, clientId: 'x', requestTimeoutMs: 120_000 });
    const error = await connection.connect().then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(NotKafkaError);
    expect((error as Error).message).to.contain('de ad be ef').and.contain('does not speak Kafka');
    await connection.close();
    await closed(garbage.server);
  });

  it('gives up on a silent peer after firstContactTimeoutMs with a hint, and the client does not ask it again and again', async () => {
    const accepted: Socket[] = [];
    const silent = await listening(createServer((socket) => accepted.push(socket)));
    const client = new KafkaClient({ brokers: [`127.0.0.1:${silent.port}`], firstContactTimeoutMs: 300 });
    try {
      const error = await client.producer('events').produce(Buffer.from('v')).then(() => undefined, (e: unknown) => e);
      expect(error).to.be.instanceOf(RequestTimeoutError);
      expect((error as RequestTimeoutError).firstContact).to.equal(true);
      expect((error as Error).message).to.contain('did not answer ApiVersions within 300 ms').and.contain('does not speak Kafka');
      // Retriable (a broker may yet come up there), but one silent first contact per call is enough:
      // before, the bootstrap was tried three times, each waiting out a 30 s request timeout.
      expect((error as RequestTimeoutError).retriable).to.equal(true);
      expect(accepted).to.have.length(1);
    } finally {
      await client.close();
      for (const socket of accepted) socket.destroy();
      await closed(silent.server);
    }
  });
});
