import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { youngArray, youngArrayOf } from '../lib/young-array.js';

describe('youngArray', () => {
  it('is an empty, ordinary array', () => {
    const list = youngArray<number>();
    expect(list).to.deep.equal([]);
    list.push(1, 2);
    expect(Array.isArray(list)).to.equal(true);
    expect(list).to.deep.equal([1, 2]);
  });

  it('youngArrayOf holds its first element and grows as any array', () => {
    const a = youngArrayOf({ n: 1 });
    const b = youngArrayOf({ n: 2 });
    expect(a).to.deep.equal([{ n: 1 }]);
    expect(a).to.not.equal(b);
    b.push({ n: 3 });
    expect(b).to.deep.equal([{ n: 2 }, { n: 3 }]);
    expect(a, 'one list\'s push does not reach another').to.deep.equal([{ n: 1 }]);
    expect(youngArray()).to.deep.equal([]);
    expect(youngArrayOf(7)).to.deep.equal([7]);
  });

  it('stays in the young generation where V8 pretenures an array literal that made the same arrays', function () {
    this.timeout(60_000);
    const probe = join(__dirname, 'support', 'young-array-probe.cjs');
    const flags = ['--allow-natives-syntax', '--expose-gc', '--max-semi-space-size=1', '--min-semi-space-size=1', '--import', 'tsx'];
    const seen = JSON.parse(execFileSync(process.execPath, [...flags, probe], { encoding: 'utf8' })) as { literalYoung: boolean; youngArrayYoung: boolean; youngArrayOfYoung: boolean };
    // The control: the same pattern does get `[]` pretenured, or the probe could not tell.
    expect(seen.literalYoung, 'the array literal, pretenured').to.equal(false);
    expect(seen.youngArrayYoung, 'youngArray()').to.equal(true);
    expect(seen.youngArrayOfYoung, 'youngArrayOf()').to.equal(true);
  });
});
