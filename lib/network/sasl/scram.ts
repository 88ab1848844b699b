/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677; Kafka's KIP-84), client side:
 *
 *   client-first  n,,n=<user>,r=<client nonce>
 *   server-first  r=<client nonce + server nonce>,s=<salt, base64>,i=<iterations>
 *   client-final  c=biws,r=<nonce>,p=<proof, base64>
 *   server-final  v=<server signature, base64>   (or e=<error>)
 *
 * SaltedPassword = PBKDF2(password, salt, i); ClientKey = HMAC(SaltedPassword, "Client Key");
 * StoredKey = H(ClientKey); AuthMessage = client-first-bare "," server-first "," client-final
 * without proof; proof = ClientKey XOR HMAC(StoredKey, AuthMessage); ServerSignature =
 * HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage). A server signature that does not verify
 * means the peer does not know the password: the authentication fails, it is not a warning.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { SaslAuthenticationFailedError } from '../../errors/index.js';
import type { SaslExchange, SaslMechanism, SaslPeer } from './mechanism.js';
import { redactSecrets } from './mechanism.js';

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

const DIGESTS = { 'SCRAM-SHA-256': { hash: 'sha256', size: 32 }, 'SCRAM-SHA-512': { hash: 'sha512', size: 64 } } as const;

/** Kafka refuses fewer iterations (ScramMechanism.minIterations); a server offering fewer is not a Kafka broker. */
const MIN_ITERATIONS = 4096;
const MAX_ITERATIONS = 1_000_000;

export class ScramMechanism implements SaslMechanism {
  readonly #username: string;
  readonly #password: string;
  readonly #nonce: () => string;

  /** `nonce` is for known-answer tests; by default 24 random bytes, base64. */
  constructor(
    readonly name: ScramMechanismName,
    username: string,
    password: string,
    nonce: () => string = () => randomBytes(24).toString('base64'),
  ) {
    this.#username = username;
    this.#password = password;
    this.#nonce = nonce;
  }

  async authenticate(exchange: SaslExchange, peer: SaslPeer): Promise<void> {
    const { hash, size } = DIGESTS[this.name];
    const fail = (why: string) => new SaslAuthenticationFailedError(`${this.name} with ${peer.host}:${peer.port}: ${why}`);
    const clientNonce = this.#nonce();
    const clientFirstBare = `n=${saslName(this.#username)},r=${clientNonce}`;
    const serverFirst = (await exchange(Buffer.from(`n,,${clientFirstBare}`, 'utf8'))).toString('utf8');
    const attributes = parseAttributes(serverFirst);
    if (attributes.has('e')) throw fail(`the server refused: ${attributes.get('e')}`);
    const nonce = attributes.get('r');
    const salt = attributes.get('s');
    const iterations = Number(attributes.get('i'));
    if (nonce === undefined || !nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) throw fail("the server's nonce does not extend the client's");
    if (salt === undefined || salt.length === 0) throw fail('the server sent no salt');
    if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
      throw fail(`the server asked for ${attributes.get('i')} iterations (accepted: ${MIN_ITERATIONS}..${MAX_ITERATIONS})`);
    }
    const saltedPassword = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(Buffer.from(this.#password, 'utf8'), Buffer.from(salt, 'base64'), iterations, size, hash, (error, key) => (error ? reject(error) : resolve(key))),
    );
    const clientKey = hmac(hash, saltedPassword, 'Client Key');
    const storedKey = createHash(hash).update(clientKey).digest();
    const clientFinalWithoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const clientSignature = hmac(hash, storedKey, authMessage);
    const proof = Buffer.alloc(size);
    for (let i = 0; i < size; i++) proof[i] = clientKey[i] ^ clientSignature[i];
    const serverFinal = parseAttributes((await exchange(Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`, 'utf8'))).toString('utf8'));
    if (serverFinal.has('e')) throw fail(`the server refused: ${serverFinal.get('e')}`);
    const expected = hmac(hash, hmac(hash, saltedPassword, 'Server Key'), authMessage);
    const got = Buffer.from(serverFinal.get('v') ?? '', 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw fail("the server's signature does not verify: the peer does not know this user's credentials");
    }
  }

  redact(text: string): string {
    return redactSecrets(text, [this.#password]);
  }
}

function hmac(hash: string, key: Buffer, data: string): Buffer {
  return createHmac(hash, key).update(data, 'utf8').digest();
}

/** RFC 5802 saslname: ',' and '=' escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** `a=1,b=2` as a map of single-letter attributes (values may contain '='). */
function parseAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const at = part.indexOf('=');
    if (at === 1) attributes.set(part[0], part.slice(2));
  }
  return attributes;
}
