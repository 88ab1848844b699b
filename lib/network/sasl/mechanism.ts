/**
 * Sends one client message to the broker in a SaslAuthenticate request and resolves with the
 * server's answer; rejects with the broker's typed error (SASL_AUTHENTICATION_FAILED...) if it
 * refused.
 */
export type SaslExchange = (clientMessage: Buffer) => Promise<Buffer>;

/** The broker being authenticated with, for mechanisms (and custom hooks) that need to know. */
export interface SaslPeer {
  host: string;
  port: number;
}

/**
 * One SASL mechanism: runs a whole authentication through `exchange`, and throws a
 * SaslAuthenticationFailedError when what the server answered does not verify. Called again for
 * every new connection and every re-authentication (KIP-368).
 */
export interface SaslMechanism {
  readonly name: string;
  authenticate(exchange: SaslExchange, peer: SaslPeer): Promise<void>;
  /** The message with any secret this mechanism holds replaced by '[redacted]'. */
  redact(text: string): string;
}

/** Replaces every occurrence of each secret (of a usable length) in text. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 3) out = out.split(secret).join('[redacted]');
  }
  return out;
}
