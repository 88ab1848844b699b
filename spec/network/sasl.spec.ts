// The SASL mechanisms against scripted server answers: SCRAM-SHA-256 with the exchange of RFC 7677
// section 3 (a known answer: the client's proof must match byte for byte, and the server's
// signature must verify), SCRAM refusing a server that does not know the password, PLAIN's and
// OAUTHBEARER's messages, and the OAUTHBEARER token kept until 80% of its lifetime.
import { expect } from 'chai';
import { SaslAuthenticationFailedError } from '../../lib/errors/index.js';
import type { SaslExchange } from '../../lib/network/sasl/mechanism.js';
import { OAuthBearerMechanism } from '../../lib/network/sasl/oauthbearer.js';
import { PlainMechanism } from '../../lib/network/sasl/plain.js';
import { ScramMechanism } from '../../lib/network/sasl/scram.js';

const peer = { host: 'broker.test', port: 9093 };

/** A server that answers each client message with the next scripted reply and records what it got. */
function scripted(replies: string[]): { exchange: SaslExchange; sent: string[] } {
  const sent: string[] = [];
  const exchange: SaslExchange = async (message) => {
    sent.push(message.toString('utf8'));
    const reply = replies.shift();
    if (reply === undefined) throw new Error('the client sent more messages than the script has replies');
    return Buffer.from(reply, 'utf8');
  };
  return { exchange, sent };
}

// RFC 7677, section 3: user "user", password "pencil".
const RFC7677 = {
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

describe('SASL mechanisms', () => {
  describe('SCRAM-SHA-256', () => {
    it('sends the RFC 7677 client messages and accepts its server signature', async () => {
      const { exchange, sent } = scripted([RFC7677.serverFirst, RFC7677.serverFinal]);
      await new ScramMechanism('SCRAM-SHA-256', 'user', 'pencil', () => RFC7677.clientNonce).authenticate(exchange, peer);
      expect(sent).to.deep.equal([`n,,n=user,r=${RFC7677.clientNonce}`, RFC7677.clientFinal]);
    });

    it('fails when the server signature does not verify (a peer that does not know the password)', async () => {
      const forged = `v=${Buffer.alloc(32, 7).toString('base64')}`;
      const { exchange } = scripted([RFC7677.serverFirst, forged]);
      const error = await new ScramMechanism('SCRAM-SHA-256', 'user', 'pencil', () => RFC7677.clientNonce).authenticate(exchange, peer).catch((e) => e);
      expect(error).to.be.instanceOf(SaslAuthenticationFailedError);
      expect(error.message).to.match(/signature does not verify/);
      expect(error.message).not.to.include('pencil');
    });

    it('fails when the server final message has no signature at all', async () => {
      const { exchange } = scripted([RFC7677.serverFirst, '']);
      const error = await new ScramMechanism('SCRAM-SHA-256', 'user', 'pencil', () => RFC7677.clientNonce).authenticate(exchange, peer).catch((e) => e);
      expect(error).to.be.instanceOf(SaslAuthenticationFailedError);
    });

    it("refuses a server nonce that does not extend the client's, and too few iterations", async () => {
      for (const serverFirst of ['r=someoneElsesNonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', `r=${RFC7677.clientNonce}xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1`]) {
        const { exchange, sent } = scripted([serverFirst, RFC7677.serverFinal]);
        const error = await new ScramMechanism('SCRAM-SHA-256', 'user', 'pencil', () => RFC7677.clientNonce).authenticate(exchange, peer).catch((e) => e);
        expect(error).to.be.instanceOf(SaslAuthenticationFailedError);
        expect(sent, 'no proof sent to such a server').to.have.length(1);
      }
    });

    it('escapes , and = in the user name (RFC 5802 saslname)', async () => {
      const { exchange, sent } = scripted(['e=unknown-user']);
      await new ScramMechanism('SCRAM-SHA-512', 'a=b,c', 'pw', () => 'nonce').authenticate(exchange, peer).catch(() => undefined);
      expect(sent[0]).to.equal('n,,n=a=3Db=2Cc,r=nonce');
    });
  });

  it('PLAIN sends authzid NUL user NUL password', async () => {
    const { exchange, sent } = scripted(['']);
    await new PlainMechanism('alice', 'secret').authenticate(exchange);
    expect(sent).to.deep.equal(['\0alice\0secret']);
  });

  describe('OAUTHBEARER', () => {
    it('sends the GS2 header, the bearer token and the extensions (KIP-342)', async () => {
      const { exchange, sent } = scripted(['']);
      await new OAuthBearerMechanism(async () => ({ value: 'abc.def.', extensions: { logicalCluster: 'lkc-1' } })).authenticate(exchange, peer);
      expect(sent).to.deep.equal(['n,,\x01auth=Bearer abc.def.\x01logicalCluster=lkc-1\x01\x01']);
    });

    it('answers an error challenge with a lone \\x01 and fails with the broker status, token redacted', async () => {
      const { exchange, sent } = scripted(['{"status":"invalid_token","detail":"abc.def. expired"}', '']);
      const error = await new OAuthBearerMechanism(async () => ({ value: 'abc.def.' })).authenticate(exchange, peer).catch((e) => e);
      expect(sent[1]).to.equal('\x01');
      expect(error).to.be.instanceOf(SaslAuthenticationFailedError);
      expect(error.message).to.include('invalid_token');
      expect(error.message).not.to.include('abc.def.');
    });

    it('keeps a token until 80% of its lifetime, then asks the provider again', async () => {
      let now = 1_000_000;
      let asked = 0;
      const mechanism = new OAuthBearerMechanism(async () => ({ value: `t${++asked}`, expiresAtMs: now + 100_000 }), () => now);
      const run = async () => {
        const { exchange, sent } = scripted(['']);
        await mechanism.authenticate(exchange, peer);
        return sent[0];
      };
      expect(await run()).to.include('Bearer t1');
      now += 79_000;
      expect(await run()).to.include('Bearer t1');
      now += 2_000;
      expect(await run()).to.include('Bearer t2');
      expect(asked).to.equal(2);
    });

    it('refuses what the provider returns when it is not a bearer token', async () => {
      for (const token of [{ value: '' }, { value: 'has space' }, { value: 'ok', extensions: { auth: 'x' } }, null]) {
        const { exchange, sent } = scripted(['']);
        const error = await new OAuthBearerMechanism(async () => token as never).authenticate(exchange, peer).catch((e) => e);
        expect(error).to.be.instanceOf(SaslAuthenticationFailedError);
        expect(sent).to.have.length(0);
      }
    });
  });
});
