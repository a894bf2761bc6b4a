// The fused recurrent cells (lstmCell, gruCell and their gradient primitives; Note [Fused
// recurrent cells] in src/ops/recurrent-cells.ts) against three oracles: the composite of core
// ops each falls back to (values and gradients, on every backend), the formulas computed here in
// float64, and central finite differences in float64 on the reference backend (first and second
// derivatives, the latter through the VJP rules of lstmCellGrad and gruCellGrad). Two backends
// are derived from the reference one: 'cells-composite' has none of the cell kernels and
// 'cells-forward-only' lacks the gradient kernels, so the gradient formulas written as ops run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import type { OptionalPrimitive } from '../src/backend/primitives.js';
import { gruCell, gruCellComposite, lstmCell, lstmCellComposite } from '../src/ops/recurrent-cells.js';
import { tapePrimitives, withoutKernels } from './grad-check.js';
import { assertClose, checkGradient, randomValues, withBackend, withBackendAsync } from './helpers.js';

const CELL_KERNELS: readonly OptionalPrimitive[] = ['lstmCell', 'lstmCellGrad', 'gruCell', 'gruCellGrad'];
st.registerBackend('cells-composite', () => withoutKernels('cells-composite', CELL_KERNELS), -1);
st.registerBackend('cells-forward-only', () => withoutKernels('cells-forward-only', ['lstmCellGrad', 'gruCellGrad']), -1);

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first; the
// per-backend checks read with `await t.data()`, which every backend has.
await st.ready();
const available = st
  .backends()
  .filter((b) => b.available && !b.name.startsWith('cells-'))
  .map((b) => b.name);
const BACKENDS = [...available, 'cells-forward-only', 'cells-composite'];
/** Backends whose lstmCell and gruCell run the composite: webgpu has no cell kernels. */
const WITHOUT_CELL_KERNELS = new Set(['cells-composite', 'webgpu']);

type Cell = 'lstm' | 'gru';
/** Plain values with a shape, so each backend makes its own tensors. */
interface Input {
  shape: number[];
  values: number[];
}
const input = (shape: number[], seed: number, lo = -2, hi = 2): Input => ({ shape, values: randomValues(shape[0] * shape[1], seed, lo, hi) });

/** A cell's inputs for batch b and u units: LSTM z [b, 4u], cPrev [b, u]; GRU xz, hz [b, 3u], hPrev [b, u]. */
function cellInputs(cell: Cell, b: number, u: number, seed: number, scale = 2): Input[] {
  return cell === 'lstm'
    ? [input([b, 4 * u], seed, -scale, scale), input([b, u], seed + 1)]
    : [input([b, 3 * u], seed, -scale, scale), input([b, 3 * u], seed + 1, -scale, scale), input([b, u], seed + 2)];
}

/** The cell as an op: the public one (kernel or fallback) or the composite oracle; outputs as a list. */
function apply(cell: Cell, composite: boolean, xs: st.Tensor[]): st.Tensor[] {
  if (cell === 'lstm') return composite ? lstmCellComposite(xs[0], xs[1]) : lstmCell(xs[0], xs[1]);
  return [composite ? gruCellComposite(xs[0], xs[1], xs[2]) : gruCell(xs[0], xs[1], xs[2])];
}

interface Run {
  outputs: number[][];
  grads: number[][];
  primitives: Set<string>;
}

/** Values, and gradients of Σ_k sum(out_k · w_k) with fixed weights, on one backend. */
function run(backend: string, dtype: st.DType, cell: Cell, composite: boolean, inputs: Input[]): Promise<Run> {
  return withBackendAsync(backend, async () => {
    const xs = inputs.map((i) => st.variable(st.tensor(i.values, i.shape, dtype)));
    const outs = apply(cell, composite, xs);
    const ws = outs.map((o, k) => st.tensor(randomValues(o.size, 500 + k, 0.5, 1.5), o.shape, dtype));
    const loss = (...ts: st.Tensor[]) =>
      apply(cell, composite, ts)
        .map((o, k) => st.sum(st.mul(o, ws[k])))
        .reduce((a, b) => st.add(a, b));
    const { grads } = st.valueAndGrad(loss)(...xs);
    const primitives = new Set<string>();
    outs.forEach((o) => tapePrimitives(o).forEach((p) => primitives.add(p)));
    const read = (ts: st.Tensor[]) => Promise.all(ts.map(async (t) => Array.from(await t.data())));
    return { outputs: await read(outs), grads: await read(grads), primitives };
  });
}

