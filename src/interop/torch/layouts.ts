// How one Strata layer's weights are laid out in a PyTorch state dict: the parameter names of
// the matching torch.nn module and the permutation between the two layouts. Strata keeps
// Keras's layouts (channels-last kernels, dense kernels [in, out]); PyTorch keeps its own
// (Conv2d [out, in, kh, kw], Linear [out, in]). The rules go by the layer's class, so a name
// mapping only has to say which module becomes which layer.
import type { Layer } from '../../nn/layer.js';
import { reshape, transpose } from '../../ops/shape-ops.js';
import { type TorchParam, permuted, same, single } from './param.js';
import { flattenedDenseKernel, flattenedMap } from './flatten-layouts.js';
import { RECURRENT_RULES } from './recurrent-layouts.js';

export type { TorchParam };

/**
 * A depthwise kernel: PyTorch's Conv2d(C, C·m, groups=C) stores [C·m, 1, kh, kw] with output
 * channel c·m + j for input channel c; Strata stores [kh, kw, C, m] (Keras's depthwise layout).
 */
const depthwiseKernel: TorchParam = single(
  'weight',
  'kernel',
  ([kh, kw, c, m]) => [c * m, 1, kh, kw],
  (t, [kh, kw, c, m]) => transpose(reshape(t, [c, m, kh, kw]), [2, 3, 0, 1]),
  (t) => {
    const [kh, kw, c, m] = t.shape;
    return reshape(transpose(t, [2, 3, 0, 1]), [c * m, 1, kh, kw]);
  },
);

const bias = same('bias', 'bias');

/** PyTorch's parameters of each layer class Strata can exchange, by Strata class name. */
const RULES: Readonly<Record<string, readonly TorchParam[]>> = {
  // nn.Linear: weight [out, in].
  Dense: [permuted('weight', 'kernel', [1, 0]), bias],
  // nn.Conv2d: weight [out, in, kh, kw] -> [kh, kw, in, out].
  Conv2D: [permuted('weight', 'kernel', [2, 3, 1, 0]), bias],
  // nn.Conv1d: weight [out, in, k] -> [k, in, out].
  Conv1D: [permuted('weight', 'kernel', [2, 1, 0]), bias],
  // nn.ConvTranspose2d: weight [in, out, kh, kw] -> Keras's [kh, kw, out, in].
  Conv2DTranspose: [permuted('weight', 'kernel', [2, 3, 1, 0]), bias],
  DepthwiseConv2D: [depthwiseKernel, bias],
  // nn.BatchNorm1d/2d; its int64 num_batches_tracked has no counterpart and is skipped.
  BatchNormalization: [same('weight', 'gamma'), same('bias', 'beta'), same('running_mean', 'moving_mean'), same('running_var', 'moving_variance')],
  LayerNormalization: [same('weight', 'gamma'), same('bias', 'beta')],
  Embedding: [same('weight', 'embeddings')],
  ...RECURRENT_RULES,
};

/** The layer classes with a PyTorch layout, for error messages and the docs. */
export const exchangeableLayers = (): string[] => [...Object.keys(RULES), 'Bidirectional'];

/** PyTorch buffers that no Strata weight holds and loading ignores. */
export const IGNORED_TORCH_PARAMS: ReadonlySet<string> = new Set(['num_batches_tracked']);

/** The Strata weight a param names: by its name inside the layer, or (a wrapper's inner layers) by path. */
export function weightOf(layer: Layer, param: TorchParam): Layer['weights'][number] | undefined {
  return layer.weights.find((w) => w.name === param.strata) ?? layer.weights.find((w) => w.path === param.strata);
}

/**
 * A Bidirectional recurrent layer as one level of a bidirectional torch module: the forward
 * layer's weights under the plain names, the backward layer's under the `_reverse` ones (PyTorch
 * runs that direction on the reversed sequence and aligns its outputs in time, as Keras does).
 * Weights are named by path (`forward_lstm/kernel`), since both inner layers name theirs `kernel`.
 */
function bidirectionalParams(layer: Layer): TorchParam[] | undefined {
  const { forwardLayer, backwardLayer } = layer as unknown as { forwardLayer: Layer; backwardLayer: Layer };
  if (forwardLayer.className !== backwardLayer.className) return undefined;
  const inner = (l: Layer, suffix: string) =>
    torchParamsOf(l)?.map((p) => ({ ...p, torch: p.torch.map((t) => t + suffix), strata: weightOf(l, p)!.path }));
  const forward = inner(forwardLayer, ''),
    backward = inner(backwardLayer, '_reverse');
  return forward && backward ? [...forward, ...backward] : undefined;
}

/**
 * The parameters of `layer` as PyTorch names them, limited to the weights the layer has (a
 * Dense without bias has no `bias`; a BatchNormalization without `scale` has no `weight`);
 * undefined for a class without a rule. A Dense fed by a Flatten of a feature map takes the
 * flattened order into account (Note [A Linear after a Flatten]). A Bidirectional around an
 * LSTM or GRU is one level of a bidirectional torch module (Note [Stacked and bidirectional
 * recurrent modules] in names.ts).
 */
export function torchParamsOf(layer: Layer): TorchParam[] | undefined {
  if (layer.className === 'Bidirectional') return bidirectionalParams(layer);
  const rules = Object.hasOwn(RULES, layer.className) ? RULES[layer.className] : undefined;
  if (rules === undefined || (layer.className === 'GRU' && (layer as unknown as { resetAfter: boolean }).resetAfter !== true)) return undefined;
  const own = new Set(layer.weights.map((w) => w.name));
  const map = layer.className === 'Dense' ? flattenedMap(layer) : undefined;
  return rules.filter((r) => own.has(r.strata)).map((r) => (map !== undefined && r.strata === 'kernel' ? flattenedDenseKernel(map) : r));
}
