// st.image against PyTorch 1.13 / torchvision 0.14 where they have the operation
// (test/fixtures/image-torch.json, scripts/make_image_torch_fixtures.py): F.interpolate for the
// resizes, grid_sample for an affine transform, torchvision's rgb_to_grayscale and nms; values
// and the gradient of sum(y * w) with respect to the images, on every backend in float32 and on
// the reference backend in float64.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { fixtureRuns, loadFixture } from './fixture-harness.js';
import { assertCloseAsync, withBackendAsync } from './helpers.js';

interface Case {
  op: 'resizeBilinear' | 'resizeNearestNeighbor' | 'transform' | 'rgbToGrayscale' | 'nonMaxSuppression';
  name: string;
  size?: [number, number];
  options?: { alignCorners?: boolean; halfPixelCenters?: boolean; interpolation?: 'bilinear' };
  transforms?: number[][];
  shape?: number[];
  input?: number[];
  outShape?: number[];
  output: number[];
  weight?: number[];
  grad?: number[];
  iou?: number;
  boxes?: number[];
  scores?: number[];
  count?: number;
}
const { cases } = loadFixture<Case>('image-torch.json');
const runs = await fixtureRuns();

function apply(c: Case, x: st.Tensor): st.Tensor {
  const o = c.options ?? {};
  switch (c.op) {
    case 'resizeBilinear':
      return st.image.resizeBilinear(x, c.size!, o.alignCorners ?? false, o.halfPixelCenters ?? false);
    case 'resizeNearestNeighbor':
      return st.image.resizeNearestNeighbor(x, c.size!, o.alignCorners ?? false, o.halfPixelCenters ?? false);
    case 'transform':
      return st.image.transform(x, c.transforms!, { interpolation: 'bilinear' });
    default:
      return st.image.rgbToGrayscale(x);
  }
}

for (const run of runs) {
  describe(`st.image against PyTorch on ${run.backend} (${run.dtype})`, () => {
    for (const c of cases) {
      it(c.name, () =>
        withBackendAsync(run.backend, async () => {
          if (c.op === 'nonMaxSuppression') {
            const boxes = st.tensor(c.boxes!, [c.count!, 4], run.dtype),
              scores = st.tensor(c.scores!, [c.count!], run.dtype);
            const kept = await st.image.nonMaxSuppressionAsync(boxes, scores, c.count!, c.iou!);
            assert.deepEqual(Array.from(await kept.data()), c.output);
            return;
          }
          const x = st.tensor(c.input!, c.shape!, run.dtype);
          const w = st.tensor(c.weight!, c.outShape!, run.dtype);
          const { value, grads } = st.valueAndGrad((t: st.Tensor) => st.sum(st.mul(apply(c, t), w)))(x);
          await assertCloseAsync(apply(c, x), st.tensor(c.output, c.outShape!, run.dtype), run.rtol, run.atol, `${c.name} values`);
          await assertCloseAsync(grads[0], st.tensor(c.grad!, c.shape!, run.dtype), run.rtol, run.atol, `${c.name} gradient`);
          value.dispose();
        }),
      );
    }
  });
}
