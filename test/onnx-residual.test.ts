// A residual Add folds into the Conv before it (Note [A Conv and its residual Add as one kernel] in
// src/interop/onnx/fold-residual.ts), with the Relu after it; on native the sum is a post-op of
// the convolution (Note [A residual add inside the convolution] in native/src/conv.cc), with the
// values of the separate ops bit for bit.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fusedConv2dAddComposite, fusedConv2dAddPlanned } from '../src/ops/conv-residual.js';
import { planConv2d } from '../src/ops/conv.js';
import { encode, floatTensor, ints, node, valueInfo, values } from './onnx-helpers.js';
import { assertClose, randomTensor, withBackendAsync } from './helpers.js';

const pad1 = [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])];
const weights: Record<string, readonly number[]> = {
  w1: [8, 4, 3, 3],
  w2: [8, 8, 3, 3],
  wd: [8, 4, 1, 1],
  w3: [8, 8, 1, 1],
};
const biasSeeds = { b1: 11, b2: 13, bd: 17, b3: 19 } as const;

/**
 * A ResNet block with a downsample branch listed after the block's last Conv (so that Conv is
 * built at its Add's place), Add then Relu; then a MobileNetV2-style Add(y1, Conv(y1)) with no
 * activation after it.
 */
function block(extra: { readTwice?: boolean } = {}): Uint8Array {
  return encode({
    name: 'residual',
    node: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], pad1),
      node('Relu', ['c1'], ['r1']),
      node('Conv', ['r1', 'w2', 'b2'], ['c2'], pad1),
      node('Conv', ['x', 'wd', 'bd'], ['d'], [ints('kernel_shape', [1, 1])]),
      node('Add', ['c2', 'd'], ['s']),
      node('Relu', ['s'], ['y1']),
      node('Conv', ['y1', 'w3', 'b3'], ['c3'], [ints('kernel_shape', [1, 1])]),
      node('Add', ['y1', 'c3'], ['y']),
      ...(extra.readTwice ? [node('Mul', ['c3', 'c3'], ['sq'])] : []),
    ],
    initializer: [
      ...Object.entries(weights).map(([k, shape], i) =>
        floatTensor(
          k,
          [...shape],
          values(
            shape.reduce((a, b) => a * b, 1),
            3 + 2 * i,
          ),
        ),
      ),
      ...Object.entries(biasSeeds).map(([k, seed]) => floatTensor(k, [8], values(8, seed))),
    ],
    input: [valueInfo('x', ['N', 4, 6, 6])],
    output: [valueInfo('y', ['N', 8, 6, 6]), ...(extra.readTwice ? [valueInfo('sq', ['N', 8, 6, 6])] : [])],
  });
}

/** The same graph with Strata's ops in NHWC, each Add and Relu written out: the oracle. */
function expected(x: st.Tensor): st.Tensor {
  const filter = (k: string, seed: number) =>
    st
      .tensor(
        values(
          weights[k].reduce((a, b) => a * b, 1),
          seed,
        ),
        [...weights[k]],
      )
      .transpose([2, 3, 1, 0]);
  const bias = (k: keyof typeof biasSeeds) => st.tensor(values(8, biasSeeds[k]));
  const xh = x.transpose([0, 2, 3, 1]);
  const r1 = st.relu(st.conv2d(xh, filter('w1', 3), { padding: 'same' }).add(bias('b1')));
  const c2 = st.conv2d(r1, filter('w2', 5), { padding: 'same' }).add(bias('b2'));
  const d = st.conv2d(xh, filter('wd', 7)).add(bias('bd'));
  const y1 = st.relu(c2.add(d));
  const c3 = st.conv2d(y1, filter('w3', 9)).add(bias('b3'));
  return y1.add(c3).transpose([0, 3, 1, 2]);
}

const opTypes = (m: st.Model) => m.layers.map((l) => l.getConfig().opType).filter(Boolean);

