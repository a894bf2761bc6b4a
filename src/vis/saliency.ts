// Saliency maps (Simonyan, Vedaldi and Zisserman, "Deep Inside Convolutional Networks", 2014):
// how much each pixel of an image moves a class score, as the size of the score's gradient with
// respect to the image, the largest over the pixel's channels.
import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import type { Model } from '../models/model.js';
import type { Layer } from '../nn/layer.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import { abs, add, div, mul } from '../ops/elementwise.js';
import type { TensorInput } from '../ops/operand.js';
import { max, sum } from '../ops/reduction.js';
import { randomNormal, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { cutAt, imageInputShape } from './cut.js';
import { checkModelInput, inputGradient } from './input-gradient.js';

const OP = 'saliency';

/** Options of `st.vis.saliency`. */
export interface SaliencyOptions {
  /**
   * Differentiate the class score before the softmax that ends the model (default true), as
   * Simonyan et al. do; false differentiates the probability the model outputs.
   */
  logits?: boolean;
  /**
   * SmoothGrad (Smilkov et al. 2017): average the gradient over this many copies of each image
   * with Gaussian noise added (default 1: the plain gradient). Needs `noise`.
   */
  samples?: number;
  /**
   * The standard deviation of SmoothGrad's noise, in the images' own units (Smilkov et al. use
   * 10 to 20 % of the value range: 0.15 for images in [0, 1]). Default 0.
   */
  noise?: number;
  /** Fixes SmoothGrad's noise (copy i draws with seed + i); without it the noise comes from the global stream (`st.setSeed`). */
  seed?: number;
}

// Note [Saliency before the softmax]
// A classifier that ends in softmax outputs p_c = exp(s_c) / Σ exp(s_k). The gradient of p_c
// mixes in every other class: p_c rises when the other scores fall, so its map shows evidence
// against the other classes as much as for c; and for a confident prediction the softmax
// saturates (p_c ≈ 1), so its gradient, and the map, nearly vanish. The score s_c has neither
// problem, so saliency differentiates it: the model is cut before its softmax (a Dense or conv
// layer with activation 'softmax' is replayed with a linear activation; a separate Softmax or
// Activation layer is cut off and its input read).

/** The model whose output is the class scores: before the softmax that ends `model`, if it does. */
function scoreModel(model: Model, logits: boolean): Model {
  const last = (model.outputs[0] as SymbolicTensor).node.layer as Layer;
  const config = last.getConfig();
  if (!logits) return model;
  if (config.activation === 'softmax') {
    return last.className === 'Activation'
      ? cutAt(OP, model, [((last.input as SymbolicTensor).node.layer as Layer).name])
      : cutAt(OP, model, [last.name], { linear: last.name });
  }
  if (last.className === 'Softmax') return cutAt(OP, model, [((last.input as SymbolicTensor).node.layer as Layer).name]);
  return model;
}

function classList(classIndex: unknown, n: number, classes: number): number[] {
  const list = typeof classIndex === 'number' ? Array.from({ length: n }, () => classIndex) : classIndex;
  if (!Array.isArray(list) || list.length !== n) {
    throw new ValueError(`${OP}: classIndex must be a class index or a list of one per image (${n}); received ${fmtValue(classIndex)}`);
  }
  for (const c of list) {
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new ValueError(`${OP}: classIndex must hold integers in [0, ${classes - 1}] (the model has ${classes} classes); received ${fmtValue(c)}`);
    }
  }
  return list as number[];
}

/**
 * A saliency map per image: for images x [n, h, w, c], the gradient of class `classIndex`'s score
 * with respect to the image, its absolute value, the largest over the channels: [n, h, w]. Bright
 * pixels are those whose change would change the score most (Simonyan et al. 2014).
 *
 * The score is read before the softmax when the model ends in one (Note [Saliency before the
 * softmax]: the probability's gradient mixes in the other classes and vanishes for confident
 * predictions); `{logits: false}` differentiates the output itself. The model runs in inference
 * mode. `classIndex` is one class for every image or a list of one per image. Plain gradients are
 * speckled; `{samples: 25, noise: 0.15}` averages them over noisy copies of the images
 * (SmoothGrad), which leaves the strokes that matter.
 * @throws ValueError for a model without one image input, a class out of range, an unknown
 * option; ShapeError for images of another shape than the model's input.
 * @example
 * ```ts
 * const maps = st.vis.saliency(model, xTest.slice([0], [8]), [7, 2, 1, 0, 4, 1, 4, 9]);
 * console.log(maps.shape); // [8, 28, 28]
 * ```
 */
export function saliency(model: Model, x: TensorInput, classIndex: number | number[], options: SaliencyOptions = {}): Tensor {
  checkKeys(OP, options, ['logits', 'samples', 'noise', 'seed']);
  const { logits = true, samples = 1, noise = 0, seed } = options;
  if (typeof logits !== 'boolean') throw new ValueError(`${OP}: logits must be true or false; received ${fmtValue(logits)}`);
  if (!Number.isInteger(samples) || samples < 1) throw new ValueError(`${OP}: samples must be a positive integer; received ${fmtValue(samples)}`);
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0) {
    throw new ValueError(`${OP}: noise must be a standard deviation >= 0; received ${fmtValue(noise)}`);
  }
  if (seed !== undefined && !Number.isInteger(seed)) throw new ValueError(`${OP}: seed must be an integer; received ${fmtValue(seed)}`);
  if (samples > 1 && noise === 0) {
    throw new ValueError(
      `${OP}: SmoothGrad's ${samples} samples need noise > 0 (e.g. 0.15 for images in [0, 1]); without noise they are all the same gradient`,
    );
  }
  imageInputShape(OP, model);
  const images = checkModelInput(OP, model, x).x;
  const scores = scoreModel(model, logits);
  const outShape = scores.outputs[0].shape;
  const classes = outShape[1];
  if (outShape.length !== 2 || typeof classes !== 'number') {
    throw new ValueError(`${OP}: expected a classifier whose output is [batch, classes]; '${model.name}' outputs ${JSON.stringify(outShape)}`);
  }
  const n = images.shape[0];
  const picks = classList(classIndex, n, classes);
  // A one-hot row per image picks its class; the sum of the picked scores has, for each image,
  // the gradient of its own score (images do not interact in inference mode).
  const mask = tensor(
    picks.flatMap((c) => Array.from({ length: classes }, (_, k) => (k === c ? 1 : 0))),
    [n, classes],
    scores.outputs[0].dtype,
  );
  const gradient = (input: Tensor) => inputGradient(scores, input, (out) => sum(mul(out, mask)));
  if (samples === 1 && noise === 0) return max(abs(gradient(images)), 3);
  // SmoothGrad: the mean of the signed gradients at noisy copies, then its size.
  let total: Tensor | undefined;
  for (let i = 0; i < samples; i++) {
    const g = gradient(
      add(images, randomNormal(images.shape, { stddev: noise, dtype: images.dtype, ...(seed === undefined ? {} : { seed: seed + i }) })),
    );
    total = total === undefined ? g : add(total, g);
  }
  return max(abs(div(total as Tensor, samples)), 3);
}
