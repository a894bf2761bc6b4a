// DeepDream (Mordvintsev, Olah and Tyka, 2015): gradient ascent on a real image so that chosen
// layers respond more strongly, which paints the patterns those layers detect into the image.
// The ascent runs over octaves, from a shrunk copy of the image up to its full size, so patterns
// grow at several scales; after each octave the detail that shrinking lost is added back (the
// difference between the original at the next size and its shrunk copy enlarged), so the result
// keeps the image's own sharpness.
import { ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import type { Model } from '../models/model.js';
import { resizeImages } from '../nn/image-sampling.js';
import { add, mul, square, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduction.js';
import { expandDims, squeeze } from '../ops/shape-ops.js';
import { Tensor } from '../tensor/tensor.js';
import { ascentStep, jitterShifts, numberOption, rangeOption, type Objective } from './ascent.js';
import { cutAt, imageInputShape } from './cut.js';

/** Options of {@link vis.deepDream}. */
export interface DeepDreamOptions {
  /** The layers whose activations are amplified: a name, a list, or names with weights. */
  layers: string | string[] | Record<string, number>;
  /** Ascent steps per octave (default 20). */
  steps?: number;
  /** How far a pixel moves per step on average, in input units, the gradient being normalized (default 0.02). */
  stepSize?: number;
  /** How many scales, the smallest being the image shrunk by octaveScale^(octaves-1) (default 3). */
  octaves?: number;
  /** The size ratio between successive octaves (default 1.4). */
  octaveScale?: number;
  /** Random shift of up to this many pixels before each gradient (default 1; 0 turns it off). */
  jitter?: number;
  /** The input's value range; the image is clipped to it after every step (default [0, 1]). */
  valueRange?: [number, number];
  /** Seed of the jitter (default 0). */
  seed?: number;
}

/** What {@link vis.deepDream} returns. */
export interface DeepDreamResult {
  /** The dreamed image, of the shape given ([h, w, c] or [1, h, w, c]). */
  image: Tensor;
  /** The objective at every step, octave after octave. */
  objective: number[];
  /** The [height, width] of each octave, smallest first. */
  octaveSizes: [number, number][];
  /** The objective of the image as given, at full size and without jitter. */
  start: number;
  /** The objective of the result, at full size and without jitter. */
  end: number;
}

const KEYS = ['layers', 'steps', 'stepSize', 'octaves', 'octaveScale', 'jitter', 'valueRange', 'seed'];
const OP = 'deepDream';

function layerWeights(value: unknown): [string, number][] {
  const entries: [string, unknown][] =
    typeof value === 'string'
      ? [[value, 1]]
      : Array.isArray(value)
        ? value.map((n) => [n, 1])
        : typeof value === 'object' && value !== null
          ? Object.entries(value)
          : [];
  if (entries.length === 0)
    throw new ValueError(`${OP}: layers must be a layer name, a non-empty list of names or {name: weight}; received ${JSON.stringify(value)}`);
  return entries.map(([name, weight]) => [name, numberOption(OP, `the weight of layer ${JSON.stringify(name)}`, weight, -1e6, 1e6)]);
}

/**
 * The DeepDream objective: the weighted sum over the chosen layers of the mean squared activation
 * (squares, so that strong responses of either sign grow; means, so that layers of different sizes
 * weigh by their weight alone). The network is cut with its image size left open, for the octaves.
 * Exported for the gradient checks.
 * @internal
 */
export function dreamObjective(model: Model, layers: DeepDreamOptions['layers']): Objective {
  imageInputShape(OP, model);
  const weighted = layerWeights(layers);
  const cut = cutAt(
    OP,
    model,
    weighted.map(([name]) => name),
    { anySize: true },
  );
  return (x) => {
    const out = cut.apply(x);
    const acts = Array.isArray(out) ? out : [out];
    return acts.map((a, i) => mul(mean(square(a as Tensor)), weighted[i][1])).reduce((s, t) => add(s, t));
  };
}

/**
 * DeepDream: amplifies in `image` whatever the chosen layers detect, by gradient ascent on the
 * image over several octaves (scales). The network is run on images of the octaves' sizes, so it
 * must accept images of other sizes up to the chosen layers (convolutions and pooling do; a
 * Flatten before them does not).
 * @throws ValueError for an unknown layer (the message lists the layers), an image that is not
 *   [h, w, c] or [1, h, w, c] with the model's channels, an octave too small, or a bad option.
 * @example
 * ```ts
 * const digit = xTest.slice([0], [1]);
 * const { image } = await st.vis.deepDream(net, digit, { layers: ['conv2d_1', 'conv2d_2'], octaves: 3 });
 * ```
 */
export async function deepDream(model: Model, image: Tensor, options: DeepDreamOptions): Promise<DeepDreamResult> {
  checkKeys(OP, options, KEYS);
  if (typeof options !== 'object' || options === null || options.layers === undefined)
    throw new ValueError(`${OP}: options.layers is required (the layers whose activations are amplified)`);
  const objective = dreamObjective(model, options.layers);
  const steps = numberOption(OP, 'steps', options.steps ?? 20, 0, 1e6, true);
  const stepSize = numberOption(OP, 'stepSize', options.stepSize ?? 0.02, 0, 1e6);
  const octaves = numberOption(OP, 'octaves', options.octaves ?? 3, 1, 32, true);
  const octaveScale = numberOption(OP, 'octaveScale', options.octaveScale ?? 1.4, 1, 16);
  const jitter = numberOption(OP, 'jitter', options.jitter ?? 1, 0, 1000, true);
  const range = rangeOption(OP, options.valueRange ?? [0, 1]);
  const seed = numberOption(OP, 'seed', options.seed ?? 0, 0, 2 ** 31, true);

  const channels = model.inputs[0].shape[3];
  if (!(image instanceof Tensor) || (image.rank !== 3 && !(image.rank === 4 && image.shape[0] === 1)) || image.shape[image.rank - 1] !== channels)
    throw new ValueError(
      `${OP}: image must be one image [height, width, ${channels}] or [1, height, width, ${channels}] for this model; received ${image instanceof Tensor ? JSON.stringify(image.shape) : String(image)}`,
    );
  const original = image.rank === 3 ? expandDims(image, 0) : image;
  const [, h, w] = original.shape;
  const sizes: [number, number][] = [];
  for (let k = octaves - 1; k >= 0; k--) sizes.push([Math.round(h / octaveScale ** k), Math.round(w / octaveScale ** k)]);

  const resize = (t: Tensor, [rh, rw]: [number, number]) => (t.shape[1] === rh && t.shape[2] === rw ? t : resizeImages(t, rh, rw, 'bilinear'));
  const shifts = await jitterShifts(steps * octaves, jitter, seed);
  const trace: number[] = [];
  let shrunk = resize(original, sizes[0]);
  let x = shrunk;
  for (let k = 0; k < sizes.length; k++) {
    x = resize(x, sizes[k]);
    if (k > 0) {
      // Put back the detail the shrinking lost: the original at this size minus the smaller copy enlarged.
      const sameSize = resize(original, sizes[k]);
      x = add(x, sub(sameSize, resize(shrunk, sizes[k])));
      shrunk = sameSize;
    }
    for (let s = 0; s < steps; s++) {
      let r: { value: number; x: Tensor };
      try {
        r = await ascentStep(objective, x, { stepSize, shift: shifts[k * steps + s], range, blur: false, decay: 0 });
      } catch (e) {
        if (s > 0 || !(e instanceof Error) || !/shape|size|small|negative/i.test(e.message)) throw e;
        throw new ValueError(
          `${OP}: octave ${k + 1} of ${octaves} (${sizes[k].join('x')} pixels) is too small for the chosen layers; use fewer octaves, a smaller octaveScale or a larger image (${e.message})`,
        );
      }
      trace.push(r.value);
      x = r.x;
    }
  }
  const at = async (t: Tensor) => (await objective(t).data())[0];
  return { image: image.rank === 3 ? squeeze(x, [0]) : x, objective: trace, octaveSizes: sizes, start: await at(original), end: await at(x) };
}