describe('st.onnx.load: residual Adds folded into convolutions', () => {
  for (const backend of st.backends().filter((b) => b.available && b.name !== 'webgpu')) {
    it(`the Add and the Relu after it run with the Conv on ${backend.name}, with the unfused values`, async () => {
      await withBackendAsync(backend.name, async () => {
        const model = await st.onnx.load(block());
        assert.deepEqual(opTypes(model), ['Transpose', 'Conv', 'Conv', 'Conv', 'Conv', 'Transpose']);
        const withAddend = model.layers.filter((l) => (l.getConfig().inputs as unknown[] | undefined)?.length === 4);
        assert.equal(withAddend.length, 2);
        st.setSeed(5);
        const x = st.randomUniform([2, 4, 6, 6], { min: -3, max: 3 });
        const { result, kernels } = await st.profile(() => model.predict(x) as st.Tensor);
        assertClose(result, expected(x), 1e-5, 1e-5);
        assert.ok(
          Array.from(result.dataSync()).some((v) => v < 0),
          'the last Add has no Relu after it',
        );
        if (backend.name === 'native') {
          assert.equal(kernels.fusedConv2dAdd, 2);
          assert.equal(kernels.add ?? 0, 0);
          assert.equal(kernels.relu ?? 0, 0);
        }
      });
    });
  }

  it('a Conv read by more than its Add, or an Add of a constant, stays apart', async () => {
    const twice = await st.onnx.load(block({ readTwice: true }));
    // The first Add still folds; the second's Conv is also read by the Mul.
    assert.deepEqual(
      opTypes(twice).filter((t) => t === 'Add' || t === 'Mul'),
      ['Add', 'Mul'],
    );
    const graph = encode({
      node: [node('Conv', ['x', 'w'], ['c'], [ints('kernel_shape', [1, 1])]), node('Add', ['c', 'k'], ['y'])],
      initializer: [floatTensor('w', [2, 2, 1, 1], [1, 2, -3, 4]), floatTensor('k', [1, 2, 1, 1], [10, 20])],
      input: [valueInfo('x', [1, 2, 2, 2])],
      output: [valueInfo('y', [1, 2, 2, 2])],
    });
    const constant = await st.onnx.load(graph);
    assert.ok(opTypes(constant).includes('Add'));
    const x = st.tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    // y[c] = sum_k w[c, k] x[k] + k[c].
    assert.deepEqual(Array.from((constant.predict(x) as st.Tensor).dataSync()), [21, 24, 27, 30, 37, 38, 39, 40]);
  });

  it('a folded model saves and loads', async () => {
    const model = await st.onnx.load(block());
    const dir = mkdtempSync(join(tmpdir(), 'strata-residual-'));
    try {
      await model.save(join(dir, 'm'));
      const loaded = await st.loadModel(join(dir, 'm'));
      const x = st.randomUniform([1, 4, 6, 6], { min: -3, max: 3 });
      assert.deepEqual(Array.from((loaded.predict(x) as st.Tensor).dataSync()), Array.from((model.predict(x) as st.Tensor).dataSync()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fusedConv2dAdd', () => {
  const nativeUp = st.backends().find((b) => b.name === 'native')?.available === true;
  const operands = (seed: number, activation: 'linear' | 'relu' | 'relu6', padding: 'same' | 'valid', strides = 1) => {
    const x = randomTensor([2, 7, 7, 5], seed, 'float32', -2, 2);
    const f = randomTensor([3, 3, 5, 6], seed + 1, 'float32', -1, 1);
    const b = randomTensor([6], seed + 2, 'float32', -1, 1);
    const plan = planConv2d('test', x.shape, f.shape, { padding, strides });
    const addend = randomTensor(plan.outShape, seed + 3, 'float32', -4, 4);
    return { x, f, b, addend, activation, plan };
  };

  for (const backend of st.backends().filter((b) => b.available && b.name !== 'webgpu')) {
    it(`equals the separate ops bit for bit on ${backend.name}, with every activation`, async () => {
      await withBackendAsync(backend.name, async () => {
        for (const [i, activation] of (['linear', 'relu', 'relu6'] as const).entries()) {
          for (const [padding, strides] of [
            ['same', 1],
            ['valid', 2],
          ] as const) {
            const o = operands(10 * i + strides, activation, padding, strides);
            const { result, kernels } = await st.profile(() => fusedConv2dAddPlanned(o.x, o.f, o.b, o.addend, activation, o.plan));
            if (backend.name === 'native') assert.equal(kernels.fusedConv2dAdd, 1);
            const want = fusedConv2dAddComposite(o.x, o.f, o.b, o.addend, activation, o.plan);
            assert.deepEqual(Array.from(result.dataSync()), Array.from(want.dataSync()), `${activation} ${padding}`);
          }
        }
      });
    });
  }

  it('keeps NaN and infinity through the activation as the separate ops do (native)', {
    skip: !nativeUp && 'native backend unavailable',
  }, async () => {
    await withBackendAsync('native', () => {
      for (const activation of ['relu', 'relu6'] as const) {
        const o = operands(40, activation, 'same');
        const a = Array.from(o.addend.dataSync());
        a[3] = Number.NaN;
        a[10] = Number.NEGATIVE_INFINITY;
        a[11] = Number.POSITIVE_INFINITY;
        a[20] = 3e38;
        const addend = st.tensor(a, o.addend.shape);
        const got = Array.from(fusedConv2dAddPlanned(o.x, o.f, o.b, addend, activation, o.plan).dataSync());
        const want = Array.from(fusedConv2dAddComposite(o.x, o.f, o.b, addend, activation, o.plan).dataSync());
        assert.ok(Number.isNaN(got[3]), `${activation}: NaN kept`);
        assert.deepEqual(got, want);
      }
    });
  });

  it('its gradients are those of the separate ops', async () => {
    for (const activation of ['linear', 'relu'] as const) {
      const o = operands(50, activation, 'same');
      const weightsOut = randomTensor(o.plan.outShape, 60, 'float32');
      const loss = (fn: typeof fusedConv2dAddPlanned) => (x: st.Tensor, f: st.Tensor, b: st.Tensor, addend: st.Tensor) =>
        st.sum(st.mul(fn(x, f, b, addend, activation, o.plan), weightsOut));
      const got = st.valueAndGrad(loss(fusedConv2dAddPlanned))(o.x, o.f, o.b, o.addend).grads;
      const want = st.valueAndGrad(loss(fusedConv2dAddComposite))(o.x, o.f, o.b, o.addend).grads;
      got.forEach((g, i) => assertClose(g, want[i], 1e-5, 1e-5));
    }
  });
});
