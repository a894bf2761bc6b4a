// Resize's opset-18 options beyond ONNX's test data of this opset range: axes and
// keep_aspect_ratio_policy (expected values worked out by hand from the specification).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { messages } from '../src/interop/onnx/schema.js';

type Json = Record<string, unknown>;
const valueInfo = (name: string, dims: number[]): Json => ({
  name,
  type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

/** A Resize (nearest, half_pixel) of a [1, 1, 2, 4] input with the given scales or sizes over `axes`. */
function resizeModel(axes: number[], input: { scales?: number[]; sizes?: number[] }, policy?: string): Uint8Array {
  const attribute: Json[] = [{ name: 'axes', type: 7, ints: axes }];
  if (policy) attribute.push({ name: 'keep_aspect_ratio_policy', type: 3, s: new TextEncoder().encode(policy) });
  const initializer: Json[] = [];
  if (input.scales) initializer.push({ name: 'scales', dims: [input.scales.length], dataType: 1, floatData: input.scales });
  if (input.sizes) initializer.push({ name: 'sizes', dims: [input.sizes.length], dataType: 7, int64Data: input.sizes });
  const graph = {
    name: 'resize',
    node: [{ opType: 'Resize', input: ['x', '', input.scales ? 'scales' : '', input.sizes ? 'sizes' : ''], output: ['y'], name: 'r', attribute }],
    initializer,
    input: [valueInfo('x', [1, 1, 2, 4])],
    output: [{ name: 'y' }],
  };
  return messages.model.encode(messages.model.fromObject({ irVersion: 8, opsetImport: [{ domain: '', version: 18 }], graph })).finish();
}

async function run(bytes: Uint8Array): Promise<[number[], number[]]> {
  const model = await st.onnx.load(bytes);
  const y = model.predict(st.tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 4])) as st.Tensor;
  return [[...y.shape], Array.from(await y.data())];
}

describe('st.onnx.load: Resize at opset 18', () => {
  it('scales over the listed axes only', async () => {
    assert.deepEqual(await run(resizeModel([3], { scales: [0.5] })), [
      [1, 1, 2, 2],
      [1, 3, 5, 7],
    ]);
  });

  it('keep_aspect_ratio_policy: one scale for the listed axes, fitting inside or covering the sizes', async () => {
    // Ratios 1/2 and 3/4: not_larger takes 0.5 (a 1 x 2 output), not_smaller 0.75 (2 x 3).
    assert.deepEqual(await run(resizeModel([2, 3], { sizes: [1, 3] }, 'not_larger')), [
      [1, 1, 1, 2],
      [1, 3],
    ]);
    assert.deepEqual(await run(resizeModel([2, 3], { sizes: [1, 3] }, 'not_smaller')), [
      [1, 1, 2, 3],
      [1, 2, 4, 5, 6, 8],
    ]);
  });
});
