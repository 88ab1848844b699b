import { expect } from 'chai';
import { ProtocolError } from '../../lib/errors/index.js';
import type { KafkaApi } from '../../lib/protocol/api.js';
import { readResponseHeader } from '../../lib/protocol/header.js';
import { ApiVersions } from '../../lib/protocol/api-versions.js';
import { Metadata } from '../../lib/protocol/metadata.js';
import { Produce } from '../../lib/protocol/produce.js';
import { InitProducerId } from '../../lib/protocol/init-producer-id.js';
import { CreateTopics } from '../../lib/protocol/create-topics.js';
import { DeleteTopics } from '../../lib/protocol/delete-topics.js';
import * as broker from './support/broker-side.js';
import * as samples from './support/samples.js';
import { prng } from '../support/prng.js';

interface Target {
  label: string;
  decode: (body: Buffer) => unknown;
  valid: Buffer;
}

function targets(): Target[] {
  const list: Target[] = [];
  const add = <Res>(api: KafkaApi<any, Res>, encodeResponse: (response: Res, version: number) => Buffer, sample: (version: number) => Res) => {
    for (let v = api.minVersion; v <= api.maxVersion; v++) {
      list.push({ label: `${api.name} v${v}`, decode: (body) => api.decodeResponse(body, v), valid: encodeResponse(sample(v), v) });
    }
  };
  add(ApiVersions, broker.encodeApiVersionsResponse, samples.apiVersionsResponse);
  add(Metadata, broker.encodeMetadataResponse, samples.metadataResponse);
  add(Produce, broker.encodeProduceResponse, samples.produceResponse);
  add(InitProducerId, broker.encodeInitProducerIdResponse, samples.initProducerIdResponse);
  add(CreateTopics, broker.encodeCreateTopicsResponse, samples.createTopicsResponse);
  add(DeleteTopics, broker.encodeDeleteTopicsResponse, samples.deleteTopicsResponse);
  list.push({ label: 'ResponseHeader v0', decode: (b) => readResponseHeader(b, false), valid: Buffer.from('0000000700', 'hex') });
  list.push({ label: 'ResponseHeader v1', decode: (b) => readResponseHeader(b, true), valid: Buffer.from('00000007010102abcd', 'hex') });
  return list;
}

describe('protocol decoders under fuzzing', function () {
  this.timeout(60000);

  it('end every random, truncated or bit-flipped input in a result or a ProtocolError', () => {
    const random = prng(0x6b61666b);
    const all = targets();
    const counts = { truncated: 0, flipped: 0, random: 0, spliced: 0, misread: 0, decoded: 0, refused: 0 };
    const started = Date.now();

    const attempt = (target: Target, input: Buffer, kind: keyof typeof counts) => {
      counts[kind]++;
      try {
        target.decode(input);
        counts.decoded++;
      } catch (error) {
        if (!(error instanceof ProtocolError)) {
          throw new Error(`${target.label} threw ${String(error)} on ${kind} input ${input.toString('hex')}`);
        }
        counts.refused++;
      }
    };

    for (const target of all) {
      // Every valid encoding must decode, and every strict prefix of it is a truncated input.
      target.decode(target.valid);
      for (let n = 0; n < target.valid.length; n++) attempt(target, target.valid.subarray(0, n), 'truncated');

      // Bit flips: 1-4 flipped bits anywhere in a valid encoding, then the same cut short.
      for (let i = 0; i < 1200; i++) {
        const input = Buffer.from(target.valid);
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) {
          const bit = Math.floor(random() * input.length * 8);
          input[bit >> 3] ^= 1 << (bit & 7);
        }
        attempt(target, input, 'flipped');
        attempt(target, input.subarray(0, Math.floor(random() * input.length)), 'flipped');
      }

      // Length and count fields set to extremes: bytes overwritten with 0xff / 0x7f / 0x80 runs.
      for (let i = 0; i < 300; i++) {
        const input = Buffer.from(target.valid);
        const at = Math.floor(random() * input.length);
        const fill = [0xff, 0x7f, 0x80, 0x00][Math.floor(random() * 4)];
        input.fill(fill, at, Math.min(input.length, at + 1 + Math.floor(random() * 5)));
        attempt(target, input, 'spliced');
      }

      // Random bytes of random lengths, some starting with the valid prefix.
      for (let i = 0; i < 1000; i++) {
        const input = Buffer.allocUnsafe(Math.floor(random() * 96));
        for (let b = 0; b < input.length; b++) input[b] = Math.floor(random() * 256);
        if (i % 2 === 1) target.valid.copy(input, 0, 0, Math.min(input.length, Math.floor(random() * target.valid.length)));
        attempt(target, input, 'random');
      }
    }

    // Every valid encoding read as every other decoder (wrong version or wrong API).
    for (const target of all) for (const other of all) if (other !== target) attempt(target, other.valid, 'misread');

    const total = counts.truncated + counts.flipped + counts.random + counts.spliced + counts.misread;
    const elapsed = Date.now() - started;
    // eslint-disable-next-line no-console
    console.log(`      fuzz: ${total} inputs over ${all.length} decoders in ${elapsed} ms ` + JSON.stringify(counts));
    expect(total).to.be.at.least(100000);
    expect(counts.refused).to.be.greaterThan(0);
    expect(counts.decoded).to.be.greaterThan(0);
  });
});
