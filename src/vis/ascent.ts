// Gradient ascent on an input image: the step shared by activation maximization and DeepDream,
// and the regularizers that keep the image looking like an image. Without them the ascent finds
// what the network responds to most cheaply: high-frequency noise and checkerboards aligned with
// the strides of its convolutions (Olah et al., "Feature Visualization", Distill 2017).
import { ValueError } from '../core/errors.js';
import { backpropagate } from '../autograd/backward.js';
import { noGrad } from '../tensor/tape.js';
import { add, clip, div, mul, sqrt, square } from '../ops/elementwise.js';
import { mean } from '../ops/reduction.js';
import { roll } from '../ops/numpy-extra.js';
import { depthwiseConv2d } from '../ops/depthwise-conv.js';
import { randomUniformInt } from '../ops/random-extra.js';
import { tensor, zerosLike } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

/** A scalar objective of a batch of images [n, h, w, c], to be maximized. */
export type Objective = (x: Tensor) => Tensor;

/**
 * The objective's value and its gradient with respect to the images: the gradient the ascent
 * steps along (before normalization), computed by the library's autograd. The images enter as a
 * fresh leaf of the tape and the gradient is a plain value (not itself recorded): otherwise each
 * step's image would carry the tape of every step before it, and the backward pass would grow
 * with the number of steps.
 */
export function ascentGradient(objective: Objective, x: Tensor): { value: Tensor; grad: Tensor } {
  const leaf = new Tensor(x.storage, x.shape, x.dtype, x.backend);
  leaf.requiresGrad = true;
  const value = objective(leaf);
  if (!value.requiresGrad) return { value, grad: zerosLike(x) };
  const grads = backpropagate(value, undefined, false, 'ascent', (t) => t === leaf);
  return { value, grad: grads.get(leaf) ?? zerosLike(x) };
}

/**
 * The gradient divided by its root mean square, per image. The raw gradient's size depends on
 * the layer and on how far the ascent has come (orders of magnitude between layers), so a fixed
 * step size would be too small for one and explode for another; normalized, `stepSize` is how far
 * each pixel moves on average, in the image's own units.
 */
export function normalizeGradient(grad: Tensor): Tensor {
  const rms = sqrt(add(mean(square(grad), [1, 2, 3], true), 1e-12));
  return div(grad, rms);
}

/**
 * A light blur (the 3x3 binomial kernel [1 2 1]ᵀ[1 2 1] / 16, per channel): applied every few
 * steps it takes out the highest frequencies, which the network's strides make cheap to amplify
 * (Yosinski et al. 2015 blur the image between steps for the same reason). At the border the
 * weights are renormalized over the pixels inside, so the blur does not darken the edges.
 */
export function blur(x: Tensor): Tensor {
  const [, h, w, c] = x.shape;
  const taps = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16);
  const kernel = tensor(
    taps.flatMap((v) => Array.from({ length: c }, () => v)),
    [3, 3, c, 1],
    x.dtype,
  );
  // The kernel's weight that falls inside the image, per pixel: 1 inside, less at the border.
  const rowWeight = (i: number, n: number) => 1 - (i === 0 ? 0.25 : 0) - (i === n - 1 ? 0.25 : 0);
  const inside = tensor(
    Array.from({ length: h * w }, (_, k) => rowWeight(Math.floor(k / w), h) * rowWeight(k % w, w)),
    [1, h, w, 1],
    x.dtype,
  );
  return div(depthwiseConv2d(x, kernel, { padding: 'same' }), inside);
}

/**
 * Random shifts of up to `jitter` pixels, one [dy, dx] per step: the image is rolled by a shift
 * before the gradient is taken and the gradient rolled back, so no pattern can depend on its exact
 * alignment with the network's pooling grid (the jitter of Mordvintsev et al.'s DeepDream).
 */
export async function jitterShifts(steps: number, jitter: number, seed: number): Promise<[number, number][]> {
  if (jitter === 0 || steps === 0) return Array.from({ length: steps }, () => [0, 0]);
  const values = await randomUniformInt([steps, 2], -jitter, jitter + 1, seed).data();
  return Array.from({ length: steps }, (_, i) => [values[2 * i], values[2 * i + 1]]);
}

/** One ascent step on images x [n, h, w, c]: the objective's value there and the moved images. */
export async function ascentStep(
  objective: Objective,
  x: Tensor,
  o: { stepSize: number; shift: [number, number]; range: [number, number]; blur: boolean; decay: number },
): Promise<{ value: number; x: Tensor }> {
  const [dy, dx] = o.shift;
  const shifted = dy === 0 && dx === 0 ? x : roll(x, [dy, dx], [1, 2]);
  const { value, grad } = ascentGradient(objective, shifted);
  const next = noGrad(() => {
    const g = dy === 0 && dx === 0 ? grad : roll(grad, [-dy, -dx], [1, 2]);
    let moved = add(x, mul(normalizeGradient(g), o.stepSize));
    if (o.decay > 0) moved = mul(moved, 1 - o.decay);
    if (o.blur) moved = blur(moved);
    return clip(moved, o.range[0], o.range[1]);
  });
  return { value: (await value.data())[0], x: next };
}

/** Checks a number option: finite, within [min, max], an integer when asked. */
export function numberOption(op: string, name: string, value: unknown, min: number, max: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const what = integer ? 'an integer' : 'a number';
    throw new ValueError(`${op}: ${name} must be ${what} in [${min}, ${max}]; received ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/** Checks `valueRange`: two finite numbers, the first below the second. */
export function rangeOption(op: string, value: unknown): [number, number] {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(value[0] < value[1]))
    throw new ValueError(`${op}: valueRange must be [min, max] with min < max; received ${JSON.stringify(value)}`);
  return [value[0], value[1]];
}
