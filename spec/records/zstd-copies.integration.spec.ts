// Two (here three) copies of kafka-rx in one process, as the CommonJS/ES module dual-package
// hazard or two installed versions make: the built CommonJS package, the built ES module package
// and the sources under test each have module state of their own but share @bokuweb/zstd-wasm
// through Node's module cache. Each writes zstd batches, in turns, and kcat reads back every byte.
// Needs the build (npm test builds first); a missing dist/ fails the spec rather than skipping it.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as sources from '../../lib/index.js';
import { brokers, REPO_ROOT } from '../support/broker.js';
import { consumeAll } from '../support/kcat.js';
import { createTopic, uniqueTopic } from '../support/topics.js';

type KafkaRx = typeof sources;

/** A real ES module import (tsx would otherwise turn import() into require() here). */
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<KafkaRx>;

function copyOf(build: 'cjs' | 'esm'): Promise<KafkaRx> {
  const entry = join(REPO_ROOT, 'dist', build, 'lib', 'index.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return build === 'cjs' ? Promise.resolve(require(entry) as KafkaRx) : importModule(pathToFileURL(entry).href);
}

/** A value of `size` bytes that names its copy and round, compressible but not trivially. */
function valueFor(label: string, index: number, size: number): Buffer {
  const value = Buffer.alloc(size);
  const text = Buffer.from(`${label}#${index}|`);
  for (let at = 0; at < size; at += text.length + 7) {
    text.copy(value, at);
    value.writeUInt32LE((at * 2654435761) >>> 0, Math.min(at + text.length, size - 4));
  }
  return value;
}

describe('zstd from several copies of kafka-rx in one process', function () {
  this.timeout(120_000);

  it('writes zstd from the CommonJS build, the ES module build and the sources in turns; kcat reads every byte', async () => {
    const copies: Array<[string, KafkaRx]> = [
      ['cjs', await copyOf('cjs')],
      ['src', sources],
      ['esm', await copyOf('esm')],
    ];
    expect(new Set(copies.map(([, copy]) => copy.KafkaClient)).size, 'three separate module instances').to.equal(3);
    const topic = uniqueTopic('zstd-copies');
    await createTopic(topic, { partitions: 1 });
    const expected: Buffer[] = [];
    // Each copy in turn: the first writes before the others load the codec, each later one after.
    for (let round = 0; round < 2; round++) {
      for (const [label, copy] of copies) {
        const client = new copy.KafkaClient({ brokers: brokers(), clientId: `zstd-${label}` });
        const producer = client.producer(topic, { compression: 'zstd', lingerMs: 5, requiredAcks: 1 });
        const failures: string[] = [];
        producer.deliveryReports$.subscribe((report) => {
          if (report.error) failures.push(`${report.error.name}: ${report.error.message}`);
        });
        // 163,840 bytes, the size seen corrupted, then small records batched together.
        const values = [valueFor(`${label}-${round}`, 0, 163_840), ...Array.from({ length: 20 }, (_, i) => valueFor(`${label}-${round}`, i + 1, 300))];
        for (const value of values) await producer.produce(value);
        await producer.stop();
        await client.close();
        expect(failures, `${label} round ${round}`).to.deep.equal([]);
        expected.push(...values);
      }
    }
    const read = await consumeAll(topic, { count: expected.length, timeoutMs: 30_000 });
    expect(read).to.have.length(expected.length);
    read.forEach((record, i) => expect(record.value!.equals(expected[i]), `record ${i}`).to.equal(true));
  });
});
