import { expect } from 'chai';
import { crc32c as selectedCrc32c, crc32cImplementation, crc32cPortable, crc32cReady } from '../../lib/records/crc32c.js';
import { prng } from '../support/prng.js';

/** CRC-32C a bit at a time, straight from the definition (reflected polynomial 0x82F63B78). */
function bitwiseCrc32c(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** Deterministic bytes, so a failure can be replayed. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const next = prng(seed);
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (next() * 0x100000000) & 0xff;
  return out;
}

describe('CRC-32C implementation choice', () => {
  it('runs the native @node-rs/crc32 where its prebuilt package is installed (linux x64 here), else JavaScript', async () => {
    expect(await crc32cReady).to.equal(crc32cImplementation());
    if (process.platform === 'linux' && process.arch === 'x64') expect(crc32cImplementation()).to.equal('native');
  });

  it('gives the same CRC natively and in JavaScript for 2,000 varied inputs of every size up to 64 KB, continued or not', async () => {
    await crc32cReady;
    for (let n = 0; n < 2000; n++) {
      const data = pseudoRandomBytes((n * 7919) % 65536, n);
      const previous = n % 3 === 0 ? 0 : (n * 2654435761) >>> 0;
      expect(selectedCrc32c(data, previous), `input ${n}`).to.equal(crc32cPortable(data, previous));
    }
  });
});

for (const [label, crc32c] of [['selected (native where loaded)', selectedCrc32c], ['portable JavaScript', crc32cPortable]] as const)
describe(`CRC-32C, ${label}`, () => {
  before(() => crc32cReady);

  it('gives the check value 0xE3069283 for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).to.equal(0xe3069283);
    expect(bitwiseCrc32c(Buffer.from('123456789', 'ascii'))).to.equal(0xe3069283);
  });

  it('gives 0 for no bytes', () => {
    expect(crc32c(Buffer.alloc(0))).to.equal(0);
  });

  // RFC 3720 (iSCSI) appendix B.4; the RFC lists the CRC bytes as sent, least significant first.
  const rfc3720: Array<[string, Buffer, number]> = [
    ['32 bytes of zeros', Buffer.alloc(32, 0x00), 0x8a9136aa],
    ['32 bytes of 0xFF', Buffer.alloc(32, 0xff), 0x62a8ab43],
    ['32 incrementing bytes 00..1F', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
    ['32 decrementing bytes 1F..00', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
    [
      'an iSCSI Read (10) command PDU',
      Buffer.from(
        '01c00000' + '00000000' + '00000000' + '00000000' + '14000000' + '00000400' +
          '00000014' + '00000018' + '28000000' + '00000000' + '02000000' + '00000000',
        'hex',
      ),
      0xd9963a56,
    ],
  ];
  for (const [label, data, expected] of rfc3720) {
    it(`matches RFC 3720's vector for ${label}`, () => {
      expect(crc32c(data)).to.equal(expected);
      expect(bitwiseCrc32c(data)).to.equal(expected);
    });
  }

  it('agrees with the bitwise definition for every length 0..300 and every start offset 0..7', () => {
    // Slicing-by-8 has a separate tail loop and reads 8 bytes at a time: odd lengths and
    // unaligned views over a larger ArrayBuffer are where a table mix-up would show.
    const backing = pseudoRandomBytes(320, 42);
    for (let start = 0; start < 8; start++) {
      for (let length = 0; length <= 300; length++) {
        const slice = backing.subarray(start, start + length);
        expect(crc32c(slice), `start ${start} length ${length}`).to.equal(bitwiseCrc32c(slice));
      }
    }
  });

  it('reads only its view, not the bytes around it', () => {
    const backing = pseudoRandomBytes(64, 7);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 5, 21);
    const copy = Uint8Array.from(view);
    expect(crc32c(view)).to.equal(crc32c(copy));
    expect(crc32c(view)).to.equal(bitwiseCrc32c(copy));
  });

  it('continues from a previous CRC: any split gives the CRC of the whole', () => {
    const data = pseudoRandomBytes(1000, 99);
    const whole = bitwiseCrc32c(data);
    expect(crc32c(data)).to.equal(whole);
    for (const split of [0, 1, 3, 7, 8, 9, 63, 64, 500, 999, 1000]) {
      const first = crc32c(data.subarray(0, split));
      expect(crc32c(data.subarray(split), first), `split at ${split}`).to.equal(whole);
      expect(bitwiseCrc32c(data.subarray(split), bitwiseCrc32c(data.subarray(0, split)))).to.equal(whole);
    }
    // Three pieces, the last of odd length.
    let running = 0;
    for (const [from, to] of [[0, 13], [13, 700], [700, 1000]]) running = crc32c(data.subarray(from, to), running);
    expect(running).to.equal(whole);
  });

  it('agrees with the bitwise definition on 1 MB of varied bytes', () => {
    const data = pseudoRandomBytes(1 << 20, 2024);
    expect(crc32c(data)).to.equal(bitwiseCrc32c(data));
  });

  it('is an unsigned 32-bit number and changes with any single flipped bit', () => {
    const data = pseudoRandomBytes(40, 5);
    const base = crc32c(data);
    expect(base).to.be.at.least(0).and.below(2 ** 32);
    for (let bit = 0; bit < data.length * 8; bit++) {
      const flipped = Buffer.from(data);
      flipped[bit >> 3] ^= 1 << (bit & 7);
      expect(crc32c(flipped), `bit ${bit}`).to.not.equal(base);
    }
  });
});
