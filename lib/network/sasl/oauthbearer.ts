/**
 * OAUTHBEARER (RFC 7628, Kafka's KIP-255 and KIP-342 for extensions), client side: one message,
 *
 *   n,,\x01auth=Bearer <token>\x01[<key>=<value>\x01]*\x01
 *
 * On a token the broker refuses it answers with a JSON error (RFC 7628 section 3.2.2) and waits
 * for a lone \x01, after which it fails the authentication with SASL_AUTHENTICATION_FAILED.
 *
 * The token comes from the user's provider. One kept token serves every connection until 80% of
 * its lifetime has passed (when expiresAtMs is given; otherwise each authentication asks again),
 * so connections and re-authentications (KIP-368) made near the end of its life get a fresh one.
 */
import { SaslAuthenticationFailedError } from '../../errors/index.js';
import type { SaslExchange, SaslMechanism, SaslPeer } from './mechanism.js';
import { redactSecrets } from './mechanism.js';

export interface OAuthBearerToken {
  /** The token as the broker expects it (a JWT for Kafka's validators). */
  value: string;
  /** When the token expires, milliseconds since the epoch. */
  expiresAtMs?: number;
  /** SASL extensions (KIP-342), e.g. { logicalCluster: 'lkc-123' } for some managed services. */
  extensions?: Record<string, string>;
}

export type OAuthBearerTokenProvider = () => Promise<OAuthBearerToken>;

const SEPARATOR = '\x01';
const REFRESH_AT_SHARE_OF_LIFETIME = 0.8;

export class OAuthBearerMechanism implements SaslMechanism {
  readonly name = 'OAUTHBEARER';
  readonly #provider: OAuthBearerTokenProvider;
  #kept: { token: OAuthBearerToken; refreshAt: number } | null = null;
  #asking: Promise<OAuthBearerToken> | null = null;
  /** Every token value handed out, for redact(); only the last few are kept. */
  #seen: string[] = [];

  constructor(provider: OAuthBearerTokenProvider, private readonly now: () => number = Date.now) {
    this.#provider = provider;
  }

  async authenticate(exchange: SaslExchange, peer: SaslPeer): Promise<void> {
    const token = await this.token(peer);
    let message = `n,,${SEPARATOR}auth=Bearer ${token.value}${SEPARATOR}`;
    for (const [key, value] of Object.entries(token.extensions ?? {})) message += `${key}=${value}${SEPARATOR}`;
    message += SEPARATOR;
    const answer = await exchange(Buffer.from(message, 'utf8'));
    if (answer.length === 0) return;
    // An error challenge: acknowledge it so that the broker reports the failure as an error code.
    const detail = answer.toString('utf8');
    await exchange(Buffer.from(SEPARATOR, 'utf8'));
    throw new SaslAuthenticationFailedError(`OAUTHBEARER with ${peer.host}:${peer.port}: the broker refused the token: ${this.redact(detail)}`);
  }

  redact(text: string): string {
    return redactSecrets(text, this.#seen);
  }

  private async token(peer: SaslPeer): Promise<OAuthBearerToken> {
    const kept = this.#kept;
    if (kept !== null && this.now() < kept.refreshAt) return kept.token;
    this.#asking ??= this.ask(peer).finally(() => {
      this.#asking = null;
    });
    return this.#asking;
  }

  private async ask(peer: SaslPeer): Promise<OAuthBearerToken> {
    let token: OAuthBearerToken;
    try {
      token = await this.#provider();
    } catch (error) {
      // The provider's own error may hold anything; only its class and message are kept.
      const why = error instanceof Error ? `${error.name}: ${this.redact(error.message)}` : 'a non-Error value';
      throw new SaslAuthenticationFailedError(`OAUTHBEARER with ${peer.host}:${peer.port}: the token provider failed (${why})`);
    }
    checkToken(token, peer);
    this.#seen = [...this.#seen.slice(-3), token.value];
    const obtained = this.now();
    this.#kept =
      token.expiresAtMs === undefined ? null : { token, refreshAt: obtained + (token.expiresAtMs - obtained) * REFRESH_AT_SHARE_OF_LIFETIME };
    return token;
  }
}

function checkToken(token: OAuthBearerToken, peer: SaslPeer): void {
  const fail = (why: string) => new SaslAuthenticationFailedError(`OAUTHBEARER with ${peer.host}:${peer.port}: the token provider returned ${why}`);
  if (token === null || typeof token !== 'object' || typeof token.value !== 'string' || token.value.length === 0) {
    throw fail('no token (expected { value: string, expiresAtMs?, extensions? })');
  }
  // RFC 6750 b64token characters; anything else would break the message's framing.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token.value)) throw fail('a token with characters a bearer token cannot have');
  if (token.expiresAtMs !== undefined && !Number.isFinite(token.expiresAtMs)) throw fail('an expiresAtMs that is not a number');
  for (const [key, value] of Object.entries(token.extensions ?? {})) {
    if (!/^[A-Za-z]+$/.test(key) || key === 'auth') throw fail(`an extension named ${JSON.stringify(key)} (letters only, not 'auth')`);
    if (typeof value !== 'string' || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw fail(`extension ${key} with a value that is not printable text`);
  }
}
