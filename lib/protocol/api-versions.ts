/**
 * ApiVersions (key 18), v0-v5.
 *
 * ApiVersions Request (Version: 0-2) => (empty)
 * ApiVersions Request (Version: 3-4) => client_software_name client_software_version TAG_BUFFER
 * ApiVersions Request (Version: 5) => client_software_name client_software_version cluster_id node_id TAG_BUFFER
 *   client_software_name => COMPACT_STRING
 *   client_software_version => COMPACT_STRING
 *   cluster_id => COMPACT_NULLABLE_STRING
 *   node_id => INT32
 *
 * ApiVersions Response (Version: 0) => error_code [api_keys]
 * ApiVersions Response (Version: 1-2) => error_code [api_keys] throttle_time_ms
 * ApiVersions Response (Version: 3-5) => error_code [api_keys] throttle_time_ms TAG_BUFFER
 *   error_code => INT16
 *   api_keys => api_key:INT16 min_version:INT16 max_version:INT16 (v3+: TAG_BUFFER)
 *   throttle_time_ms => INT32
 *   tagged (v3+): 0 supported_features [name:COMPACT_STRING min_version:INT16 max_version:INT16 TAG_BUFFER]
 *                 1 finalized_features_epoch:INT64
 *                 2 finalized_features [name:COMPACT_STRING max_version_level:INT16 min_version_level:INT16 TAG_BUFFER]
 *                 3 zk_migration_ready:BOOLEAN
 *
 * The response header is always ResponseHeader v0. When the broker does not know the requested
 * version it answers UNSUPPORTED_VERSION (35) with a v0 body whose ApiVersions entry tells the
 * versions it does know (KIP-511, Kafka 2.4+); `retryVersionAfter` picks the one to retry with.
 * Versions 0-2 are identical on the wire apart from the throttle time; v4 differs from v3 only in
 * what the broker may put in SupportedFeatures. v5 (Kafka 4.4, KIP-1242) lets the client name the
 * cluster and node it means to reach, which the broker checks (REBOOTSTRAP_REQUIRED when they do
 * not match); kafka-rx sends null and -1, "not known", until it tracks cluster ids per bootstrap.
 */
import type { KafkaApi } from './api.js';
import { FixedLayout, Parser, Reader } from './reader.js';
import type { Writer } from './writer.js';
import { ProtocolError, UnsupportedVersionError } from '../errors/index.js';
// Kafka's code 35; the public UnsupportedVersionError is kafka-rx's (no common version), see errors/index.ts.
import { UnsupportedVersionError as UnsupportedVersionCode } from '../errors/codes.js';

export interface ApiVersionsRequest {
  /** Defaults to 'kafka-rx'. Brokers accept [a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?. */
  clientSoftwareName?: string;
  clientSoftwareVersion?: string;
  /** v5+: the cluster the client means to reach; null (the default) skips the broker's check. */
  clusterId?: string | null;
  /** v5+: the node the client means to reach; -1 (the default) when not known. */
  nodeId?: number;
}

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface SupportedFeature {
  name: string;
  minVersion: number;
  maxVersion: number;
}

export interface FinalizedFeature {
  name: string;
  maxVersionLevel: number;
  minVersionLevel: number;
}

export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: ApiVersionRange[];
  throttleTimeMs: number;
  supportedFeatures: SupportedFeature[];
  finalizedFeaturesEpoch: bigint;
  finalizedFeatures: FinalizedFeature[];
  zkMigrationReady: boolean;
  /** The version the body was read as: 0 when the broker fell back to a v0 error answer. */
  bodyVersion: number;
}

export const UNSUPPORTED_VERSION = UnsupportedVersionCode.code;
const SOFTWARE_NAME = 'kafka-rx';
const SOFTWARE_VERSION = '0.1.0';

const apiVersionRange = new FixedLayout<ApiVersionRange>(
  new Parser().int16be('apiKey').int16be('minVersion').int16be('maxVersion'),
);

// Both feature lists are entries of name:COMPACT_STRING, two INT16 and a TAG_BUFFER.
function readFeatures<T>(reader: Reader, entry: (name: string, first: number, second: number) => T): T[] {
  const count = reader.arrayLength(true, 6);
  const features: T[] = [];
  for (let i = 0; i < count; i++) {
    const name = reader.string(true);
    const first = reader.int16();
    const second = reader.int16();
    reader.taggedFields();
    features.push(entry(name, first, second));
  }
  return features;
}