// ---- the formulas in float64, independently of any backend
const sig = (x: number) => 1 / (1 + Math.exp(-x));
function lstmByHand([z, c]: Input[]): number[][] {
  const [b, u] = c.shape,
    h: number[] = [],
    cs: number[] = [];
  for (let r = 0; r < b; r++) {
    for (let j = 0; j < u; j++) {
      const at = (k: number) => z.values[r * 4 * u + k * u + j];
      const cNew = sig(at(1)) * c.values[r * u + j] + sig(at(0)) * Math.tanh(at(2));
      cs.push(cNew);
      h.push(sig(at(3)) * Math.tanh(cNew));
    }
  }
  return [h, cs];
}
function gruByHand([xz, hz, hp]: Input[]): number[][] {
  const [b, u] = hp.shape,
    h: number[] = [];
  for (let r = 0; r < b; r++) {
    for (let j = 0; j < u; j++) {
      const x = (k: number) => xz.values[r * 3 * u + k * u + j],
        hh = (k: number) => hz.values[r * 3 * u + k * u + j];
      const z = sig(x(0) + hh(0)),
        rr = sig(x(1) + hh(1)),
        n = Math.tanh(x(2) + rr * hh(2));
      h.push(z * hp.values[r * u + j] + (1 - z) * n);
    }
  }
  return [h];
}

const KERNEL: Record<Cell, string> = { lstm: 'lstmCell', gru: 'gruCell' };
const SIZES: [number, number][] = [
  [3, 5],
  [4, 37],
  [70, 300],
]; // the last is large enough for native threads

