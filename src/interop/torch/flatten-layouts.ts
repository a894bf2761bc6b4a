// Note [A Linear after a Flatten]
// PyTorch flattens a feature map [N, C, *S] channels first, so a Linear after nn.Flatten reads
// its inputs in (c, s...) order; Strata flattens [N, *S, C] channels last, in (s..., c) order. The
// same weights therefore need their input rows permuted, not only transposed: otherwise a
// convnet with a flattening classifier (LeNet, VGG) loads without error and computes nonsense.
// A Dense layer whose input comes straight from a Flatten of a map of rank 3 or more (known
// sizes) gets this kernel rule instead of the plain transpose, in both directions.
import type { Layer } from '../../nn/layer.js';
import { reshape, transpose } from '../../ops/shape-ops.js';
import { type TorchParam, single } from './param.js';

/** The [*S, C] map (batch axis dropped) a Flatten feeding `layer` flattens, if any. */
export function flattenedMap(layer: Layer): number[] | undefined {
  const node = layer.inboundNodes[0];
  const source = node?.inputs.length === 1 ? node.inputs[0].node : undefined;
  if (source === undefined || source.layer.className !== 'Flatten' || source.inputs.length !== 1) return undefined;
  const shape = source.inputs[0].shape.slice(1);
  if (shape.length < 2 || !shape.every((d) => typeof d === 'number' && d > 0)) return undefined;
  return shape as number[];
}

/** nn.Linear's weight [out, C·prod(S)] in (c, s...) order as Strata's kernel [prod(S)·C, out] in (s..., c) order. */
export function flattenedDenseKernel(map: readonly number[]): TorchParam {
  const c = map[map.length - 1];
  const spatial = map.slice(0, -1);
  const r = map.length; // axes of [out, ...]: 0 is out
  const channelsLast = [0, ...spatial.map((_, i) => i + 2), 1]; // [out, C, *S] -> [out, *S, C]
  const channelsFirst = [0, r, ...spatial.map((_, i) => i + 1)]; // [out, *S, C] -> [out, C, *S]
  return single(
    'weight',
    'kernel',
    ([inputs, out]) => [out, inputs],
    (t) => {
      const out = t.shape[0];
      const nhwc = transpose(reshape(t, [out, c, ...spatial]), channelsLast);
      return transpose(reshape(nhwc, [out, t.shape[1]]), [1, 0]);
    },
    (k) => {
      const [inputs, out] = k.shape;
      const rows = reshape(transpose(k, [1, 0]), [out, ...spatial, c]);
      return reshape(transpose(rows, channelsFirst), [out, inputs]);
    },
  );
}
