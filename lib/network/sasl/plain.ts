import type { SaslExchange, SaslMechanism } from './mechanism.js';
import { redactSecrets } from './mechanism.js';

/**
 * PLAIN (RFC 4616): one message, authzid NUL authcid NUL password. The password crosses the wire
 * as it is, so PLAIN belongs on TLS (SASL_SSL) outside a test bench. Credentials live in private
 * fields: util.inspect and JSON.stringify do not see them.
 */
export class PlainMechanism implements SaslMechanism {
  readonly name = 'PLAIN';
  readonly #username: string;
  readonly #password: string;
  readonly #authorizationId: string;

  constructor(username: string, password: string, authorizationId = '') {
    this.#username = username;
    this.#password = password;
    this.#authorizationId = authorizationId;
  }

  async authenticate(exchange: SaslExchange): Promise<void> {
    await exchange(Buffer.from(`${this.#authorizationId}\0${this.#username}\0${this.#password}`, 'utf8'));
  }

  redact(text: string): string {
    return redactSecrets(text, [this.#password]);
  }
}
