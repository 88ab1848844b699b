// The secured Kafka for the TLS/SASL specs: one one-node cluster started by scripts/kafka --secure
// on first use and shared by every spec of the run (stopped by the root hooks' afterAll), plus
// the client and kcat settings for each of its listeners. Its brokers re-authenticate sessions
// every SHARED_REAUTH_MS (connections.max.reauth.ms), so every SASL spec crosses re-authentications.
import { readFileSync } from 'node:fs';
import type { KafkaClientOptions, SaslOptions } from '../../lib/index.js';
import { startCluster, type LocalCluster, type SecuredEndpoints } from './broker.js';

export const SHARED_REAUTH_MS = 10_000;

let shared: Promise<LocalCluster> | undefined;

/** The shared secured one-node cluster (started on first call, about 15 s). */
export function securedCluster(): Promise<LocalCluster> {
  shared ??= startCluster({ nodes: 1, secure: true, reauthMs: SHARED_REAUTH_MS });
  return shared;
}

export async function stopSecuredCluster(): Promise<void> {
  const started = shared;
  shared = undefined;
  if (started !== undefined) await (await started.catch(() => undefined))?.stop();
}

export type ListenerKind = 'SSL' | 'MTLS' | 'SASL_PLAINTEXT' | 'SASL_SSL';
export type MechanismName = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER';
export const MECHANISMS: readonly MechanismName[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

/**
 * An unsigned JWT (alg none) as Kafka's unsecured validator accepts it: sub is the principal, exp
 * the expiry in seconds. Test-only: a real broker validates signed tokens.
 */
export function unsecuredJwt(subject: string, expiresAtMs: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({ sub: subject, iat: Math.floor(Date.now() / 1000), exp: Math.floor(expiresAtMs / 1000) })}.`;
}

export function bootstrapOf(sec: SecuredEndpoints, listener: ListenerKind): string {
  return { SSL: sec.ssl, MTLS: sec.mtls, SASL_PLAINTEXT: sec.saslPlaintext, SASL_SSL: sec.saslSsl }[listener];
}

export function saslFor(sec: SecuredEndpoints, mechanism: MechanismName, user: 'admin' | 'alice' = 'admin'): SaslOptions {
  const password = user === 'admin' ? sec.adminPassword : sec.alicePassword;
  if (mechanism === 'OAUTHBEARER') {
    return {
      mechanism,
      tokenProvider: async () => {
        const expiresAtMs = Date.now() + 3_600_000;
        return { value: unsecuredJwt(user, expiresAtMs), expiresAtMs };
      },
    };
  }
  return { mechanism, username: user, password };
}

/** Client options for one listener (the CA of the run; the client certificate for MTLS). */
export function clientOptions(sec: SecuredEndpoints, listener: ListenerKind, mechanism?: MechanismName, user: 'admin' | 'alice' = 'admin'): KafkaClientOptions {
  const options: KafkaClientOptions = { brokers: bootstrapOf(sec, listener), clientId: `kafka-rx-${listener.toLowerCase()}` };
  if (listener !== 'SASL_PLAINTEXT') options.tls = { ca: readFileSync(sec.caFile) };
  if (listener === 'MTLS') {
    options.tls = { ca: readFileSync(sec.caFile), cert: readFileSync(sec.clientCertFile), key: readFileSync(sec.clientKeyFile), passphrase: sec.clientKeyPassphrase };
  }
  if (listener.startsWith('SASL')) {
    if (mechanism === undefined) throw new Error(`${listener} needs a SASL mechanism`);
    options.sasl = saslFor(sec, mechanism, user);
  }
  return options;
}

/**
 * kcat (librdkafka) over SASL_SSL as the super user, trusting the run's CA. PLAIN, because Debian's
 * librdkafka 2.0.2 fails SCRAM against Kafka 4.x brokers ("invalid credentials" for users that
 * kafka-rx and the 3.9 broker accept); over TLS, PLAIN is what managed clusters use anyway.
 */
export function kcatReadBack(sec: SecuredEndpoints): { bootstrap: string; config: Record<string, string> } {
  return {
    bootstrap: sec.saslSsl,
    config: {
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'PLAIN',
      'sasl.username': 'admin',
      'sasl.password': sec.adminPassword,
      'ssl.ca.location': sec.caFile,
    },
  };
}