function onResponseTag(tag: number, reader: Reader, response: ApiVersionsResponse): void {
  switch (tag) {
    case 0:
      response.supportedFeatures = readFeatures(reader, (name, minVersion, maxVersion) => ({ name, minVersion, maxVersion }));
      break;
    case 1:
      response.finalizedFeaturesEpoch = reader.int64();
      break;
    case 2:
      response.finalizedFeatures = readFeatures(reader, (name, maxVersionLevel, minVersionLevel) => ({ name, maxVersionLevel, minVersionLevel }));
      break;
    case 3:
      response.zkMigrationReady = reader.boolean();
      break;
  }
}

function decodeBody(body: Buffer, version: number): { response: ApiVersionsResponse; end: number } {
  const reader = new Reader(body);
  const flexible = version >= 3;
  const response: ApiVersionsResponse = {
    errorCode: reader.int16(),
    apiKeys: [],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
    bodyVersion: version,
  };
  const count = reader.arrayLength(flexible, flexible ? 7 : 6);
  if (flexible) {
    const apiKeys = new Array<ApiVersionRange>(count);
    for (let i = 0; i < count; i++) {
      apiKeys[i] = reader.fixed(apiVersionRange);
      reader.taggedFields();
    }
    response.apiKeys = apiKeys;
  } else {
    response.apiKeys = apiVersionRange.readItems(reader, count);
  }
  if (version >= 1) response.throttleTimeMs = reader.int32();
  if (flexible) reader.taggedFields(onResponseTag, response);
  return { response, end: reader.pos };
}

export const ApiVersions: KafkaApi<ApiVersionsRequest, ApiVersionsResponse> = {
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 5,
  firstFlexibleVersion: 3,

  encodeRequest(writer: Writer, version: number, request: ApiVersionsRequest): void {
    if (version < 3) return;
    writer
      .compactString(request.clientSoftwareName ?? SOFTWARE_NAME)
      .compactString(request.clientSoftwareVersion ?? SOFTWARE_VERSION);
    if (version >= 5) writer.compactString(request.clusterId ?? null).int32(request.nodeId ?? -1);
    writer.uvarint(0);
  },

  decodeResponse(body: Buffer, version: number): ApiVersionsResponse {
    if (version > 0 && body.length >= 2 && body.readInt16BE(0) === UNSUPPORTED_VERSION) {
      // The broker answers a version it does not know in v0 format; a body that reads exactly as
      // v0 is that answer, anything else is the requested format carrying error 35.
      try {
        const fallback = decodeBody(body, 0);
        if (fallback.end === body.length) return fallback.response;
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
      }
    }
    return decodeBody(body, version).response;
  },
};

/** The broker's version range for one API, or undefined when it does not list it. */
export function brokerRangeOf(response: ApiVersionsResponse, apiKey: number): ApiVersionRange | undefined {
  for (const range of response.apiKeys) if (range.apiKey === apiKey) return range;
  return undefined;
}

/**
 * After an UNSUPPORTED_VERSION answer to ApiVersions at `triedVersion`, the version to retry with:
 * the broker's highest ApiVersions version when it says it, else 0, which every broker knows.
 * Null when the answer is not that error or nothing lower is left to try.
 */
export function retryVersionAfter(response: ApiVersionsResponse, triedVersion: number): number | null {
  if (response.errorCode !== UNSUPPORTED_VERSION || triedVersion <= 0) return null;
  const broker = brokerRangeOf(response, ApiVersions.apiKey);
  const next = broker !== undefined && broker.maxVersion < triedVersion ? broker.maxVersion : 0;
  return next >= ApiVersions.minVersion && next < triedVersion ? next : null;
}

/**
 * The highest version both kafka-rx and the broker speak for `api`. Throws UnsupportedVersionError
 * when the ranges do not meet or the broker does not list the API.
 */
export function negotiateVersion(api: KafkaApi<any, any>, response: ApiVersionsResponse): number {
  const broker = brokerRangeOf(response, api.apiKey);
  const client = { min: api.minVersion, max: api.maxVersion };
  if (broker === undefined) throw new UnsupportedVersionError(api.name, client, null);
  const version = Math.min(api.maxVersion, broker.maxVersion);
  if (version < api.minVersion || version < broker.minVersion) {
    throw new UnsupportedVersionError(api.name, client, { min: broker.minVersion, max: broker.maxVersion });
  }
  return version;
}
