import { expect } from 'chai';
import {
  ConfigError,
  ConnectionError,
  KafkaError,
  KafkaRxError,
  MessageSizeTooLargeError,
  MessageTooLargeError,
  NotEnoughReplicasError,
  NotLeaderOrFollowerError,
  RecordTypeError,
  TopicAuthorizationFailedError,
  UnknownServerError,
  UnsupportedVersionError,
  errorCodes,
  kafkaErrorFor,
  ProtocolError,
  SerializationError,
} from '../lib/errors/index.js';
import { asKafkaRxError, asProtocolError } from '../lib/errors/convert.js';

describe('errors', () => {
  it('maps every Kafka error code to its own class with its flags', () => {
    expect(errorCodes.size).to.be.greaterThan(120);
    for (const [code, info] of errorCodes) {
      const error = kafkaErrorFor(code, 'context');
      expect(error).to.be.instanceOf(KafkaError);
      expect(error).to.be.instanceOf(KafkaRxError);
      expect(error.code).to.equal(code);
      expect(error.errorName).to.equal(info.name);
      expect(error.retriable).to.equal(info.retriable);
      expect(error.refreshMetadata).to.equal(info.refreshMetadata);
      expect(error.constructor).to.not.equal(KafkaError);
      expect(error.message).to.contain(info.name).and.contain('context');
    }
  });

  it('knows which errors are retriable and which call for a metadata refresh', () => {
    expect(kafkaErrorFor(6)).to.be.instanceOf(NotLeaderOrFollowerError).and.include({ retriable: true, refreshMetadata: true });
    expect(kafkaErrorFor(19)).to.be.instanceOf(NotEnoughReplicasError).and.include({ retriable: true, refreshMetadata: false });
    expect(kafkaErrorFor(29)).to.be.instanceOf(TopicAuthorizationFailedError).and.include({ retriable: false });
    expect(kafkaErrorFor(10)).to.be.instanceOf(MessageSizeTooLargeError).and.instanceOf(MessageTooLargeError);
    expect(kafkaErrorFor(-1)).to.be.instanceOf(UnknownServerError);
  });

  it('keeps an unknown code typed, with its number', () => {
    const error = kafkaErrorFor(9999);
    expect(error).to.be.instanceOf(KafkaError);
    expect(error.code).to.equal(9999);
    expect(error.retriable).to.equal(false);
  });

  it('gives client errors messages that name what went wrong', () => {
    expect(new ConfigError('lingerMs', 'an integer >= 0', -1).message).to.equal('invalid option lingerMs: expected an integer >= 0, got number -1');
    expect(new UnsupportedVersionError('Produce', { min: 3, max: 11 }, { min: 0, max: 2 }).message).to.contain('Produce').and.contain('v3-v11').and.contain('v0-v2');
    expect(new ConnectionError('lost')).to.include({ retriable: true, refreshMetadata: true });
  });

  it('makes RecordTypeError both a TypeError and a KafkaRxError', () => {
    const error = new RecordTypeError('value', 'a Buffer', 42);
    expect(error).to.be.instanceOf(TypeError);
    expect(error).to.be.instanceOf(KafkaRxError);
    expect(error.message).to.equal('value must be a Buffer, got number 42');
    expect(new TypeError('x')).to.not.be.instanceOf(KafkaRxError);
  });

  describe('asKafkaRxError', () => {
    it('passes kafka-rx\'s own errors through unchanged, whatever the context or wrapper', () => {
      const own = new ConnectionError('lost');
      expect(asKafkaRxError(own)).to.equal(own);
      expect(asKafkaRxError(own, 'sending', (message, cause) => new SerializationError(message, { cause }))).to.equal(own);
      const typeError = new RecordTypeError('value', 'a Buffer', 42);
      expect(asKafkaRxError(typeError)).to.equal(typeError);
    });

    it('wraps a foreign throwable, keeping it as the cause and naming what was being done', () => {
      const bug = new TypeError('x is not a function');
      const wrapped = asKafkaRxError(bug, 'producer pipeline failed');
      expect(wrapped).to.be.instanceOf(KafkaRxError).and.not.equal(bug);
      expect(wrapped.cause).to.equal(bug);
      expect(wrapped.message).to.equal('producer pipeline failed: TypeError: x is not a function');
      expect(asKafkaRxError('a string').message).to.equal('a string');
      expect(asKafkaRxError(undefined, 'callback').cause).to.equal(undefined);
    });

    it('wraps in the class the caller picks: asProtocolError makes a ProtocolError', () => {
      const serialization = asKafkaRxError(new RangeError('too deep'), 'the serializer threw', (message, cause) => new SerializationError(message, { cause }));
      expect(serialization).to.be.instanceOf(SerializationError);
      expect(serialization.message).to.equal('the serializer threw: RangeError: too deep');
      const zlib = new Error('incorrect header check');
      const protocol = asProtocolError(zlib, 'gzip data does not decompress');
      expect(protocol).to.be.instanceOf(ProtocolError);
      expect(protocol.cause).to.equal(zlib);
      const own = new ProtocolError('truncated');
      expect(asProtocolError(own, 'anything')).to.equal(own);
    });
  });
});
