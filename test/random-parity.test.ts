// The random ops of issue 23 (randomUniformInt, randomGamma, multinomial, randomStandardNormal,
// rand). PyTorch's generator is not Strata's, so instead of fixtures: a seed gives the same values
// on every backend and on every call, and the samples have the distribution's moments (checked
// at 5 standard errors, so a correct sampler fails about once in 3 million runs).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { throwsWith, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first so the
// comparison across backends covers them; it reads with `await t.data()`, which every backend has.
await st.ready();
const available = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);
const values = (t: st.Tensor) => Array.from(t.dataSync());
const meanOf = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const varianceOf = (v: number[]) => {
  const m = meanOf(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
};
/** |sample mean - mu| within 5 standard errors. */
function assertMean(v: number[], mu: number, variance: number, what: string): void {
  const bound = 5 * Math.sqrt(variance / v.length);
  assert.ok(Math.abs(meanOf(v) - mu) < bound, `${what}: mean ${meanOf(v)}, expected ${mu} ± ${bound}`);
}

// This file found multinomial throwing on webgpu (it read its logits with dataSync()); it draws on
// the device there now, from the same uniforms.

describe('seeded random ops give the same values on every backend', () => {
  const draws: [string, () => st.Tensor][] = [
    ['randomUniformInt', () => st.randomUniformInt([50], -5, 9, 42)],
    ['randomGamma', () => st.randomGamma([50], 0.7, 2, 'float32', 42)],
    [
      'multinomial',
      () =>
        st.multinomial(
          st.tensor([
            [0, 1, 2],
            [2, 1, 0],
          ]),
          25,
          42,
        ),
    ],
    ['multinomial of 1-D probabilities', () => st.multinomial(st.tensor([0.1, 0.6, 0, 0.3]), 40, 7, true)],
    ['randomStandardNormal', () => st.randomStandardNormal([50], 'float32', 42)],
  ];
  for (const [name, draw] of draws) {
    const backends = available;
    it(`${name} (${backends.join(', ')})`, async () => {
      const results: number[][] = [];
      for (const b of backends) results.push(await withBackendAsync(b, async () => Array.from(await draw().data())));
      for (const [i, r] of results.entries()) assert.deepEqual(r, results[0], backends[i]);
      assert.deepEqual(values(draw()), results[0]);
    });
  }
  it('without a seed, the global stream moves on and st.setSeed replays it', () => {
    st.setSeed(5);
    const a = values(st.randomGamma([20], 3)),
      b = values(st.randomGamma([20], 3));
    assert.notDeepEqual(a, b);
    st.setSeed(5);
    assert.deepEqual(values(st.randomGamma([20], 3)), a);
  });
});

describe('distributions', () => {
  it('randomUniformInt covers [minval, maxval) evenly', () => {
    const v = values(st.randomUniformInt([20000], -3, 4, 1));
    assert.equal(Math.min(...v), -3);
    assert.equal(Math.max(...v), 3);
    assertMean(v, 0, 4, 'uniform int');
    assert.equal(st.randomUniformInt([2], 0, 1).dtype, 'int32');
  });

  for (const [alpha, beta] of [
    [0.4, 1],
    [1, 0.5],
    [3.5, 2],
  ]) {
    it(`randomGamma alpha ${alpha}, beta ${beta}: mean alpha/beta, variance alpha/beta^2`, () => {
      const v = values(st.randomGamma([40000], alpha, beta, 'float32', 7));
      assert.ok(v.every((x) => x > 0));
      assertMean(v, alpha / beta, alpha / beta ** 2, 'gamma');
      const variance = varianceOf(v),
        expected = alpha / beta ** 2;
      // The variance of a sample variance of gamma draws is (mu4 - sigma^4) / n, mu4 = 3 sigma^4 (1 + 2/alpha).
      const bound = 5 * Math.sqrt(((3 * (1 + 2 / alpha) - 1) * expected ** 2) / v.length);
      assert.ok(Math.abs(variance - expected) < bound, `gamma variance ${variance}, expected ${expected} ± ${bound}`);
    });
  }

  it('multinomial draws classes in proportion to softmax(logits), or to given probabilities', () => {
    const logits = st.tensor([Math.log(1), Math.log(3), Math.log(6)]);
    const v = values(st.multinomial(logits, 30000, 3));
    for (const [k, p] of [
      [0, 0.1],
      [1, 0.3],
      [2, 0.6],
    ]) {
      const freq = v.map((c) => +(c === k));
      assertMean(freq, p, p * (1 - p), `class ${k}`);
    }
    const w = values(st.multinomial(st.tensor([[0, 0.25, 0.75]]), 20000, 4, true));
    assert.ok(!w.includes(0), 'a class of probability 0 is never drawn');
    assertMean(
      w.map((c) => +(c === 2)),
      0.75,
      0.75 * 0.25,
      'normalized',
    );
    assert.deepEqual(
      [
        ...st.multinomial(
          st.tensor([
            [0, 1],
            [1, 0],
            [0, 0],
          ]),
          5,
        ).shape,
      ],
      [3, 5],
    );
  });

  it('dropout keeps the mean, shares draws along noiseShape and passes gradients where it keeps', () => {
    const x = st.variable(st.ones([200, 50]));
    const y = st.dropout(x, 0.3, undefined, 9);
    const v = values(y);
    assert.ok(v.every((e) => e === 0 || Math.abs(e - 1 / 0.7) < 1e-6));
    assertMean(v, 1, 0.3 / 0.7, 'dropout');
    y.sum().backward();
    assert.deepEqual(values(x.grad!), v);
    const rows = values(st.dropout(st.ones([4, 6]), 0.5, [4, 1], 2));
    for (let r = 0; r < 4; r++) assert.equal(new Set(rows.slice(r * 6, r * 6 + 6)).size, 1);
    assert.equal(st.dropout(x, 0), x);
    throwsWith(() => st.dropout(x, 1), st.ValueError, /rate/);
  });

  it('rand calls its function per element', () => {
    let i = 0;
    assert.deepEqual(values(st.rand([2, 2], () => i++, 'int32')), [0, 1, 2, 3]);
  });
});

describe('errors', () => {
  it('refuse bad parameters', () => {
    throwsWith(() => st.randomUniformInt([2], 3, 3), st.ValueError, /minval < maxval/);
    throwsWith(() => st.randomGamma([2], 0), st.ValueError, /alpha and beta must be positive/);
    throwsWith(() => st.randomGamma([2], 1, 1, 'int32'), st.ValueError, /floating/);
    throwsWith(() => st.multinomial(st.tensor([[0, 0]]), 3, 1, true), st.ValueError, /no probability mass/);
    throwsWith(() => st.multinomial(st.ones([2, 2, 2]), 3), st.ShapeError, /1-D or 2-D/);
  });
});
