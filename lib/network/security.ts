import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions as TlsConnectionOptions, type SecureContext } from 'node:tls';
import { inspect } from 'node:util';
import { ConfigError } from '../errors/index.js';
import type { SaslExchange, SaslMechanism, SaslPeer } from './sasl/mechanism.js';
import { OAuthBearerMechanism, type OAuthBearerTokenProvider } from './sasl/oauthbearer.js';
import { PlainMechanism } from './sasl/plain.js';
import { ScramMechanism } from './sasl/scram.js';

/** TLS for every connection: true (the system's CAs) or Node's tls.connect options. */
export type TlsOption = boolean | TlsConnectionOptions;

export type SaslOptions =
  | {
      mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
      username: string;
      password: string;
      /** PLAIN only: act as this identity (RFC 4616 authzid); Kafka accepts only the username itself. */
      authorizationId?: string;
    }
  | { mechanism: 'OAUTHBEARER'; tokenProvider: OAuthBearerTokenProvider }
  | CustomSaslOptions;

/** Any other mechanism: kafka-rx runs the handshake, `authenticate` the exchange of tokens. */
export interface CustomSaslOptions {
  mechanism: string;
  authenticate: (exchange: SaslExchange, peer: SaslPeer) => Promise<void>;
}

/**
 * How connections are secured: TLS options and the SASL mechanism, checked once when the client is
 * made. What is secret (passwords, keys, passphrases, tokens) is held in private fields, and the
 * object shows itself to util.inspect and JSON.stringify as what it does, never with what it holds.
 */
export class ConnectionSecurity {
  /** tls.connect options without the key material: that lives in the secure context only. */
  readonly #tls: TlsConnectionOptions | null;
  readonly #passphrase: string | undefined;
  readonly #sasl: SaslMechanism | null;

  private constructor(tls: { options: TlsConnectionOptions; passphrase?: string } | null, sasl: SaslMechanism | null) {
    this.#tls = tls?.options ?? null;
    this.#passphrase = tls?.passphrase;
    this.#sasl = sasl;
  }

  static readonly none = new ConnectionSecurity(null, null);

  static from(tls: unknown, sasl: unknown): ConnectionSecurity {
    return new ConnectionSecurity(tlsOptions(tls), saslMechanism(sasl));
  }

  get tls(): boolean {
    return this.#tls !== null;
  }

  /** The SASL mechanism, or null for none. */
  get sasl(): SaslMechanism | null {
    return this.#sasl;
  }

