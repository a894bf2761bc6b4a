// Activation maximization (Erhan et al. 2009; Simonyan et al. 2013): the input a trained network
// responds to most, for one filter of a layer or one class, found by gradient ascent on the
// input from faint noise. What the pictures show is as much the regularization as the network
// (ascent.ts says which and why); they are pictures of what a unit prefers, not of the data.
import { ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import type { Model } from '../models/model.js';
import type { Layer } from '../nn/layer.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import { mul } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduction.js';
import { randomUniform, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { ascentStep, jitterShifts, numberOption, rangeOption, type Objective } from './ascent.js';
import { cutAt, findLayer, imageInputShape } from './cut.js';

/** Options of {@link vis.activationMaximization}. */
export interface ActivationMaximizationOptions {
  /** The layer whose output is maximized (default: the model's last layer, for `classIndex`). */
  layer?: string;
  /** The channel (last axis) of `layer` to maximize, its mean over positions; a list makes one image per channel. */
  filter?: number | number[];
  /** The class score to maximize (the last layer's unit); a list makes one image per class. */
  classIndex?: number | number[];
  /**
   * Read the layer's output before its activation function: a softmax's class scores, a ReLU's
   * input. Default: true for a layer that ends in a softmax (a probability can rise by pushing the
   * other classes down, a score only by showing more of its own class), false otherwise. Before a
   * ReLU, a unit silent on the starting noise still has a gradient (after it, zero: it stays gray).
   */
  beforeActivation?: boolean;
  /** Ascent steps (default 200). */
  steps?: number;
  /** How far a pixel moves per step on average, in input units, the gradient being normalized (default 0.02). */
  stepSize?: number;
  /** Random shift of up to this many pixels before each gradient (default 1; 0 turns it off). */
  jitter?: number;
  /** Blur the image every this many steps (default 4; 0 never). */
  blurEvery?: number;
  /** Fraction by which the image shrinks towards 0 each step, an L2 penalty (default 0). */
  decay?: number;
  /** The input's value range; the image is clipped to it after every step (default [0, 1], like st.data.mnist). */
  valueRange?: [number, number];
  /** The image size when the model's input leaves it open. */
  size?: [number, number];
  /** Seed of the starting noise and of the jitter (default 0). */
  seed?: number;
}

/** What {@link vis.activationMaximization} returns. */
export interface ActivationMaximizationResult {
  /** One image per filter or class, [n, height, width, channels]. */
  images: Tensor;
  /** The objective at each step, averaged over the images (measured on the jittered image the step used). */
  objective: number[];
  /** Each image's objective at the start (the noise), without jitter. */
  start: number[];
  /** Each image's objective at the end, without jitter. */
  end: number[];
}

const KEYS = ['layer', 'filter', 'classIndex', 'beforeActivation', 'steps', 'stepSize', 'jitter', 'blurEvery', 'decay', 'valueRange', 'size', 'seed'];
const OP = 'activationMaximization';

function indexList(name: string, value: number | number[], units: number): number[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new ValueError(`${OP}: ${name} must be an index or a non-empty list of indices; received []`);
  for (const v of list) numberOption(OP, name, v, 0, units - 1, true);
  return list;
}

/** Whether the layer ends in a softmax (its own activation, or a Softmax layer). */
function endsInSoftmax(layer: Layer): boolean {
  return layer.getConfig().activation === 'softmax' || layer.className === 'Softmax';
}

/**
 * The objective of activation maximization for `model`: per image i, the mean over positions of
 * channel units[i] of the cut network's output (`scores`), and their sum (`objective`, whose
 * gradient for each image is its own score's). Exported for the gradient checks.
 * @internal
 */
export function unitObjective(
  model: Model,
  options: ActivationMaximizationOptions,
): { objective: Objective; scores: (x: Tensor) => Tensor; units: number[] } {
  checkKeys(OP, options, KEYS);
  imageInputShape(OP, model);
  const { filter, classIndex } = options;
  if ((filter === undefined) === (classIndex === undefined))
    throw new ValueError(
      `${OP}: give either filter (a channel of a layer) or classIndex (a class score); received ${filter === undefined ? 'neither' : 'both'}`,
    );
  if (filter !== undefined && options.layer === undefined) throw new ValueError(`${OP}: filter needs layer, the name of the layer it belongs to`);
  const last = model.layers[model.layers.length - 1];
  let layer = options.layer === undefined ? last : findLayer(OP, model, options.layer);
  let linear: string | undefined;
  if (options.beforeActivation ?? endsInSoftmax(layer)) {
    const activation = layer.getConfig().activation;
    if (typeof activation === 'string') {
      if (activation !== 'linear') linear = layer.name;
    } else if (layer.className === 'Softmax' || layer.className === 'Activation') {
      layer = (layer.input as SymbolicTensor).node.layer as Layer; // an activation layer of its own: its input is the value before it
    }
  }
  const cut = cutAt(OP, model, [layer.name], { linear });
  const outShape = (cut.outputs[0] as SymbolicTensor).shape;
  const channels = outShape[outShape.length - 1];
  if (typeof channels !== 'number')
    throw new ValueError(`${OP}: layer '${layer.name}' has no fixed number of channels (${JSON.stringify(outShape)})`);
  const units = indexList(filter === undefined ? 'classIndex' : 'filter', (filter ?? classIndex)!, channels);
  const spatial = outShape.slice(1, -1).map((_, i) => i + 1);
  // One row per image picks its unit: a one-hot mask [n, channels] times the per-channel means.
  const mask = tensor(
    units.flatMap((u) => Array.from({ length: channels }, (_, c) => (c === u ? 1 : 0))),
    [units.length, channels],
    cut.outputs[0].dtype,
  );
  const scores = (x: Tensor): Tensor => {
    const y = cut.apply(x) as Tensor;
    return sum(mul(spatial.length ? mean(y, spatial) : y, mask), 1);
  };
  return { objective: (x) => sum(scores(x)), scores, units };
}

/**
 * The input that excites one filter of a layer (or one class score) the most: gradient ascent on
 * the image from faint noise, the gradient normalized per image, with jitter and a light blur
 * every few steps so the result is not the high-frequency noise that ascent alone finds.
 * @throws ValueError for an unknown layer (the message lists the layers), a filter or class out of
 *   range, both or neither of filter and classIndex, or a bad option.
 * @example
 * ```ts
 * const { images } = await st.vis.activationMaximization(net, { classIndex: [0, 1, 2], steps: 100 });
 * const { images: patterns } = await st.vis.activationMaximization(net, { layer: 'conv2d_1', filter: [0, 1, 2, 3] });
 * ```
 */
export async function activationMaximization(model: Model, options: ActivationMaximizationOptions): Promise<ActivationMaximizationResult> {
  const { objective, scores, units } = unitObjective(model, options);
  const steps = numberOption(OP, 'steps', options.steps ?? 200, 0, 1e6, true);
  const stepSize = numberOption(OP, 'stepSize', options.stepSize ?? 0.02, 0, 1e6);
  const jitter = numberOption(OP, 'jitter', options.jitter ?? 1, 0, 1000, true);
  const blurEvery = numberOption(OP, 'blurEvery', options.blurEvery ?? 4, 0, 1e6, true);
  const decay = numberOption(OP, 'decay', options.decay ?? 0, 0, 1);
  const range = rangeOption(OP, options.valueRange ?? [0, 1]);
  const seed = numberOption(OP, 'seed', options.seed ?? 0, 0, 2 ** 31, true);
  const [, h, w, c] = model.inputs[0].shape;
  let size: [number, number];
  if (typeof h === 'number' && typeof w === 'number') size = [h, w];
  else if (options.size)
    size = [numberOption(OP, 'size[0]', options.size[0], 1, 4096, true), numberOption(OP, 'size[1]', options.size[1], 1, 4096, true)];
  else
    throw new ValueError(
      `${OP}: the model's input leaves the image size open (${JSON.stringify(model.inputs[0].shape)}); give size: [height, width]`,
    );

  // Faint noise around the middle of the value range: no pattern to begin with, and room both ways.
  const middle = (range[0] + range[1]) / 2,
    spread = (range[1] - range[0]) * 0.05;
  let x = randomUniform([units.length, size[0], size[1], c as number], {
    min: middle - spread,
    max: middle + spread,
    seed,
    dtype: model.inputs[0].dtype,
  });
  const read = async (images: Tensor) => Array.from(await scores(images).data());
  const start = await read(x);
  const shifts = await jitterShifts(steps, jitter, seed + 1);
  const objectiveTrace: number[] = [];
  for (let step = 0; step < steps; step++) {
    const blurNow = blurEvery > 0 && (step + 1) % blurEvery === 0 && step < steps - 1;
    const r = await ascentStep(objective, x, { stepSize, shift: shifts[step], range, blur: blurNow, decay });
    objectiveTrace.push(r.value / units.length);
    x = r.x;
  }
  return { images: x, objective: objectiveTrace, start, end: await read(x) };
}
