import { expect } from 'chai';
import { Writer } from '../../lib/protocol/writer.js';
import type { KafkaApi } from '../../lib/protocol/api.js';
import { ApiVersions } from '../../lib/protocol/api-versions.js';
import { Metadata, type MetadataRequest } from '../../lib/protocol/metadata.js';
import { Produce, produceRequestSize } from '../../lib/protocol/produce.js';
import { InitProducerId } from '../../lib/protocol/init-producer-id.js';
import { CreateTopics } from '../../lib/protocol/create-topics.js';
import { DeleteTopics } from '../../lib/protocol/delete-topics.js';
import * as broker from './support/broker-side.js';
import * as samples from './support/samples.js';

function versionsOf(api: KafkaApi<any, any>): number[] {
  const versions: number[] = [];
  for (let v = api.minVersion; v <= api.maxVersion; v++) versions.push(v);
  return versions;
}

function encode<Req>(api: KafkaApi<Req, any>, version: number, request: Req): Buffer {
  const writer = new Writer(16);
  api.encodeRequest(writer, version, request);
  return writer.toBuffer();
}

describe('protocol round trips (client codec against the test broker codec)', () => {
  describe('ApiVersions', () => {
    for (const version of versionsOf(ApiVersions)) {
      it(`v${version} request and response`, () => {
        const request = { clientSoftwareName: 'kafka-rx', clientSoftwareVersion: '1.2.3-beta', clusterId: 'Q2x1c3Rlci1JZC0xMjM0NQ', nodeId: 3 };
        const decoded = broker.decodeApiVersionsRequest(encode(ApiVersions, version, request), version);
        const { clusterId, nodeId, ...software } = request;
        expect(decoded).to.deep.equal(version >= 5 ? request : version >= 3 ? software : {});
        const response = samples.apiVersionsResponse(version);
        expect(ApiVersions.decodeResponse(broker.encodeApiVersionsResponse(response, version), version)).to.deep.equal(response);
      });
    }

    it('v5 sends a null cluster id and node -1 when the request leaves them out', () => {
      const decoded = broker.decodeApiVersionsRequest(encode(ApiVersions, 5, {}), 5);
      expect(decoded.clusterId).to.equal(null);
      expect(decoded.nodeId).to.equal(-1);
    });

    it('fills in the software name and version when the request leaves them out', () => {
      const decoded = broker.decodeApiVersionsRequest(encode(ApiVersions, 3, {}), 3);
      expect(decoded.clientSoftwareName).to.equal('kafka-rx');
      expect(decoded.clientSoftwareVersion).to.match(/^\d+\.\d+\.\d+/);
    });
  });

  describe('Metadata', () => {
    const requests: MetadataRequest[] = [
      { topics: ['events', 'ünïcode-topic'], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true },
      { topics: null, allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false },
      { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false },
    ];
    for (const version of versionsOf(Metadata)) {
      it(`v${version} request and response`, () => {
        for (const request of requests) {
          const decoded = broker.decodeMetadataRequest(encode(Metadata, version, request), version);
          expect(decoded.topics).to.deep.equal(request.topics);
          expect(decoded.allowAutoTopicCreation).to.equal(version >= 4 ? request.allowAutoTopicCreation : true);
          expect(decoded.includeTopicAuthorizedOperations).to.equal(version >= 8 ? request.includeTopicAuthorizedOperations : false);
        }
        const response = samples.metadataResponse(version);
        expect(Metadata.decodeResponse(broker.encodeMetadataResponse(response, version), version)).to.deep.equal(response);
      });
    }
  });

  describe('Produce', () => {
    for (const version of versionsOf(Produce)) {
      it(`v${version} request and response`, () => {
        const request = samples.produceRequest(version);
        expect(broker.decodeProduceRequest(encode(Produce, version, request), version)).to.deep.equal(request);
        const response = samples.produceResponse(version);
        expect(Produce.decodeResponse(broker.encodeProduceResponse(response, version), version)).to.deep.equal(response);
      });
    }

    it('knows the exact encoded size of a request at every version (reserved before encoding)', () => {
      for (const version of versionsOf(Produce)) {
        const big = { ...samples.produceRequest(version), transactionalId: null };
        big.topics = [...big.topics, { name: 'x'.repeat(200), topicId: Buffer.alloc(16, 9), partitions: [{ index: 9, records: Buffer.alloc(70000) }] }];
        for (const request of [samples.produceRequest(version), big]) {
          expect(produceRequestSize(version, request), `v${version}`).to.equal(encode(Produce, version, request).length);
        }
      }
    });

    it('names topics up to v12 and sends their ids from v13, refusing a topic without one', () => {
      const id = Buffer.alloc(16, 0x5a);
      const request = { transactionalId: null, acks: 1 as const, timeoutMs: 1, topics: [{ name: 'named', topicId: id, partitions: [{ index: 0, records: null }] }] };
      expect(broker.decodeProduceRequest(encode(Produce, 12, request), 12).topics[0]).to.deep.equal({ name: 'named', partitions: [{ index: 0, records: null }] });
      expect(broker.decodeProduceRequest(encode(Produce, 13, request), 13).topics[0]).to.deep.equal({ name: '', topicId: id, partitions: [{ index: 0, records: null }] });
      const nameOnly = { ...request, topics: [{ name: 'named', partitions: [] }] };
      expect(() => encode(Produce, 13, nameOnly)).to.throw().with.property('name', 'UnsupportedVersionError');
    });

    it('expects no response with acks=0 only', () => {
      const request = samples.produceRequest();
      expect(Produce.expectsResponse!({ ...request, acks: 0 })).to.equal(false);
      expect(Produce.expectsResponse!({ ...request, acks: 1 })).to.equal(true);
      expect(Produce.expectsResponse!({ ...request, acks: -1 })).to.equal(true);
    });

    it('skips unknown tagged fields in a flexible response', () => {
      const response = samples.produceResponse(11);
      const encoded = broker.encodeProduceResponse(response, 11);
      // Replace the final (top-level) tag section with one that also holds an unknown tag 7.
      const w = new Writer();
      const base = broker.encodeProduceResponse({ ...response, nodeEndpoints: [] }, 11);
      w.raw(base.subarray(0, base.length - 1));
      w.taggedFields([{ tag: 7, data: Buffer.from('future field') }]);
      const decoded = Produce.decodeResponse(w.toBuffer(), 11);
      expect(decoded.responses).to.deep.equal(response.responses);
      expect(decoded.nodeEndpoints).to.deep.equal([]);
      expect(encoded.length).to.be.greaterThan(base.length);
    });
  });

  describe('InitProducerId', () => {
    for (const version of versionsOf(InitProducerId)) {
      it(`v${version} request and response`, () => {
        const request = { transactionalId: version % 2 ? null : 'tx', transactionTimeoutMs: 60000, producerId: 77n, producerEpoch: 3, enable2Pc: true, keepPreparedTxn: true };
        const decoded = broker.decodeInitProducerIdRequest(encode(InitProducerId, version, request), version);
        const unsent = { enable2Pc: false, keepPreparedTxn: false };
        expect(decoded).to.deep.equal(version >= 6 ? request : version >= 3 ? { ...request, ...unsent } : { ...request, ...unsent, producerId: -1n, producerEpoch: -1 });
        const response = samples.initProducerIdResponse(version);
        expect(InitProducerId.decodeResponse(broker.encodeInitProducerIdResponse(response, version), version)).to.deep.equal(response);
      });
    }

    it('sends -1 for an absent producer id and epoch (v3+)', () => {
      const decoded = broker.decodeInitProducerIdRequest(encode(InitProducerId, 5, { transactionalId: null, transactionTimeoutMs: 1 }), 5);
      expect(decoded.producerId).to.equal(-1n);
      expect(decoded.producerEpoch).to.equal(-1);
      const v6 = broker.decodeInitProducerIdRequest(encode(InitProducerId, 6, { transactionalId: null, transactionTimeoutMs: 1 }), 6);
      expect(v6).to.include({ enable2Pc: false, keepPreparedTxn: false });
    });
  });

  describe('CreateTopics', () => {
    for (const version of versionsOf(CreateTopics)) {
      it(`v${version} request and response`, () => {
        const request = samples.createTopicsRequest();
        expect(broker.decodeCreateTopicsRequest(encode(CreateTopics, version, request), version)).to.deep.equal(request);
        const response = samples.createTopicsResponse(version);
        expect(CreateTopics.decodeResponse(broker.encodeCreateTopicsResponse(response, version), version)).to.deep.equal(response);
      });
    }
  });

  describe('DeleteTopics', () => {
    for (const version of versionsOf(DeleteTopics)) {
      it(`v${version} request and response`, () => {
        const byName = { topicNames: ['a', 'bb'], timeoutMs: 5000 };
        expect(broker.decodeDeleteTopicsRequest(encode(DeleteTopics, version, byName), version)).to.deep.equal({ ...byName, topicIds: [] });
        const response = samples.deleteTopicsResponse(version);
        expect(DeleteTopics.decodeResponse(broker.encodeDeleteTopicsResponse(response, version), version)).to.deep.equal(response);
      });
    }

    it('deletes by topic id from v6 and refuses ids below it', () => {
      const id = Buffer.alloc(16, 0xab);
      const request = { topicNames: ['named'], topicIds: [id], timeoutMs: 1 };
      expect(broker.decodeDeleteTopicsRequest(encode(DeleteTopics, 6, request), 6)).to.deep.equal(request);
      expect(() => encode(DeleteTopics, 5, request)).to.throw().with.property('name', 'UnsupportedVersionError');
    });
  });
});
