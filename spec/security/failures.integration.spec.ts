// What a secured cluster refuses, refused the way the issue asks: a typed error, not retried into
// a hang, within a bounded time, every message produced reported exactly once (its produce()
// rejects), and nothing written (kcat finds the topic empty).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import {
  ClusterAuthorizationFailedError,
  IllegalSaslStateError,
  KafkaClient,
  KafkaRxError,
  SaslAuthenticationFailedError,
  TlsHandshakeError,
  TopicAuthorizationFailedError,
  type KafkaClientOptions,
  type ProducerOptions,
} from '../../lib/index.js';
import type { LocalCluster, SecuredEndpoints } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { clientOptions, kcatReadBack, securedCluster, unsecuredJwt } from '../support/secured-cluster.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

const MESSAGES = 200;
/** Generous for a loaded 2-core machine, far below the 120 s deliveryTimeoutMs a retry loop would take. */
const BOUND_MS = 15_000;

describe('security: refusals are typed, bounded, reported once per message, and write nothing', function () {
  this.timeout(120_000);
  let cluster: LocalCluster;
  let sec: SecuredEndpoints;

  before(async function () {
    this.timeout(240_000);
    cluster = await securedCluster();
    sec = cluster.security!;
  });

  /** Produces MESSAGES messages with default producer options and collects each one's outcome. */
  async function refused(options: KafkaClientOptions, topicPrefix = 'writable-refused', producerOptions: ProducerOptions = {}) {
    const topic = uniqueTopic(topicPrefix);
    await createTopic(topic, { partitions: 2, bootstrap: cluster.bootstrap });
    const client = new KafkaClient(options);
    const started = Date.now();
    const outcomes: Array<{ ok: boolean; error?: unknown }> = [];
    const reports: unknown[] = [];
    try {
      const producer = client.producer(topic, producerOptions);
      producer.deliveryReports$.subscribe((report) => reports.push(report));
      const all = Array.from({ length: MESSAGES }, (_, i) =>
        producer.produce(Buffer.from(`refused ${i}`)).then(
          () => outcomes.push({ ok: true }),
          (error) => outcomes.push({ ok: false, error }),
        ),
      );
      await Promise.all(all);
      await producer.stop();
    } finally {
      await client.close();
    }
    const elapsedMs = Date.now() - started;
    const { bootstrap, config } = kcatReadBack(sec);
    const written = await consumeAll(topic, { bootstrap, config, timeoutMs: 30_000, headers: false });
    return { outcomes, reports, elapsedMs, written, topic };
  }

  function expectRefused(run: Awaited<ReturnType<typeof refused>>, ErrorClass: abstract new (...args: any[]) => Error, mentions?: RegExp) {
    expect(run.outcomes, 'one outcome per message').to.have.length(MESSAGES);
    expect(run.outcomes.filter((o) => o.ok), 'accepted despite the refusal').to.have.length(0);
    expect(run.reports, 'no message reached the pipeline, so no report besides the rejection').to.have.length(0);
    for (const { error } of run.outcomes) {
      expect(error).to.be.instanceOf(ErrorClass);
      expect(error).to.be.instanceOf(KafkaRxError);
      expect((error as KafkaRxError).retriable).to.equal(false);
      if (mentions) expect((error as Error).message).to.match(mentions);
    }
    expect(run.elapsedMs).to.be.lessThan(BOUND_MS);
    expect(run.written, 'records in the topic').to.have.length(0);
  }

  it('an unknown CA (the system CAs only): TlsHandshakeError', async () => {
    const run = await refused({ ...clientOptions(sec, 'SSL'), tls: true });
    expectRefused(run, TlsHandshakeError, /self-signed|issuer/i);
  });

  it('a host name the certificate does not cover: TlsHandshakeError', async () => {
    const run = await refused({ ...clientOptions(sec, 'SSL'), tls: { ca: readFileSync(sec.caFile), servername: 'not-the-broker.example' } });
    expectRefused(run, TlsHandshakeError, /not-the-broker\.example/);
    expect((run.outcomes[0].error as TlsHandshakeError).code).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('a plaintext client on a TLS port: TlsHandshakeError, not a garbled frame', async () => {
    const options = clientOptions(sec, 'SSL');
    delete options.tls;
    const run = await refused(options);
    expectRefused(run, TlsHandshakeError, /expects TLS/);
  });

  it('no client certificate on the mutual-TLS listener: TlsHandshakeError (the broker refuses the handshake)', async () => {
    const run = await refused({ ...clientOptions(sec, 'MTLS'), tls: { ca: readFileSync(sec.caFile) } });
    expectRefused(run, TlsHandshakeError, /certificate/);
  });

  it('SASL on a listener without SASL: IllegalSaslStateError that says so', async () => {
    const run = await refused({ ...clientOptions(sec, 'SSL'), sasl: { mechanism: 'PLAIN', username: 'admin', password: sec.adminPassword } });
    expectRefused(run, IllegalSaslStateError, /does not take SASL/);
  });

  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    it(`a wrong password (${mechanism}, SASL_SSL): SaslAuthenticationFailedError`, async () => {
      const options = clientOptions(sec, 'SASL_SSL', mechanism, 'alice');
      options.sasl = { mechanism, username: 'alice', password: 'not-alices-password' };
      const run = await refused(options);
      expectRefused(run, SaslAuthenticationFailedError, new RegExp(mechanism));
    });
  }

  it('an expired OAUTHBEARER token: SaslAuthenticationFailedError', async () => {
    const options = clientOptions(sec, 'SASL_SSL', 'OAUTHBEARER');
    options.sasl = { mechanism: 'OAUTHBEARER', tokenProvider: async () => ({ value: unsecuredJwt('admin', Date.now() - 60_000) }) };
    const run = await refused(options);
    expectRefused(run, SaslAuthenticationFailedError, /OAUTHBEARER/);
  });

  it('an invalid OAUTHBEARER token (not a JWT): SaslAuthenticationFailedError', async () => {
    const options = clientOptions(sec, 'SASL_PLAINTEXT', 'OAUTHBEARER');
    options.sasl = { mechanism: 'OAUTHBEARER', tokenProvider: async () => ({ value: 'bm90LWEtand0' }) };
    const run = await refused(options);
    expectRefused(run, SaslAuthenticationFailedError, /OAUTHBEARER/);
  });

  it('a token provider that throws: SaslAuthenticationFailedError naming the provider', async () => {
    const options = clientOptions(sec, 'SASL_SSL', 'OAUTHBEARER');
    options.sasl = { mechanism: 'OAUTHBEARER', tokenProvider: async () => { throw new Error('identity provider unreachable'); } };
    const run = await refused(options);
    expectRefused(run, SaslAuthenticationFailedError, /token provider failed .*identity provider unreachable/);
  });

  it('a token provider that never answers: SaslAuthenticationFailedError after the request timeout', async () => {
    const options = { ...clientOptions(sec, 'SASL_SSL', 'OAUTHBEARER'), requestTimeoutMs: 2_000 };
    options.sasl = { mechanism: 'OAUTHBEARER', tokenProvider: () => new Promise(() => undefined) };
    const run = await refused(options);
    expectRefused(run, SaslAuthenticationFailedError, /did not finish within 2000 ms/);
  });

  it('a wrong password, produce() called again and again for 4 s: reconnects back off (no storm)', async () => {
    const topic = uniqueTopic('writable-backoff');
    await createTopic(topic, { bootstrap: cluster.bootstrap });
    let connects = 0;
    const client = new KafkaClient({
      ...clientOptions(sec, 'SASL_PLAINTEXT', 'SCRAM-SHA-256'),
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'not-the-password' },
      // Counts the TCP connections the client opens (SASL_PLAINTEXT: no TLS to add).
      socketFactory: (host, port) => {
        connects++;
        return connect({ host, port });
      },
    });
    const errors: unknown[] = [];
    const producer = client.producer(topic);
    const until = Date.now() + 4_000;
    const calls: Promise<unknown>[] = [];
    // A produce() every 10 ms without waiting for the last: an application that keeps trying.
    while (Date.now() < until) {
      calls.push(producer.produce(Buffer.from('x')).catch((error) => errors.push(error)));
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(calls);
    await producer.stop();
    await client.close();
    console.log(`      ${calls.length} produce() calls, ${connects} connections opened`);
    expect(errors).to.have.length(calls.length);
    for (const error of errors) expect(error).to.be.instanceOf(SaslAuthenticationFailedError);
    // The pool's backoff (100 ms doubling, +-20%) allows about 6 attempts in 4 s (6 measured); with
    // reconnectBackoffMs 0 the same run opened 12, one per call would be ~300.
    expect(calls.length).to.be.greaterThan(50);
    expect(connects).to.be.within(2, 8);
  });

  it('a user without a WRITE ACL on the topic: TopicAuthorizationFailedError naming the topic', async () => {
    const run = await refused(clientOptions(sec, 'SASL_SSL', 'SCRAM-SHA-256', 'alice'), 'not-writable');
    expectRefused(run, TopicAuthorizationFailedError, new RegExp(run.topic));
  });

  it('the same user, acks=all (idempotent): TopicAuthorizationFailedError, not a retry loop', async () => {
    const run = await refused(clientOptions(sec, 'SASL_SSL', 'SCRAM-SHA-512', 'alice'), 'not-writable', { requiredAcks: 'all' });
    expect(run.outcomes.map((o) => (o.error as Error)?.constructor.name)).to.satisfy((names: string[]) =>
      names.every((n) => n === TopicAuthorizationFailedError.name || n === ClusterAuthorizationFailedError.name));
    expect(run.elapsedMs).to.be.lessThan(BOUND_MS);
    expect(run.written).to.have.length(0);
  });

  it('the user allowed to write: its topic gets every message (the ACL is what refused above)', async () => {
    const topic = uniqueTopic('writable-alice');
    await createTopic(topic, { partitions: 1, bootstrap: cluster.bootstrap });
    const client = new KafkaClient(clientOptions(sec, 'SASL_SSL', 'SCRAM-SHA-256', 'alice'));
    try {
      const producer = client.producer(topic, { sync: true });
      for (let i = 0; i < 10; i++) await producer.produce(Buffer.from(`alice ${i}`));
      await producer.stop();
    } finally {
      await client.close();
    }
    const { bootstrap, config } = kcatReadBack(sec);
    expect(await consumeAll(topic, { bootstrap, config, headers: false })).to.have.length(10);
  });
});
