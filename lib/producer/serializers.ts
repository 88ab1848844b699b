import { RecordTypeError } from '../errors/index.js';

/** pykafka's serializer: (value, partitionKey) => [valueBytes, keyBytes]. */
export type Serializer<V, K> = (value: V, key: K | null) => [Buffer | null, Buffer | null];

/** Bytes as kafka-rx sends them: a Buffer (a Uint8Array is viewed as one, not copied) or null. */
export function assertBytes(data: unknown, field: string): Buffer | null {
  if (data === null || data === undefined) return null;
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new RecordTypeError(field, 'a Buffer, a Uint8Array or null (or give the producer a serializer)', data);
}

function utf8(data: unknown, field: string): Buffer | null {
  if (data === null || data === undefined) return null;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return assertBytes(data, field);
}

/** Strings as UTF-8 (Buffers pass through, null stays null): pykafka's stock string serializer. */
export const utf8Serializer: Serializer<string | Buffer | null, string | Buffer> = (value, key) => [utf8(value, 'value'), utf8(key, 'key')];

/** Values as JSON text; string keys as UTF-8, other keys as JSON. null stays null (a tombstone). */
export const jsonSerializer: Serializer<unknown, unknown> = (value, key) => [
  value === null || value === undefined ? null : Buffer.from(JSON.stringify(value), 'utf8'),
  key === null || key === undefined ? null : typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(JSON.stringify(key), 'utf8'),
];
