/**
 * Request and response headers.
 *
 * RequestHeader v1 => request_api_key:INT16 request_api_version:INT16 correlation_id:INT32
 *                     client_id:NULLABLE_STRING
 * RequestHeader v2 => (v1 fields) TAG_BUFFER       (for flexible request versions)
 *   client_id keeps its INT16 length even in v2, so any broker can read the header of an
 *   ApiVersions request whatever its version.
 *
 * ResponseHeader v0 => correlation_id:INT32
 * ResponseHeader v1 => correlation_id:INT32 TAG_BUFFER (for flexible response versions)
 *   ApiVersionsResponse always uses v0, so a client that does not yet know the broker's versions
 *   can still read it.
 */
import { assertImplemented, isFlexible, type KafkaApi } from './api.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

const API_VERSIONS_KEY = 18;

export function writeRequestHeader(
  writer: Writer,
  api: KafkaApi<any, any>,
  version: number,
  correlationId: number,
  clientId: string | null,
): void {
  assertImplemented(api, version);
  writer.int16(api.apiKey).int16(version).int32(correlationId).string(clientId);
  if (isFlexible(api, version)) writer.uvarint(0);
}

/**
 * One whole request frame: the INT32 size prefix, the header and the body, written in place (the
 * size is patched once the body is known, so nothing is encoded twice). Returns the frame's start.
 */
export function writeRequestFrame<Req>(
  writer: Writer,
  api: KafkaApi<Req, any>,
  version: number,
  correlationId: number,
  clientId: string | null,
  request: Req,
): number {
  assertImplemented(api, version);
  const start = writer.reserveInt32();
  writeRequestHeader(writer, api, version, correlationId, clientId);
  api.encodeRequest(writer, version, request);
  writer.patchInt32(start, writer.length - start - 4);
  return start;
}

/** Whether the response to `api` at `version` has the flexible header (ResponseHeader v1). */
export function responseHeaderIsFlexible(api: KafkaApi<any, any>, version: number): boolean {
  return api.apiKey !== API_VERSIONS_KEY && isFlexible(api, version);
}

export interface ResponseHeader {
  correlationId: number;
  /** Where the body starts in the frame. */
  bodyOffset: number;
}

/** Reads a response header from a frame (without its length prefix); tagged fields are skipped. */
export function readResponseHeader(frame: Buffer, flexible: boolean): ResponseHeader {
  const reader = new Reader(frame);
  const correlationId = reader.int32();
  if (flexible) reader.taggedFields();
  return { correlationId, bodyOffset: reader.pos };
}
