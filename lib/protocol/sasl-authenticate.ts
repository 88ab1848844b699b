/**
 * SaslAuthenticate (key 36), v0-v2.
 *
 * SaslAuthenticate Request (Version: 0-1) => auth_bytes:BYTES
 * SaslAuthenticate Request (Version: 2) => auth_bytes:COMPACT_BYTES TAG_BUFFER
 *
 * SaslAuthenticate Response (Version: 0) => error_code:INT16 error_message:NULLABLE_STRING auth_bytes:BYTES
 * SaslAuthenticate Response (Version: 1) => (v0 fields) session_lifetime_ms:INT64
 * SaslAuthenticate Response (Version: 2) => error_code:INT16 error_message:COMPACT_NULLABLE_STRING
 *                                           auth_bytes:COMPACT_BYTES session_lifetime_ms:INT64 TAG_BUFFER
 *
 * session_lifetime_ms (KIP-368): after this long the broker accepts only a re-authentication on
 * the connection; 0 when the broker sets no limit.
 */
import type { KafkaApi } from './api.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface SaslAuthenticateRequest {
  authBytes: Buffer;
}

export interface SaslAuthenticateResponse {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  sessionLifetimeMs: number;
}

export const SaslAuthenticate: KafkaApi<SaslAuthenticateRequest, SaslAuthenticateResponse> = {
  apiKey: 36,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  firstFlexibleVersion: 2,

  encodeRequest(writer: Writer, version: number, request: SaslAuthenticateRequest): void {
    if (version >= 2) writer.compactBytes(request.authBytes).uvarint(0);
    else writer.bytes(request.authBytes);
  },

  decodeResponse(body: Buffer, version: number): SaslAuthenticateResponse {
    const reader = new Reader(body);
    const flexible = version >= 2;
    const errorCode = reader.int16();
    const errorMessage = reader.nullableString(flexible);
    // Copied: the token outlives the response frame it came in.
    const authBytes = Buffer.from(reader.nullableBytes(flexible) ?? Buffer.alloc(0));
    const sessionLifetimeMs = version >= 1 ? Number(reader.int64()) : 0;
    if (flexible) reader.taggedFields();
    return { errorCode, errorMessage, authBytes, sessionLifetimeMs };
  },
};
