/**
 * SaslHandshake (key 17), v1.
 *
 * SaslHandshake Request (Version: 0-1) => mechanism:STRING
 * SaslHandshake Response (Version: 0-1) => error_code:INT16 [mechanisms:STRING]
 *
 * Only v1 is spoken: after it the SASL tokens travel inside SaslAuthenticate requests (KIP-152),
 * framed and correlated like every other request; v0 would send them as raw frames instead.
 */
import type { KafkaApi } from './api.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface SaslHandshakeRequest {
  mechanism: string;
}

export interface SaslHandshakeResponse {
  errorCode: number;
  /** The mechanisms the broker has enabled on this listener. */
  mechanisms: string[];
}

export const SaslHandshake: KafkaApi<SaslHandshakeRequest, SaslHandshakeResponse> = {
  apiKey: 17,
  name: 'SaslHandshake',
  minVersion: 1,
  maxVersion: 1,
  firstFlexibleVersion: Infinity,

  encodeRequest(writer: Writer, _version: number, request: SaslHandshakeRequest): void {
    writer.string(request.mechanism);
  },

  decodeResponse(body: Buffer): SaslHandshakeResponse {
    const reader = new Reader(body);
    const errorCode = reader.int16();
    const count = reader.arrayLength(false, 2);
    const mechanisms: string[] = [];
    for (let i = 0; i < count; i++) mechanisms.push(reader.string(false));
    return { errorCode, mechanisms };
  },
};
