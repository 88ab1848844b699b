/**
 * A deliberately tiny Kafka client for the protocol integration spec: one socket, length-prefixed
 * frames, one request at a time. It exists so the codecs can be checked against a real broker
 * without waiting for lib/network; it is not a model for the real connection.
 */
import { connect, type Socket } from 'node:net';
import type { KafkaApi } from '../../../lib/protocol/api.js';
import { ApiVersions, retryVersionAfter, type ApiVersionsResponse } from '../../../lib/protocol/api-versions.js';
import { readResponseHeader, responseHeaderIsFlexible, writeRequestFrame } from '../../../lib/protocol/header.js';
import { Writer } from '../../../lib/protocol/writer.js';

export class RawClient {
  private socket!: Socket;
  private pending = Buffer.alloc(0);
  private waiting: ((frame: Buffer) => void) | null = null;
  private correlationId = 0;

  static async open(address: string): Promise<RawClient> {
    const [host, port] = address.split(':');
    const client = new RawClient();
    await new Promise<void>((resolve, reject) => {
      client.socket = connect({ host, port: Number(port) }, resolve);
      client.socket.once('error', reject);
    });
    client.socket.on('data', (chunk) => client.onData(chunk));
    return client;
  }

  private onData(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    if (this.pending.length < 4) return;
    const size = this.pending.readInt32BE(0);
    if (this.pending.length < 4 + size) return;
    const frame = this.pending.subarray(4, 4 + size);
    this.pending = this.pending.subarray(4 + size);
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(frame);
  }

  /** Sends one request; resolves with the response body (header checked and removed). */
  async request<Req, Res>(api: KafkaApi<Req, Res>, version: number, request: Req): Promise<{ body: Buffer; response: Res }> {
    return this.exchange(api, version, version, request);
  }

  /**
   * Sends a request whose header names `headerVersion` over the body of `bodyVersion`, as a client
   * that knows a newer version than kafka-rx would; the answer is read as `headerVersion`. Only for
   * asking a broker about a version kafka-rx does not implement (ApiVersions above its maximum).
   */
  async requestAsVersion<Req, Res>(api: KafkaApi<Req, Res>, headerVersion: number, bodyVersion: number, request: Req): Promise<{ body: Buffer; response: Res }> {
    return this.exchange(api, headerVersion, bodyVersion, request);
  }

  private async exchange<Req, Res>(api: KafkaApi<Req, Res>, version: number, bodyVersion: number, request: Req): Promise<{ body: Buffer; response: Res }> {
    const correlationId = ++this.correlationId;
    const writer = new Writer(256);
    writeRequestFrame(writer, api, bodyVersion, correlationId, 'kafka-rx-protocol-spec', request);
    // The header's version field sits after the 4-byte size and the 2-byte api key.
    writer.patchInt32(4, (api.apiKey << 16) | version);
    const frame = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${api.name} v${version} within 15 s`)), 15000);
      this.waiting = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.socket.write(writer.toBuffer());
    });
    const header = readResponseHeader(frame, responseHeaderIsFlexible(api, version));
    if (header.correlationId !== correlationId) throw new Error(`correlation id ${header.correlationId}, expected ${correlationId}`);
    const body = frame.subarray(header.bodyOffset);
    return { body, response: api.decodeResponse(body, version) };
  }

  /** Sends a request the broker will not answer (Produce with acks=0). */
  send<Req>(api: KafkaApi<Req, unknown>, version: number, request: Req): void {
    const writer = new Writer(256);
    writeRequestFrame(writer, api, version, ++this.correlationId, 'kafka-rx-protocol-spec', request);
    this.socket.write(writer.toBuffer());
  }

  close(): void {
    this.socket.destroy();
  }

  /** The broker's ApiVersions answer, asked as lib/network's connection asks: kafka-rx's newest version, then the broker's. */
  static async versionsOf(address: string): Promise<ApiVersionsResponse> {
    const client = await RawClient.open(address);
    try {
      let versions = (await client.request(ApiVersions, ApiVersions.maxVersion, {})).response;
      const retry = retryVersionAfter(versions, ApiVersions.maxVersion);
      if (retry !== null) versions = (await client.request(ApiVersions, retry, {})).response;
      if (versions.errorCode !== 0) throw new Error(`ApiVersions from ${address} answered error ${versions.errorCode}`);
      return versions;
    } finally {
      client.close();
    }
  }
}
