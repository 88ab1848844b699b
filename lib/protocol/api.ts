import { VersionNotImplementedError } from '../errors/index.js';
import type { Writer } from './writer.js';

/**
 * One Kafka API as kafka-rx speaks it: its key, the version range kafka-rx implements, the first
 * flexible version, and one encoder and one decoder that switch on the version where fields come
 * and go. The network layer negotiates the version and writes and reads the headers; an API module
 * only knows its own body.
 */
export interface KafkaApi<Request, Response> {
  readonly apiKey: number;
  readonly name: string;
  /** Lowest version kafka-rx implements. */
  readonly minVersion: number;
  /** Highest version kafka-rx implements. */
  readonly maxVersion: number;
  /** First version that uses compact encodings and tagged fields (Infinity when none does). */
  readonly firstFlexibleVersion: number;
  /** Writes the request body (after the request header). */
  encodeRequest(writer: Writer, version: number, request: Request): void;
  /** Reads the response body (after the response header). Throws ProtocolError on bad input. */
  decodeResponse(body: Buffer, version: number): Response;
  /** False when the broker sends no response (Produce with acks=0). Absent means true. */
  expectsResponse?(request: Request): boolean;
}

export function isFlexible(api: KafkaApi<unknown, unknown>, version: number): boolean {
  return version >= api.firstFlexibleVersion;
}

/** Throws VersionNotImplementedError unless kafka-rx implements `version` of `api`. */
export function assertImplemented(api: KafkaApi<unknown, unknown>, version: number): void {
  if (!Number.isInteger(version) || version < api.minVersion || version > api.maxVersion) {
    throw new VersionNotImplementedError(api.name, version, { min: api.minVersion, max: api.maxVersion });
  }
}