for (const cell of ['lstm', 'gru'] as const) {
  describe(`${cell}Cell: kernel against the composite`, () => {
    for (const backend of BACKENDS) {
      for (const [b, u] of SIZES) {
        it(`${backend} float32, batch ${b}, ${u} units`, async () => {
          const inputs = cellInputs(cell, b, u, 10 * b + u);
          const fused = await run(backend, 'float32', cell, false, inputs),
            oracle = await run(backend, 'float32', cell, true, inputs);
          assert.equal(fused.primitives.has(KERNEL[cell]), !WITHOUT_CELL_KERNELS.has(backend), 'which path ran');
          const byHand = cell === 'lstm' ? lstmByHand(inputs) : gruByHand(inputs);
          fused.outputs.forEach((o, k) => {
            assertClose(o, oracle.outputs[k], 1e-5, 1e-6, `output ${k} vs composite`);
            assertClose(o, byHand[k], 1e-5, 1e-6, `output ${k} vs float64 formula`);
          });
          fused.grads.forEach((g, k) => assertClose(g, oracle.grads[k], 1e-4, 1e-5, `gradient of input ${k}`));
        });
      }
    }
    it('reference float64: kernel, gradient formulas as ops and composite agree to rounding', async () => {
      const inputs = cellInputs(cell, 5, 7, 77);
      const oracle = await run('reference', 'float64', cell, true, inputs);
      const byHand = cell === 'lstm' ? lstmByHand(inputs) : gruByHand(inputs);
      for (const backend of ['reference', 'cells-forward-only']) {
        const fused = await run(backend, 'float64', cell, false, inputs);
        fused.outputs.forEach((o, k) => assertClose(o, byHand[k], 1e-12, 1e-14, `${backend} output ${k}`));
        fused.grads.forEach((g, k) => assertClose(g, oracle.grads[k], 1e-12, 1e-14, `${backend} gradient of input ${k}`));
      }
    });
  });

  describe(`${cell}Cell: saturation and NaN`, () => {
    for (const backend of BACKENDS) {
      it(`${backend}: large inputs saturate like the composite (finite values and gradients)`, async () => {
        const inputs = cellInputs(cell, 6, 9, 300, 100);
        const fused = await run(backend, 'float32', cell, false, inputs),
          oracle = await run(backend, 'float32', cell, true, inputs);
        for (const xs of [...fused.outputs, ...fused.grads]) assert.ok(xs.every(Number.isFinite), 'all finite');
        fused.outputs.forEach((o, k) => assertClose(o, oracle.outputs[k], 1e-5, 1e-6, `output ${k}`));
        fused.grads.forEach((g, k) => assertClose(g, oracle.grads[k], 1e-4, 1e-5, `gradient of input ${k}`));
      });
      // On webgpu this found tanh(NaN) = -1 and exp(NaN) = +Infinity (SwiftShader), fixed in fusion.ts.
      it(`${backend}: NaN reaches exactly the units the composite gives NaN`, async () => {
        const inputs = cellInputs(cell, 3, 6, 400);
        inputs[0].values[2] = NaN; // a gate of unit 2, row 0
        inputs[0].values[inputs[0].shape[1] + 7] = NaN; // another gate, another unit, row 1
        inputs[inputs.length - 1].values[2 * 6 + 4] = NaN; // the state, row 2, unit 4
        const fused = await run(backend, 'float32', cell, false, inputs),
          oracle = await run(backend, 'float32', cell, true, inputs);
        fused.outputs.forEach((o, k) => {
          assert.deepEqual(o.map(Number.isNaN), oracle.outputs[k].map(Number.isNaN), `NaN positions of output ${k}`);
          assertClose(o, oracle.outputs[k], 1e-5, 1e-6, `output ${k}`);
        });
        assert.ok(fused.outputs[0].some(Number.isNaN) && !fused.outputs[0].every(Number.isNaN), 'some, not all, NaN');
        fused.grads.forEach((g, k) => assertClose(g, oracle.grads[k], 1e-4, 1e-5, `gradient of input ${k}`));
      });
    }
  });

  describe(`${cell}Cell: finite differences in float64 (reference)`, () => {
    const f64 = (i: Input) => st.tensor(i.values, i.shape, 'float64');
    const joined = (xs: st.Tensor[]) => st.concat(apply(cell, false, xs), 1);
    for (const backend of ['reference', 'cells-forward-only']) {
      it(`${backend}: first derivatives`, () =>
        withBackend(backend, () => {
          checkGradient((...xs) => joined(xs), cellInputs(cell, 2, 3, 600).map(f64), { what: `${cell}Cell` });
        }));
      it(`${backend}: second derivatives, through the gradient primitive's rule`, () =>
        withBackend(backend, () => {
          // The gradient of sum(cell(xs) · w) with respect to the inputs is linear in w, so making w
          // an input too checks the rule's gradient with respect to the upstream gradient as well.
          const gradOf = (...ts: st.Tensor[]): st.Tensor => {
            const xs = ts.slice(0, -1),
              w = ts[ts.length - 1];
            const { grads } = st.valueAndGrad((...ys: st.Tensor[]) => st.sum(st.mul(joined(ys), w)))(...xs);
            return st.concat(
              grads.map((g) => st.reshape(g, [-1])),
              0,
            );
          };
          const xs = cellInputs(cell, 2, 3, 700).map(f64);
          const w = st.tensor(randomValues(2 * (cell === 'lstm' ? 6 : 3), 701, 0.5, 1.5), [2, cell === 'lstm' ? 6 : 3], 'float64');
          const vars = [...xs, w].map((x) => st.variable(x));
          const used = tapePrimitives(gradOf(...vars));
          assert.equal(used.has(`${cell}CellGrad` as never), backend === 'reference', 'which gradient path ran');
          checkGradient(gradOf, [...xs, w], { what: `d² ${cell}Cell`, rtol: 1e-5, atol: 1e-6 });
        }));
    }
  });
}

describe('cells: validation', () => {
  it('rejects mismatched shapes and non-float inputs', () =>
    withBackend('reference', () => {
      const z = st.zeros([2, 8]),
        c = st.zeros([2, 2]);
      assert.throws(() => lstmCell(z, st.zeros([2, 3])), st.ShapeError);
      assert.throws(() => lstmCell(st.zeros([3, 8]), c), /z must have shape \[3, 8\]|z must have shape/);
      assert.throws(() => lstmCell(z, st.zeros([2, 2], 'int32')), st.DtypeError);
      assert.throws(() => gruCell(st.zeros([2, 6]), st.zeros([2, 5]), c), /hz must have shape \[2, 6\]/);
      assert.throws(() => gruCell(st.zeros([2, 6]), st.zeros([2, 6]), st.zeros([2])), st.ShapeError);
    }));
});

