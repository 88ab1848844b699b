// Run by spec/young-array.spec.ts in a node of its own, with --allow-natives-syntax --expose-gc and
// a young generation already at its largest (1 MB semi-spaces), where V8 pretenures an allocation
// site after one scavenge that finds nearly all of its arrays alive. Prints what it saw as JSON.
'use strict';
const { youngArray, youngArrayOf } = require('../../lib/young-array.ts');

// V8 natives through the Function constructor: tsx's transform would refuse the % syntax.
const prepare = new Function('f', '%PrepareFunctionForOptimization(f)');
const optimizeNext = new Function('f', '%OptimizeFunctionOnNextCall(f)');
const inYoungGeneration = new Function('x', 'return %InYoungGeneration(x)');

function literal() {
  return [];
}
function helper() {
  return youngArray();
}
function helperOf(first) {
  return youngArrayOf(first);
}

prepare(literal);
prepare(helper);
prepare(helperOf);
// Arrays filled after they are made and kept past each scavenge: what a request's message lists do.
const kept = [];
for (let round = 0; round < 30; round++) {
  for (let i = 0; i < 2000; i++) {
    const a = literal();
    a.push(round);
    kept.push(a);
    const b = helper();
    b.push(round);
    kept.push(b);
    const c = helperOf(round);
    c.push(round);
    kept.push(c);
  }
  gc({ type: 'minor' });
}
optimizeNext(literal);
optimizeNext(helper);
optimizeNext(helperOf);
literal();
helper();
helperOf(0);
process.stdout.write(JSON.stringify({ literalYoung: inYoungGeneration(literal()), youngArrayYoung: inYoungGeneration(helper()), youngArrayOfYoung: inYoungGeneration(helperOf(0)), kept: kept.length }));
