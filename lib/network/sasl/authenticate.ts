import { IllegalSaslStateError, SaslAuthenticationFailedError, UnsupportedSaslMechanismError, kafkaErrorFor } from '../../errors/index.js';
import type { KafkaApi } from '../../protocol/api.js';
import { SaslAuthenticate } from '../../protocol/sasl-authenticate.js';
import { SaslHandshake } from '../../protocol/sasl-handshake.js';
import type { SaslMechanism, SaslPeer } from './mechanism.js';

/** What the SASL exchange needs of its connection: to send a request past the gate that holds the others. */
export interface SaslChannel {
  readonly address: string;
  readonly peer: SaslPeer;
  readonly timeoutMs: number;
  send<Req, Res>(api: KafkaApi<Req, Res>, request: Req): Promise<Res>;
  /** The text with any configured secret replaced. */
  redact(text: string): string;
}

/**
 * One authentication on a connection: SaslHandshake v1 names the mechanism, then SaslAuthenticate
 * requests carry its tokens (KIP-152) until the mechanism is done. Resolves with the session
 * lifetime the broker gave (KIP-368; 0: none). The whole exchange is bounded by the request
 * timeout: a token provider or custom mechanism that never settles must not hold the connection,
 * and every produce() waiting for it, for ever.
 */
export async function saslAuthenticate(mechanism: SaslMechanism, channel: SaslChannel): Promise<number> {
  const handshake = await channel.send(SaslHandshake, { mechanism: mechanism.name });
  if (handshake.errorCode !== 0) {
    if (handshake.errorCode === UnsupportedSaslMechanismError.code) {
      const offered = handshake.mechanisms.length > 0 ? handshake.mechanisms.join(', ') : 'none';
      throw new UnsupportedSaslMechanismError(`${channel.address} does not offer ${mechanism.name} on this listener (it offers: ${offered})`);
    }
    const hint = handshake.errorCode === IllegalSaslStateError.code ? ': this listener does not take SASL (PLAINTEXT or SSL): remove the sasl option or use a SASL_* listener' : '';
    throw kafkaErrorFor(handshake.errorCode, `SaslHandshake for ${mechanism.name} with ${channel.address}${hint}`);
  }
  let lifetimeMs = 0;
  const exchanged = mechanism.authenticate(async (clientMessage) => {
    const response = await channel.send(SaslAuthenticate, { authBytes: clientMessage });
    if (response.errorCode !== 0) {
      const said = response.errorMessage === null ? '' : `: ${channel.redact(response.errorMessage)}`;
      throw kafkaErrorFor(response.errorCode, `${mechanism.name} authentication with ${channel.address} failed${said}`);
    }
    lifetimeMs = response.sessionLifetimeMs;
    return response.authBytes;
  }, channel.peer);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SaslAuthenticationFailedError(`${mechanism.name} authentication with ${channel.address} did not finish within ${channel.timeoutMs} ms`)), channel.timeoutMs);
  });
  try {
    await Promise.race([exchanged, limit]);
  } finally {
    clearTimeout(timer);
  }
  return lifetimeMs;
}
