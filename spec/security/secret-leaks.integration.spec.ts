// Secrets never leave kafka-rx's keeping: the password, the client key and its passphrase, and the
// OAUTHBEARER token must not appear in error messages or stacks, in anything written to the
// console, in stats$, in util.inspect of the client, producer and errors (all depths, hidden
// properties shown), nor in JSON.stringify of any of them. Each check searches the output for the
// real secrets of the run (random per run, made by scripts/kafka --secure).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { KafkaClient, type KafkaClientOptions, type ProducerStatsSnapshot } from '../../lib/index.js';
import type { LocalCluster, SecuredEndpoints } from '../support/broker.js';
import { clientOptions, securedCluster, unsecuredJwt } from '../support/secured-cluster.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

describe('security: no secret in errors, logs, stats$, util.inspect or JSON.stringify', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let sec: SecuredEndpoints;
  let secrets: string[];
  let token: string;

  before(async function () {
    this.timeout(240_000);
    cluster = await securedCluster();
    sec = cluster.security!;
    token = unsecuredJwt('admin', Date.now() + 3_600_000);
    const keyBody = readFileSync(sec.clientKeyFile, 'utf8').split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'));
    // The password, the passphrase, the token, and every line of the (encrypted) key's PEM body.
    secrets = [sec.adminPassword, sec.alicePassword, sec.clientKeyPassphrase, token, token.split('.')[1], ...keyBody];
    expect(secrets.every((s) => s.length >= 16)).to.equal(true);
  });

  function expectNoSecret(where: string, text: string): void {
    for (const secret of secrets) {
      if (text.includes(secret)) expect.fail(`${where} holds a secret (${secret.slice(0, 3)}...)`);
    }
  }

  /** Everything one can look at on an object. */
  function views(name: string, value: unknown): Array<[string, string]> {
    const out: Array<[string, string]> = [
      [`inspect(${name})`, inspect(value, { depth: Infinity, showHidden: true, getters: true })],
      [`String(${name})`, String(value)],
    ];
    try {
      out.push([`JSON.stringify(${name})`, JSON.stringify(value) ?? '']);
    } catch (error) {
      expect.fail(`JSON.stringify(${name}) threw ${String(error)}`);
    }
    if (value instanceof Error) out.push([`${name}.stack`, value.stack ?? '']);
    return out;
  }

  /** Captures console.* and direct writes to stdout/stderr while `run` runs. */
  async function capturingOutput<T>(run: () => Promise<T>): Promise<{ result: T; output: string }> {
    let output = '';
    const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
    const saved = methods.map((m) => console[m]);
    const savedOut = process.stdout.write;
    const savedErr = process.stderr.write;
    for (const m of methods) console[m] = (...args: unknown[]) => { output += `${args.map((a) => inspect(a)).join(' ')}\n`; };
    process.stdout.write = ((chunk: unknown) => { output += String(chunk); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: unknown) => { output += String(chunk); return true; }) as typeof process.stderr.write;
    try {
      return { result: await run(), output };
    } finally {
      methods.forEach((m, i) => { console[m] = saved[i]; });
      process.stdout.write = savedOut;
      process.stderr.write = savedErr;
    }
  }

  function withAllSecrets(base: KafkaClientOptions): KafkaClientOptions {
    return {
      ...base,
      tls: { ca: readFileSync(sec.caFile), cert: readFileSync(sec.clientCertFile), key: readFileSync(sec.clientKeyFile), passphrase: sec.clientKeyPassphrase },
    };
  }

  it('a working SCRAM client over TLS with a client key: inspect, JSON and stats$ show none', async () => {
    const topic = uniqueTopic('writable-leaks');
    await createTopic(topic, { bootstrap: cluster.bootstrap });
    const { output, result } = await capturingOutput(async () => {
      const client = new KafkaClient(withAllSecrets(clientOptions(sec, 'SASL_SSL', 'SCRAM-SHA-256')));
      const stats: ProducerStatsSnapshot[] = [];
      const producer = client.producer(topic, { statsIntervalMs: 50, lingerMs: 1 });
      producer.stats$.subscribe((s) => stats.push(s));
      for (let i = 0; i < 100; i++) await producer.produce(Buffer.from(`m${i}`));
      await producer.flush();
      await new Promise((r) => setTimeout(r, 120));
      const seen = [...views('client', client), ...views('producer', producer), ...views('client.cluster', client.cluster), ...views('stats', stats)];
      await producer.stop();
      await client.close();
      return { seen, stats: stats.length };
    });
    expect(result.stats).to.be.greaterThan(0);
    for (const [where, text] of result.seen) expectNoSecret(where, text);
    expectNoSecret('console output', output);
    // The checks can see a secret where one is: the views do show the security settings.
    expect(result.seen[0][1]).to.match(/tls: true, sasl: SCRAM-SHA-256/);
  });

  it('an OAUTHBEARER client: the token appears nowhere', async () => {
    const topic = uniqueTopic('writable-leaks-oauth');
    await createTopic(topic, { bootstrap: cluster.bootstrap });
    const client = new KafkaClient({ ...clientOptions(sec, 'SASL_SSL', 'OAUTHBEARER'), sasl: { mechanism: 'OAUTHBEARER', tokenProvider: async () => ({ value: token }) } });
    const producer = client.producer(topic, { sync: true });
    await producer.produce(Buffer.from('one'));
    for (const [where, text] of [...views('client', client), ...views('producer', producer)]) expectNoSecret(where, text);
    await producer.stop();
    await client.close();
  });

  it('errors of refused connections (wrong password, refused token) hold no secret, nor do their causes', async () => {
    const errors: unknown[] = [];
    const { output } = await capturingOutput(async () => {
      const wrong = { ...withAllSecrets(clientOptions(sec, 'SASL_SSL', 'PLAIN')), sasl: { mechanism: 'PLAIN' as const, username: 'admin', password: `${sec.alicePassword}` } };
      const badToken = { ...clientOptions(sec, 'SASL_SSL', 'OAUTHBEARER'), sasl: { mechanism: 'OAUTHBEARER' as const, tokenProvider: async () => ({ value: unsecuredJwt('admin', Date.now() - 60_000) }) } };
      // A provider that fails (kafka-rx cannot redact what it was never given: this one's message holds no secret).
      const throwing = { ...clientOptions(sec, 'SASL_SSL', 'OAUTHBEARER'), sasl: { mechanism: 'OAUTHBEARER' as const, tokenProvider: async () => { throw new Error('identity provider unreachable'); } } };
      for (const options of [wrong, badToken, throwing]) {
        const client = new KafkaClient(options);
        const producer = client.producer(uniqueTopic('writable-nowhere'));
        await producer.produce(Buffer.from('x')).catch((error) => errors.push(error));
        await producer.stop();
        await client.close();
      }
    });
    expect(errors).to.have.length(3);
    for (const error of errors) for (const [where, text] of views('error', error)) expectNoSecret(where, text);
    expectNoSecret('console output', output);
  });

  it('refused options: the ConfigError does not quote the secret', () => {
    const attempts: Array<() => unknown> = [
      () => new KafkaClient({ brokers: sec.ssl, tls: { key: readFileSync(sec.clientKeyFile), cert: readFileSync(sec.clientCertFile), passphrase: `${sec.clientKeyPassphrase}x` } }),
      () => new KafkaClient({ brokers: sec.saslSsl, sasl: { mechanism: 'PLAIN', username: '', password: sec.adminPassword } }),
      () => new KafkaClient({ brokers: sec.saslSsl, sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: sec.adminPassword, extra: 1 } as never }),
    ];
    for (const attempt of attempts) {
      let thrown: unknown;
      try {
        attempt();
      } catch (error) {
        thrown = error;
      }
      expect(thrown, 'refused').to.be.instanceOf(Error);
      for (const [where, text] of views('error', thrown)) expectNoSecret(where, text);
    }
  });
});
