import { expect } from 'chai';
import { ProtocolError, UnsupportedVersionError } from '../../lib/errors/index.js';
import { Writer } from '../../lib/protocol/writer.js';
import { CoordinatorKeyType, FindCoordinator } from '../../lib/protocol/find-coordinator.js';
import { AddPartitionsToTxn, AddPartitionsToTxnFromProducer } from '../../lib/protocol/add-partitions-to-txn.js';
import { AddOffsetsToTxn } from '../../lib/protocol/add-offsets-to-txn.js';
import { EndTxn } from '../../lib/protocol/end-txn.js';
import { TxnOffsetCommit } from '../../lib/protocol/txn-offset-commit.js';
import type { KafkaApi } from '../../lib/protocol/api.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const body = <Req>(api: KafkaApi<Req, unknown>, version: number, request: Req) => {
  const w = new Writer(4);
  api.encodeRequest(w, version, request);
  return w.toBuffer().toString('hex');
};
const PID = '0000000000000005';

// Byte strings worked out by hand from the JSON definitions in /work/shared/kafka-schemas.
describe('transaction protocol known answers', () => {
  describe('FindCoordinator', () => {
    it('v0: one group key, and refuses a transaction key (v0 has no key type)', () => {
      expect(body(FindCoordinator, 0, { keyType: CoordinatorKeyType.group, keys: ['g'] })).to.equal('000167');
      expect(() => body(FindCoordinator, 0, { keyType: CoordinatorKeyType.transaction, keys: ['t'] })).to.throw(ProtocolError);
    });

    it('v1 and v3 name one key and its type; several keys need v4', () => {
      expect(body(FindCoordinator, 1, { keyType: CoordinatorKeyType.transaction, keys: ['t'] })).to.equal('0001' + '74' + '01');
      expect(body(FindCoordinator, 3, { keyType: CoordinatorKeyType.transaction, keys: ['t'] })).to.equal('02' + '74' + '01' + '00');
      expect(() => body(FindCoordinator, 3, { keyType: CoordinatorKeyType.group, keys: ['a', 'b'] })).to.throw(ProtocolError, /exactly one key/);
    });

    it('v4: the key type, then a compact array of keys', () => {
      expect(body(FindCoordinator, 4, { keyType: CoordinatorKeyType.transaction, keys: ['a', 'b'] })).to.equal('01' + '03' + '0261' + '0262' + '00');
    });

    it('v0, v1 and v3 responses: one coordinator with a null key', () => {
      expect(FindCoordinator.decodeResponse(hex('0000 00000001 0001 68 00002384'), 0)).to.deep.equal({
        throttleTimeMs: 0,
        coordinators: [{ key: null, nodeId: 1, host: 'h', port: 9092, errorCode: 0, errorMessage: null }],
      });
      expect(FindCoordinator.decodeResponse(hex('00000064 000f ffff ffffffff 0000 ffffffff'), 1)).to.deep.equal({
        throttleTimeMs: 100,
        coordinators: [{ key: null, nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: null }],
      });
      expect(FindCoordinator.decodeResponse(hex('00000000 0000 00 00000002 0268 00002384 00'), 3).coordinators[0]).to.include({ nodeId: 2, host: 'h', port: 9092 });
    });

    it('v4 response: one entry per key, each with its own error', () => {
      const response = FindCoordinator.decodeResponse(hex('00000000 03  0274 00000002 0268 00002384 0000 00 00  0275 ffffffff 01 ffffffff 000e 0378 79 00  00'), 4);
      expect(response.coordinators).to.deep.equal([
        { key: 't', nodeId: 2, host: 'h', port: 9092, errorCode: 0, errorMessage: null },
        { key: 'u', nodeId: -1, host: '', port: -1, errorCode: 14, errorMessage: 'xy' },
      ]);
    });

    it('a truncated answer is a ProtocolError', () => {
      expect(() => FindCoordinator.decodeResponse(hex('00000000 02 0274 0000'), 4)).to.throw(ProtocolError);
    });
  });

  describe('AddPartitionsToTxn', () => {
    const txn = { transactionalId: 'x', producerId: 5n, producerEpoch: 1, topics: [{ name: 't', partitions: [0, 3] }] };

    it('v0 and v3 requests: one transaction', () => {
      expect(body(AddPartitionsToTxn, 0, { transactions: [txn] })).to.equal('000178' + PID + '0001' + '00000001' + '000174' + '00000002' + '00000000' + '00000003');
      expect(body(AddPartitionsToTxn, 3, { transactions: [txn] })).to.equal('0278' + PID + '0001' + '02' + '0274' + '03' + '00000000' + '00000003' + '00' + '00');
      expect(() => body(AddPartitionsToTxn, 3, { transactions: [txn, txn] })).to.throw(ProtocolError);
    });

    it('v4 request: the batched form with verify_only', () => {
      expect(body(AddPartitionsToTxn, 4, { transactions: [{ ...txn, verifyOnly: true, topics: [{ name: 't', partitions: [1] }] }] })).to.equal(
        '02' + '0278' + PID + '0001' + '01' + '02' + '0274' + '02' + '00000001' + '00' + '00' + '00',
      );
    });

    it('v0 and v4 responses', () => {
      expect(AddPartitionsToTxn.decodeResponse(hex('00000000 00000001 000174 00000001 00000003 0033'), 0)).to.deep.equal({
        throttleTimeMs: 0,
        errorCode: 0,
        transactions: [{ transactionalId: null, topics: [{ name: 't', partitions: [{ partitionIndex: 3, errorCode: 51 }] }] }],
      });
      expect(AddPartitionsToTxn.decodeResponse(hex('00000000 0000 02 0278 02 0274 02 00000003 0000 00 00 00 00'), 4)).to.deep.equal({
        throttleTimeMs: 0,
        errorCode: 0,
        transactions: [{ transactionalId: 'x', topics: [{ name: 't', partitions: [{ partitionIndex: 3, errorCode: 0 }] }] }],
      });
    });

    it('a producer speaks v3 at most (v4+ is the brokers\' form)', () => {
      expect(AddPartitionsToTxnFromProducer.maxVersion).to.equal(3);
      expect(AddPartitionsToTxnFromProducer.apiKey).to.equal(24);
    });
  });

  describe('AddOffsetsToTxn', () => {
    it('v0 and v3 requests, v3 response', () => {
      const request = { transactionalId: 'x', producerId: 5n, producerEpoch: 1, groupId: 'g' };
      expect(body(AddOffsetsToTxn, 0, request)).to.equal('000178' + PID + '0001' + '000167');
      expect(body(AddOffsetsToTxn, 3, request)).to.equal('0278' + PID + '0001' + '0267' + '00');
      expect(AddOffsetsToTxn.decodeResponse(hex('00000000 0033 00'), 3)).to.deep.equal({ throttleTimeMs: 0, errorCode: 51 });
      expect(AddOffsetsToTxn.decodeResponse(hex('00000001 0000'), 0)).to.deep.equal({ throttleTimeMs: 1, errorCode: 0 });
    });
  });

  describe('EndTxn', () => {
    it('v0 commit and v5 abort requests', () => {
      expect(body(EndTxn, 0, { transactionalId: 'x', producerId: 5n, producerEpoch: 1, committed: true })).to.equal('000178' + PID + '0001' + '01');
      expect(body(EndTxn, 5, { transactionalId: 'x', producerId: 5n, producerEpoch: 1, committed: false })).to.equal('0278' + PID + '0001' + '00' + '00');
    });

    it('v5 response carries the next producer id and epoch; earlier ones -1', () => {
      expect(EndTxn.decodeResponse(hex('00000000 0000 0000000000000007 0003 00'), 5)).to.deep.equal({ throttleTimeMs: 0, errorCode: 0, producerId: 7n, producerEpoch: 3 });
      expect(EndTxn.decodeResponse(hex('00000000 005a 00'), 4)).to.deep.equal({ throttleTimeMs: 0, errorCode: 90, producerId: -1n, producerEpoch: -1 });
      expect(EndTxn.decodeResponse(hex('00000000 0030'), 1)).to.deep.equal({ throttleTimeMs: 0, errorCode: 48, producerId: -1n, producerEpoch: -1 });
    });
  });

  describe('TxnOffsetCommit', () => {
    const request = {
      transactionalId: 'x',
      groupId: 'g',
      producerId: 5n,
      producerEpoch: 1,
      generationIdOrMemberEpoch: 3,
      memberId: 'm',
      topics: [{ name: 't', topicId: Buffer.alloc(16, 0x11), partitions: [{ partitionIndex: 2, committedOffset: 10n }] }],
    };

    it('v0, v2 (leader epoch), v3 (group member) and v6 (topic id) requests', () => {
      const v0Head = '000178' + '000167' + PID + '0001';
      expect(body(TxnOffsetCommit, 0, request)).to.equal(v0Head + '00000001' + '000174' + '00000001' + '00000002' + '000000000000000a' + 'ffff');
      expect(body(TxnOffsetCommit, 2, request)).to.equal(v0Head + '00000001' + '000174' + '00000001' + '00000002' + '000000000000000a' + 'ffffffff' + 'ffff');
      const v3Head = '0278' + '0267' + PID + '0001' + '00000003' + '026d' + '00';
      const partition = '02' + '00000002' + '000000000000000a' + 'ffffffff' + '00' + '00';
      expect(body(TxnOffsetCommit, 3, request)).to.equal(v3Head + '02' + '0274' + partition + '00' + '00');
      expect(body(TxnOffsetCommit, 6, request)).to.equal(v3Head + '02' + '11'.repeat(16) + partition + '00' + '00');
    });

    it('v6 without a topic id is refused before anything is sent', () => {
      expect(() => body(TxnOffsetCommit, 6, { ...request, topics: [{ name: 't', partitions: [] }] })).to.throw(UnsupportedVersionError);
    });

    it('v0 and v6 responses', () => {
      expect(TxnOffsetCommit.decodeResponse(hex('00000000 00000001 000174 00000001 00000002 0000'), 0)).to.deep.equal({
        throttleTimeMs: 0,
        topics: [{ name: 't', topicId: null, partitions: [{ partitionIndex: 2, errorCode: 0 }] }],
      });
      const v6 = TxnOffsetCommit.decodeResponse(hex('00000000 02' + '11'.repeat(16) + '02 00000002 0010 00 00 00'), 6);
      expect(v6.topics[0].name).to.equal(null);
      expect(v6.topics[0].topicId!.equals(Buffer.alloc(16, 0x11))).to.equal(true);
      expect(v6.topics[0].partitions).to.deep.equal([{ partitionIndex: 2, errorCode: 16 }]);
    });
  });
});