  /** Opens the socket: TLS (with hostname verification unless the user's options say otherwise) or plain TCP. */
  connect(host: string, port: number): { socket: Socket; readyEvent: 'connect' | 'secureConnect' } {
    if (this.#tls === null) return { socket: tcpConnect({ host, port }), readyEvent: 'connect' };
    // SNI carries a host name, never an address (RFC 6066); Node checks the certificate against
    // servername when given, else against host.
    const servername = this.#tls.servername ?? (isIP(host) === 0 ? host : undefined);
    return { socket: tlsConnect({ ...this.#tls, host, port, servername }), readyEvent: 'secureConnect' };
  }

  /** The text with any secret this configuration holds replaced. */
  redact(text: string): string {
    let out = this.#sasl?.redact(text) ?? text;
    const passphrase = this.#passphrase;
    if (passphrase !== undefined && passphrase.length >= 3) out = out.split(passphrase).join('[redacted]');
    return out;
  }

  describe(): { tls: boolean; sasl: string | null } {
    return { tls: this.tls, sasl: this.#sasl?.name ?? null };
  }

  toJSON(): { tls: boolean; sasl: string | null } {
    return this.describe();
  }

  [inspect.custom](): string {
    const { tls, sasl } = this.describe();
    return `ConnectionSecurity { tls: ${tls}, sasl: ${sasl === null ? 'none' : sasl} }`;
  }
}

/**
 * The options as tls.connect takes them for every connection: the CA, certificate, key and
 * passphrase are loaded into one SecureContext now (a wrong passphrase is a ConfigError here, not
 * a failure per connection) and are not passed on, because a TLS socket keeps the options it was
 * given where util.inspect shows them.
 */
function tlsOptions(tls: unknown): { options: TlsConnectionOptions; passphrase?: string } | null {
  if (tls === undefined || tls === false) return null;
  if (tls === true) return { options: {} };
  if (tls === null || typeof tls !== 'object') throw new ConfigError('tls', 'true, false or tls.connect options ({ ca, cert, key, passphrase, servername, rejectUnauthorized, ... })');
  const options = { ...(tls as TlsConnectionOptions) };
  if ('host' in options || 'port' in options || 'socket' in options) {
    throw new ConfigError('tls', 'tls.connect options without host, port or socket (each broker connection sets its own)');
  }
  let secureContext: SecureContext;
  try {
    secureContext = options.secureContext ?? createSecureContext(options);
  } catch (error) {
    // The values are not shown: they are keys and passphrases.
    const code = (error as { code?: string }).code;
    throw new ConfigError('tls', `options tls.createSecureContext accepts (it refused them${code ? `: ${code}` : ''}; a wrong passphrase or a malformed ca/cert/key)`);
  }
  const passphrase = typeof options.passphrase === 'string' ? options.passphrase : undefined;
  for (const name of SECURE_CONTEXT_OPTIONS) delete options[name];
  return { options: { ...options, secureContext }, passphrase };
}

/** What createSecureContext consumes: with secureContext given, tls.connect does not read these. */
const SECURE_CONTEXT_OPTIONS = [
  'ca', 'cert', 'key', 'passphrase', 'pfx', 'crl', 'sigalgs', 'ciphers', 'clientCertEngine', 'dhparam', 'ecdhCurve',
  'honorCipherOrder', 'privateKeyEngine', 'privateKeyIdentifier', 'maxVersion', 'minVersion', 'secureOptions',
  'secureProtocol', 'sessionIdContext', 'ticketKeys', 'sessionTimeout',
] as const;

function saslMechanism(sasl: unknown): SaslMechanism | null {
  if (sasl === undefined || sasl === null) return null;
  if (typeof sasl !== 'object') throw new ConfigError('sasl', "{ mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER' | a custom name, ... }");
  const options = sasl as Record<string, unknown>;
  const mechanism = options.mechanism;
  if (typeof mechanism !== 'string' || !/^[A-Z0-9_-]{1,20}$/.test(mechanism)) {
    throw new ConfigError('sasl.mechanism', 'a SASL mechanism name (RFC 4422: up to 20 of A-Z, 0-9, - and _)', typeof mechanism === 'string' ? mechanism : typeof mechanism);
  }
  const text = (name: string, optional = false): string | undefined => {
    const value = options[name];
    if (value === undefined && optional) return undefined;
    // The value itself is never put in the error: it may be a secret.
    if (typeof value !== 'string' || value.length === 0) throw new ConfigError(`sasl.${name}`, `a non-empty string for ${mechanism}`);
    return value;
  };
  // A hook of the user's own, whatever the name (also one kafka-rx implements, to replace it).
  if (typeof options.authenticate === 'function') {
    for (const name of Object.keys(options)) {
      if (name !== 'mechanism' && name !== 'authenticate') throw new ConfigError(`sasl.${name}`, 'only mechanism and authenticate with a custom mechanism', 'unknown option');
    }
    return { name: mechanism, authenticate: options.authenticate as CustomSaslOptions['authenticate'], redact: (t: string) => t };
  }
  const known: Record<string, readonly string[]> = {
    PLAIN: ['mechanism', 'username', 'password', 'authorizationId'],
    'SCRAM-SHA-256': ['mechanism', 'username', 'password'],
    'SCRAM-SHA-512': ['mechanism', 'username', 'password'],
    OAUTHBEARER: ['mechanism', 'tokenProvider'],
  };
  const accepted = known[mechanism] ?? ['mechanism', 'authenticate'];
  for (const name of Object.keys(options)) {
    if (!accepted.includes(name)) throw new ConfigError(`sasl.${name}`, `one of the options of ${mechanism}: ${accepted.join(', ')}`, 'unknown option');
  }
  switch (mechanism) {
    case 'PLAIN':
      return new PlainMechanism(text('username')!, text('password')!, text('authorizationId', true));
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512':
      return new ScramMechanism(mechanism, text('username')!, text('password')!);
    case 'OAUTHBEARER': {
      if (typeof options.tokenProvider !== 'function') throw new ConfigError('sasl.tokenProvider', 'a function () => Promise<{ value, expiresAtMs?, extensions? }> for OAUTHBEARER');
      return new OAuthBearerMechanism(options.tokenProvider as OAuthBearerTokenProvider);
    }
    default:
      throw new ConfigError('sasl.authenticate', `a function (exchange, broker) => Promise<void> for the custom mechanism ${mechanism}`);
  }
}
