// An imported Conv takes on the Relu or Clip(0, 6) that is its only reader (Note [A Conv and its
// Relu as one kernel] in src/interop/onnx/build.ts): MobileNet's blocks run as fused dense and
// depthwise convolutions with relu6, with the same values as the unfused graph.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { type Json, encode, floatTensor, ints, node, valueInfo, values } from './onnx-helpers.js';
import { assertClose, withBackend } from './helpers.js';

const scalar = (name: string, v: number): Json => floatTensor(name, [], [v]);
const constant = (output: string, v: number): Json => node('Constant', [], [output], [{ name: 'value', type: 4, t: scalar('', v) }]);

/**
 * A MobileNetV2 block in NCHW: a 3x3 Conv and Clip(0, 6), a depthwise 3x3 Conv and Clip(0, 6)
 * (bounds from Constant nodes, as PyTorch exports them), a 1x1 Conv, the residual Add; then a
 * Conv whose Clip has other bounds (0, 4), which must stay a Clip.
 */
function block(): Uint8Array {
  return encode({
    name: 'mobile',
    node: [
      constant('lo', 0),
      constant('hi', 6),
      node('Conv', ['x', 'w1', 'b1'], ['c1'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]),
      node('Clip', ['c1', 'lo', 'hi'], ['r1']),
      node('Conv', ['r1', 'w2', 'b2'], ['c2'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), { name: 'group', type: 2, i: 8 }]),
      node('Clip', ['c2', 'lo', 'hi'], ['r2']),
      node('Conv', ['r2', 'w3', 'b3'], ['c3'], [ints('kernel_shape', [1, 1])]),
      node('Add', ['c3', 'x'], ['s']),
      node('Conv', ['s', 'w4', 'b4'], ['c4'], [ints('kernel_shape', [1, 1])]),
      node('Clip', ['c4', 'lo', 'four'], ['y']),
    ],
    initializer: [
      floatTensor('w1', [8, 4, 3, 3], values(288, 3)),
      floatTensor('b1', [8], values(8, 11)),
      floatTensor('w2', [8, 1, 3, 3], values(72, 5)),
      floatTensor('b2', [8], values(8, 13)),
      floatTensor('w3', [4, 8, 1, 1], values(32, 7)),
      floatTensor('b3', [4], values(4, 17)),
      floatTensor('w4', [4, 4, 1, 1], values(16, 19)),
      floatTensor('b4', [4], values(4, 23)),
      scalar('four', 4),
    ],
    input: [valueInfo('x', ['N', 4, 6, 6])],
    output: [valueInfo('y', ['N', 4, 6, 6])],
  });
}

/** The same block with Strata's ops in NHWC, every clip written out: the oracle. */
function expected(x: st.Tensor): st.Tensor {
  const filter = (v: number[], shape: number[]) => st.tensor(v, shape).transpose([2, 3, 1, 0]);
  const clip = (t: st.Tensor, hi: number) => st.minimum(st.maximum(t, 0), hi);
  const xh = x.transpose([0, 2, 3, 1]);
  const r1 = clip(st.conv2d(xh, filter(values(288, 3), [8, 4, 3, 3]), { padding: 'same' }).add(st.tensor(values(8, 11))), 6);
  const dw = st.tensor(values(72, 5), [8, 1, 3, 3]).transpose([2, 3, 0, 1]); // [3, 3, 8, 1]
  const r2 = clip(st.depthwiseConv2d(r1, dw, { padding: 'same' }).add(st.tensor(values(8, 13))), 6);
  const s = st
    .conv2d(r2, filter(values(32, 7), [4, 8, 1, 1]))
    .add(st.tensor(values(4, 17)))
    .add(xh);
  return clip(st.conv2d(s, filter(values(16, 19), [4, 4, 1, 1])).add(st.tensor(values(4, 23))), 4).transpose([0, 3, 1, 2]);
}

describe('st.onnx.load: activations folded into convolutions', () => {
  for (const backend of st.backends().filter((b) => b.available && b.name !== 'webgpu')) {
    it(`Clip(0, 6) after a dense or depthwise Conv runs inside it on ${backend.name}, with the unfused values`, async () => {
      await withBackend(backend.name, async () => {
        const model = await st.onnx.load(block());
        // The two Clips to [0, 6] are gone from the graph; the one to [0, 4] stays.
        const clips = model.layers.filter((l) => l.getConfig().opType === 'Clip');
        assert.equal(clips.length, 1);
        const folded = model.layers.map((l) => (l.getConfig().attributes as Record<string, unknown> | undefined)?.strata_activation).filter(Boolean);
        assert.deepEqual(folded, ['relu6', 'relu6']);
        // Inputs up to +-10, so that both bounds of every clip are reached.
        st.setSeed(3);
        const x = st.randomUniform([2, 4, 6, 6], { min: -10, max: 10 });
        const { result, kernels } = await st.profile(() => model.predict(x) as st.Tensor);
        assertClose(result, expected(x), 1e-5, 1e-5);
        const y = Array.from(result.dataSync());
        assert.ok(y.some((v) => v === 4) && y.some((v) => v === 0), 'the last clip reached both bounds');
        if (backend.name === 'native') {
          // The 1x1 Conv takes the residual Add too (test/onnx-residual.test.ts).
          assert.equal(kernels.fusedConv2d, 2);
          assert.equal(kernels.fusedConv2dAdd, 1);
          assert.equal(kernels.fusedDepthwiseConv2d, 1);
          // Only the unfolded Clip's bounds remain as elementwise passes.
          assert.equal(kernels.minimum ?? 0, 1);
        }
      });
    });
  }

  it('a Clip with bounds as opset-6 attributes folds too; one whose bounds the graph computes does not', async () => {
    const graph = (clip: Json, extra: Json[] = []): Json => ({
      node: [...extra, node('Conv', ['x', 'w'], ['c'], [ints('kernel_shape', [1, 1])]), clip],
      initializer: [floatTensor('w', [2, 2, 1, 1], [1, 2, -3, 4])],
      input: [valueInfo('x', [1, 2, 2, 2])],
      output: [valueInfo('y', [1, 2, 2, 2])],
    });
    const foldedIn = async (bytes: Uint8Array) =>
      (await st.onnx.load(bytes)).layers
        .map((l) => (l.getConfig().attributes as Record<string, unknown> | undefined)?.strata_activation)
        .filter(Boolean);
    const attrs = [
      { name: 'min', type: 1, f: 0 },
      { name: 'max', type: 1, f: 6 },
    ];
    assert.deepEqual(await foldedIn(encode(graph(node('Clip', ['c'], ['y'], attrs)), 6)), ['relu6']);
    // Clip(0) with no upper bound is a Relu.
    assert.deepEqual(await foldedIn(encode(graph(node('Clip', ['c', 'lo'], ['y']), [constant('lo', 0)]))), ['relu']);
    // A bound computed by the graph (here from the input) is not a constant: no fold.
    const computed = graph(node('Clip', ['c', 'lo', 'hi'], ['y']), [
      constant('lo', 0),
      node('ReduceMax', ['x'], ['hi'], [{ name: 'keepdims', type: 2, i: 0 }]),
    ]);
    assert.deepEqual(await foldedIn(encode(computed)), []);
  });
});
