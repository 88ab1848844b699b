import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { bootstrap, REPO_ROOT } from './support/broker.js';

function runExample(file: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'examples', file)], {
      cwd: REPO_ROOT,
      env: { ...process.env, KAFKA_BROKERS: bootstrap(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('examples run against the real broker', function () {
  this.timeout(180_000);
  const examples: Array<[string, Record<string, string>, RegExp]> = [
    ['interval-to-kafka.ts', { EXAMPLE_COUNT: '500' }, /delivered 500, failed 0/],
    ['file-to-kafka.ts', {}, /done: 200000 lines/],
    ['sync-produce.ts', {}, /refused as expected: MessageSizeTooLargeError/],
    ['fan-out.ts', {}, /acknowledged per topic/],
    ['http-to-kafka.ts', { EXAMPLE_SELF_TEST: '1' }, /answers: 50 x 202/],
    ['route-and-dead-letter.ts', {}, /dead-lettered 25 of 25 failed records/],
    ['multi-topic-router.ts', {}, /routed 10000 events/],
    ['consume-transform-produce.ts', {}, /transformed 2000 records in 8 transactions, failed 0, unreported 0/],
    ['demo.ts', { DEMO_EVENTS: '20000' }, /demo OK/],
  ];
  for (const [file, env, expected] of examples) {
    it(`${file} runs to completion`, async () => {
      const { code, output } = await runExample(file, env);
      expect(output, output).to.match(expected);
      expect(output).to.match(/done|demo OK/);
      expect(code, output).to.equal(0);
    });
  }
});
