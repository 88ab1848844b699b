import { expect } from 'chai';
import { Writer } from '../../lib/protocol/writer.js';
import { Reader } from '../../lib/protocol/reader.js';
import { ProtocolError, VersionNotImplementedError } from '../../lib/errors/index.js';
import type { KafkaApi } from '../../lib/protocol/api.js';
import { readResponseHeader, responseHeaderIsFlexible, writeRequestHeader, writeRequestFrame } from '../../lib/protocol/header.js';
import { ApiVersions, negotiateVersion, retryVersionAfter } from '../../lib/protocol/api-versions.js';
import { Metadata } from '../../lib/protocol/metadata.js';
import { Produce } from '../../lib/protocol/produce.js';
import { InitProducerId } from '../../lib/protocol/init-producer-id.js';
import * as samples from './support/samples.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function written(build: (w: Writer) => void): string {
  const w = new Writer(4);
  build(w);
  return w.toBuffer().toString('hex');
}

// Byte strings below are worked out by hand from the JSON definitions, field by field.
describe('protocol known answers', () => {
  it('RequestHeader v2: ApiVersions v3, correlation 7, client id "rx"', () => {
    // api key 18, version 3, correlation 7, INT16-length client id, empty tag buffer
    expect(written((w) => writeRequestHeader(w, ApiVersions, 3, 7, 'rx'))).to.equal('0012' + '0003' + '00000007' + '0002' + '7278' + '00');
  });

  it('RequestHeader v1: Metadata v1, correlation 42, null client id', () => {
    expect(written((w) => writeRequestHeader(w, Metadata, 1, 42, null))).to.equal('0003' + '0001' + '0000002a' + 'ffff');
  });

  it('ApiVersions v3 request body', () => {
    // COMPACT_STRING "kafka-rx" (8 bytes -> 0x09), COMPACT_STRING "0.1.0" (5 -> 0x06), no tags
    const body = written((w) => ApiVersions.encodeRequest(w, 3, { clientSoftwareName: 'kafka-rx', clientSoftwareVersion: '0.1.0' }));
    expect(body).to.equal('09' + Buffer.from('kafka-rx').toString('hex') + '06' + Buffer.from('0.1.0').toString('hex') + '00');
  });

  it('a whole ApiVersions v3 request frame: size prefix, header v2, body', () => {
    const frame = written((w) => {
      w.int8(0x55); // bytes already in the writer stay untouched
      expect(writeRequestFrame(w, ApiVersions, 3, 1, 'rx', { clientSoftwareName: 'a', clientSoftwareVersion: '1' })).to.equal(1);
    });
    // 13 header bytes + 5 body bytes = 18 = 0x12
    expect(frame).to.equal('55' + '00000012' + '0012000300000001' + '00027278' + '00' + '0261' + '0231' + '00');
  });

  it('ApiVersions v0-v2 request bodies are empty', () => {
    for (const v of [0, 1, 2]) expect(written((w) => ApiVersions.encodeRequest(w, v, {}))).to.equal('');
  });

  it('Metadata v9 request for one topic', () => {
    // compact array of 1 (0x02), "t" (0x02 0x74), topic tags, allow_auto 1, cluster ops 0, topic ops 0, tags
    expect(written((w) => Metadata.encodeRequest(w, 9, { topics: ['t'] }))).to.equal('02' + '0274' + '00' + '01' + '00' + '00' + '00');
  });

  it('Metadata v12 request for all topics', () => {
    // null compact array (0x00), allow_auto 0, topic ops 0, tags
    expect(written((w) => Metadata.encodeRequest(w, 12, { topics: null, allowAutoTopicCreation: false }))).to.equal('00' + '00' + '00' + '00');
  });

  it('Produce v3 request with one record batch', () => {
    const body = written((w) =>
      Produce.encodeRequest(w, 3, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topics: [{ name: 't', partitions: [{ index: 0, records: Buffer.from([1, 2, 3]) }] }],
      }),
    );
    expect(body).to.equal('ffff' + '0001' + '000003e8' + '00000001' + '000174' + '00000001' + '00000000' + '00000003' + '010203');
  });

  it('Produce v9 request with one record batch', () => {
    const body = written((w) =>
      Produce.encodeRequest(w, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 1000,
        topics: [{ name: 't', partitions: [{ index: 2, records: Buffer.from([9]) }] }],
      }),
    );
    expect(body).to.equal('00' + 'ffff' + '000003e8' + '02' + '0274' + '02' + '00000002' + '02' + '09' + '00' + '00' + '00');
  });

  it('Produce v9 response for one partition', () => {
    const body = hex(`
      02 0274 02
      00000000 0000 0000000000000064 ffffffffffffffff 0000000000000000
      01 00 00
      00
      00000000 00`);
    expect(Produce.decodeResponse(body, 9)).to.deep.equal({
      responses: [
        {
          name: 't',
          topicId: null,
          partitionResponses: [
            { index: 0, errorCode: 0, baseOffset: 100n, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null, currentLeader: null },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    });
  });

  it('InitProducerId v0 response', () => {
    expect(InitProducerId.decodeResponse(hex('00000000 0000 0000000000000403 0001'), 0)).to.deep.equal({
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 1027n,
      producerEpoch: 1,
      ongoingTxnProducerId: -1n,
      ongoingTxnProducerEpoch: -1,
    });
  });

  it('ApiVersions v5 request body: software name and version, null cluster id, node -1', () => {
    // "a" (0x02 61), "1" (0x02 31), COMPACT_NULLABLE_STRING null (0x00), INT32 -1, no tags
    const body = written((w) => ApiVersions.encodeRequest(w, 5, { clientSoftwareName: 'a', clientSoftwareVersion: '1' }));
    expect(body).to.equal('0261' + '0231' + '00' + 'ffffffff' + '00');
    // and with both given: "c1" (0x03 6331), node 2
    const named = written((w) => ApiVersions.encodeRequest(w, 5, { clientSoftwareName: 'a', clientSoftwareVersion: '1', clusterId: 'c1', nodeId: 2 }));
    expect(named).to.equal('0261' + '0231' + '036331' + '00000002' + '00');
  });

  it('Metadata v13 request for one topic (as v12) and its response with the top-level error code', () => {
    // compact array of 1, zero topic id, "t", topic tags, allow_auto 1, topic ops 0, tags
    expect(written((w) => Metadata.encodeRequest(w, 13, { topics: ['t'] }))).to.equal('02' + '00'.repeat(16) + '0274' + '00' + '01' + '00' + '00');
    // throttle 0, no brokers, null cluster id, controller 1, no topics, error_code 129, no tags
    const response = Metadata.decodeResponse(hex('00000000 01 00 00000001 01 0081 00'), 13);
    expect(response).to.include({ errorCode: 129, controllerId: 1, clusterId: null });
    // v12 has no error code there: the same bytes leave two bytes over where v12 expects the tags
    expect(Metadata.decodeResponse(hex('00000000 01 00 00000001 01 00'), 12).errorCode).to.equal(0);
  });

  it('InitProducerId v6 request and response', () => {
    // null transactional id (0x00), timeout 1000, producer id -1, epoch -1, enable_2pc 0, keep_prepared 0, tags
    const body = written((w) => InitProducerId.encodeRequest(w, 6, { transactionalId: null, transactionTimeoutMs: 1000 }));
    expect(body).to.equal('00' + '000003e8' + 'ffffffffffffffff' + 'ffff' + '00' + '00' + '00');
    expect(InitProducerId.decodeResponse(hex('00000000 0000 0000000000000403 0001 0000000000000401 0002 00'), 6)).to.deep.equal({
      throttleTimeMs: 0,
      errorCode: 0,
      producerId: 1027n,
      producerEpoch: 1,
      ongoingTxnProducerId: 1025n,
      ongoingTxnProducerEpoch: 2,
    });
  });

  it('Produce v12 is v11 on the wire; v13 sends the topic id in place of the name', () => {
    const id = hex('000102030405060708090a0b0c0d0e0f');
    const request = { transactionalId: null, acks: -1 as const, timeoutMs: 1000, topics: [{ name: 't', topicId: id, partitions: [{ index: 2, records: Buffer.from([9]) }] }] };
    const v11 = written((w) => Produce.encodeRequest(w, 11, request));
    expect(written((w) => Produce.encodeRequest(w, 12, request))).to.equal(v11);
    expect(written((w) => Produce.encodeRequest(w, 13, request))).to.equal('00' + 'ffff' + '000003e8' + '02' + id.toString('hex') + '02' + '00000002' + '02' + '09' + '00' + '00' + '00');
  });

  it('Produce v13 response names the topic by id', () => {
    const body = hex(`
      02 000102030405060708090a0b0c0d0e0f 02
      00000000 0064 ffffffffffffffff ffffffffffffffff ffffffffffffffff
      01 00 00
      00
      00000000 00`);
    expect(Produce.decodeResponse(body, 13).responses).to.deep.equal([
      {
        name: null,
        topicId: hex('000102030405060708090a0b0c0d0e0f'),
        partitionResponses: [
          { index: 0, errorCode: 100, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null, currentLeader: null },
        ],
      },
    ]);
  });

  it('refuses to encode a version it does not implement, before writing anything', () => {
    for (const [api, version] of [[ApiVersions, 6], [Metadata, 14], [Produce, 14], [InitProducerId, 7], [Produce, 2], [Metadata, 0], [Produce, 12.5]] as Array<[KafkaApi<any, any>, number]>) {
      const w = new Writer(4);
      expect(() => writeRequestFrame(w, api, version, 1, 'rx', {} as never), `${api.name} v${version}`).to.throw(VersionNotImplementedError);
      expect(() => writeRequestHeader(w, api, version, 1, 'rx')).to.throw(VersionNotImplementedError);
      expect(w.length, `${api.name} v${version}`).to.equal(0);
    }
    const error = (() => { try { writeRequestHeader(new Writer(4), ApiVersions, 6, 1, null); } catch (e) { return e as VersionNotImplementedError; } })()!;
    expect(error).to.include({ apiName: 'ApiVersions', version: 6 });
    expect(error.implemented).to.deep.equal({ min: 0, max: 5 });
    expect(error.message).to.equal('kafka-rx implements ApiVersions v0-v5, not v6');
  });

  it('ResponseHeader v0 and v1 (with a tagged field to skip)', () => {
    expect(readResponseHeader(hex('00000005 abcd'), false)).to.deep.equal({ correlationId: 5, bodyOffset: 4 });
    expect(readResponseHeader(hex('00000005 00 abcd'), true)).to.deep.equal({ correlationId: 5, bodyOffset: 5 });
    expect(readResponseHeader(hex('00000005 01 03 02 aabb cd'), true)).to.deep.equal({ correlationId: 5, bodyOffset: 9 });
    expect(readResponseHeader(hex('7fffffff'), false)).to.deep.equal({ correlationId: 0x7fffffff, bodyOffset: 4 });
  });

  it('ApiVersions responses always use ResponseHeader v0', () => {
    expect(responseHeaderIsFlexible(ApiVersions, 3)).to.equal(false);
    expect(responseHeaderIsFlexible(Metadata, 9)).to.equal(true);
    expect(responseHeaderIsFlexible(Metadata, 8)).to.equal(false);
  });

  it('reads an UNSUPPORTED_VERSION answer to ApiVersions v3 in v0 format and picks the retry version', () => {
    // error 35, one entry: ApiVersions 0..2, no throttle time (v0)
    const body = hex('0023 00000001 0012 0000 0002');
    const response = ApiVersions.decodeResponse(body, 3);
    expect(response.errorCode).to.equal(35);
    expect(response.bodyVersion).to.equal(0);
    expect(response.apiKeys).to.deep.equal([{ apiKey: 18, minVersion: 0, maxVersion: 2 }]);
    expect(retryVersionAfter(response, 3)).to.equal(2);
    // Without an ApiVersions entry, fall back to v0; nothing lower than v0.
    expect(retryVersionAfter(ApiVersions.decodeResponse(hex('0023 00000000'), 3), 3)).to.equal(0);
    expect(retryVersionAfter(ApiVersions.decodeResponse(hex('0023 00000000'), 0), 0)).to.equal(null);
    expect(retryVersionAfter(samples.apiVersionsResponse(3), 3)).to.equal(null);
  });

  it('negotiates the highest common version and refuses disjoint ranges', () => {
    const response = samples.apiVersionsResponse(3); // Produce 0..11, Metadata 0..12, ApiVersions 0..4
    expect(negotiateVersion(Produce, response)).to.equal(11);
    expect(negotiateVersion(Metadata, response)).to.equal(12);
    const old = { ...response, apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 2 }] };
    expect(() => negotiateVersion(Produce, old)).to.throw().with.property('name', 'UnsupportedVersionError');
    expect(() => negotiateVersion(InitProducerId, old)).to.throw().with.property('name', 'UnsupportedVersionError');
  });

  describe('Reader bounds', () => {
    const fails = (buf: Buffer, read: (r: Reader) => unknown) => expect(() => read(new Reader(buf))).to.throw(ProtocolError);

    it('refuses truncated fixed fields', () => {
      fails(hex('00'), (r) => r.int16());
      fails(hex('000000'), (r) => r.int32());
      fails(hex('00000000000000'), (r) => r.int64());
      fails(hex('00'.repeat(15)), (r) => r.uuid());
    });

    it('reads int64 fields as big-endian two\'s complement, -1 and 0 included', () => {
      const cases: Array<[string, bigint]> = [
        ['ffffffffffffffff', -1n],
        ['0000000000000000', 0n],
        ['0000000000000001', 1n],
        ['fffffffffffffffe', -2n],
        ['00000000ffffffff', 0xffffffffn],
        ['ffffffff00000000', -0x100000000n],
        ['ffffffff7fffffff', -0x80000001n],
        ['000000ff00000000', 0xff00000000n],
        ['7fffffffffffffff', 0x7fffffffffffffffn],
        ['8000000000000000', -0x8000000000000000n],
      ];
      const reader = new Reader(hex(cases.map(([bytes]) => bytes).join('')));
      for (const [bytes, value] of cases) expect(reader.int64(), bytes).to.equal(value);
    });

    it('refuses over-long and truncated varints', () => {
      fails(hex('ffffffffff01'), (r) => r.uvarint());
      fails(hex('ffffffff7f'), (r) => r.uvarint());
      fails(hex('ff'), (r) => r.uvarint());
      expect(new Reader(hex('ffffffff0f')).uvarint()).to.equal(0xffffffff);
    });

    it('refuses negative and oversized lengths and counts', () => {
      fails(hex('fffe'), (r) => r.nullableString(false));
      fails(hex('0005 6162'), (r) => r.string(false));
      fails(hex('ffff'), (r) => r.string(false));
      fails(hex('00'), (r) => r.string(true));
      fails(hex('7fffffff'), (r) => r.nullableBytes(false));
      fails(hex('fffffffe'), (r) => r.arrayLength(false, 1));
      fails(hex('7fffffff 00000000'), (r) => r.int32Array(false));
      fails(hex('ffffffff0f'), (r) => r.arrayLength(true, 1));
      fails(hex('05 01 02 03 04'), (r) => r.int32Array(true));
    });

    it('keeps a tagged field decoder inside its field', () => {
      // one tag (0) of 2 bytes, but the handler tries to read 4
      const read = (r: Reader) => r.taggedFields((_tag, inner) => inner.int32());
      fails(hex('01 00 02 0000 00000000'), read);
      fails(hex('02 01 00 00 00'), (r) => r.taggedFields()); // tags out of order
    });
  });
});