describe('layers use the fused cells only with the default activations', () => {
  const primitivesOf = (layer: st.Layer, x: st.Tensor) => tapePrimitives(layer.apply(st.variable(x)) as st.Tensor);
  for (const backend of available) {
    // webgpu has no lstmCell, gruCell or rnnSequence kernel: its layers always run the composite.
    const skip = backend === 'webgpu' && 'webgpu has no fused recurrent kernels (lstmCell, gruCell, rnnSequence) for the layers to choose';
    it(`${backend}: LSTM and GRU (resetAfter) by default; not with other activations or resetAfter false`, { skip }, () =>
      withBackend(backend, () => {
        const x = st.tensor(randomValues(2 * 3 * 4, 800), [2, 3, 4]);
        // Where the backend runs whole layers in one kernel (Note [Whole-sequence recurrent kernels]),
        // the defaults use it and unroll: true steps through time with the cells.
        const whole = backend === 'native';
        for (const kind of ['lstm', 'gru'] as const) {
          const byDefault = primitivesOf(st.layers[kind]({ units: 3 }), x);
          const cell = `${kind}Cell` as const;
          assert.ok(byDefault.has(whole ? 'rnnSequence' : cell) && !byDefault.has(whole ? cell : 'rnnSequence'), `${kind} default`);
          const unrolled = primitivesOf(st.layers[kind]({ units: 3, unroll: true }), x);
          assert.ok(unrolled.has(cell) && !unrolled.has('rnnSequence'), `${kind} unrolled`);
        }
        assert.ok(
          primitivesOf(st.layers.lstm({ units: 3, unroll: true, activation: st.activations.tanh, recurrentActivation: 'sigmoid' }), x).has(
            'lstmCell',
          ),
          'lstm, the defaults given',
        );
        assert.ok(!primitivesOf(st.layers.lstm({ units: 3, activation: 'relu' }), x).has('lstmCell'), 'lstm relu');
        assert.ok(!primitivesOf(st.layers.lstm({ units: 3, activation: 'relu' }), x).has('rnnSequence'), 'lstm relu');
        assert.ok(!primitivesOf(st.layers.lstm({ units: 3, recurrentActivation: 'hardSigmoid' }), x).has('lstmCell'), 'lstm hardSigmoid');
        assert.ok(!primitivesOf(st.layers.lstm({ units: 3, activation: (t: st.Tensor) => st.tanh(t) }), x).has('lstmCell'), 'lstm custom function');
        assert.ok(primitivesOf(st.layers.gru({ units: 3, unroll: true }), x).has('gruCell'), 'gru default, unrolled');
        assert.ok(!primitivesOf(st.layers.gru({ units: 3, resetAfter: false }), x).has('gruCell'), 'gru resetAfter false');
        assert.ok(!primitivesOf(st.layers.gru({ units: 3, resetAfter: false }), x).has('rnnSequence'), 'gru resetAfter false');
        assert.ok(!primitivesOf(st.layers.gru({ units: 3, activation: 'softsign' }), x).has('gruCell'), 'gru softsign');
      }),
    );
  }

  for (const kind of ['lstm', 'gru'] as const) {
    it(`${kind} layer with a mask, recurrent dropout and returned states: same values and gradients as without the kernels`, () => {
      const build = (backend: string) =>
        withBackend(backend, () => {
          st.setSeed(5);
          const layer = st.layers[kind]({ units: 4, returnSequences: true, returnState: true, recurrentDropout: 0.3, seed: 9, dtype: 'float64' });
          const x = st.variable(st.tensor(randomValues(3 * 5 * 2, 900), [3, 5, 2], 'float64'));
          const mask = st.tensor([1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0], [3, 5]).cast('bool');
          const ys = layer.apply(x, { mask, training: true }) as unknown as st.Tensor[];
          ys.map((y, i) => st.sum(st.mul(y, i + 1)))
            .reduce((a, b) => st.add(a, b))
            .backward();
          return [...ys, x.grad!, ...layer.weights.map((w) => w.value.grad!)].map((t) => Array.from(t.dataSync()));
        });
      const fused = build('reference'),
        composite = build('cells-composite');
      fused.forEach((v, i) => assertClose(v, composite[i], 1e-12, 1e-14, `result ${i}`));
    });
  }
});
