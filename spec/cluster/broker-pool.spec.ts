import { expect } from 'chai';
import { createServer, connect, type AddressInfo } from 'node:net';
import { VirtualTimeScheduler } from 'rxjs';
import { BrokerPool } from '../../lib/cluster/broker-pool.js';
import { ConnectionError } from '../../lib/errors/index.js';

/** A port on this host where nothing listens: every connection is refused at once, for real. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const settled = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: unknown) => error);
const ioTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('BrokerPool reconnect backoff (virtual clock, real refused connections)', () => {
  it('waits out the backoff on its scheduler before connecting again, doubling up to the cap', async () => {
    const port = await closedPort();
    const scheduler = new VirtualTimeScheduler();
    const attemptsAt: number[] = [];
    const pool = new BrokerPool({
      clientId: 'backoff-spec',
      reconnectBackoffMs: 100,
      reconnectBackoffMaxMs: 300,
      scheduler,
      socketFactory: (host, p) => {
        attemptsAt.push(scheduler.now());
        return connect(p, host);
      },
    });
    try {
      expect(await settled(pool.get('127.0.0.1', port))).to.be.instanceOf(ConnectionError);
      for (let attempt = 2; attempt <= 4; attempt++) {
        const next = settled(pool.get('127.0.0.1', port));
        await ioTurn();
        // Nothing is tried until the scheduler's clock reaches the end of the pause.
        expect(attemptsAt).to.have.length(attempt - 1);
        scheduler.flush();
        expect(await next).to.be.instanceOf(ConnectionError);
        expect(attemptsAt).to.have.length(attempt);
      }
      const pauses = attemptsAt.slice(1).map((at, i) => at - attemptsAt[i]);
      // 100, 200, then the 300 cap; each spread by up to 20% either way.
      [100, 200, 300].forEach((pause, i) => expect(pauses[i]).to.be.within(pause * 0.8, pause * 1.2));
    } finally {
      await pool.close();
    }
  });
});
