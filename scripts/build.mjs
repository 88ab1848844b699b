// Builds dist/cjs and dist/esm from one source, so both `require` and `import` of kafka-rx work.
// Each output folder gets a package.json naming its module format; Node reads the nearest one.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const [config, dir, type] of [
  ['tsconfig.build.json', 'dist/cjs', 'commonjs'],
  ['tsconfig.esm.json', 'dist/esm', 'module'],
]) {
  execFileSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/package.json`, JSON.stringify({ type }) + '\n');
}
