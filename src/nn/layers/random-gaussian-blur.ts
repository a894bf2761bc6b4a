// Keras 3's RandomGaussianBlur: some images of a batch blurred by a Gaussian whose sigmas are drawn
// once per batch, while training. Images [H, W, C] or [N, H, W, C], channels last.
import { ValueError, fmtValue } from '../../core/errors.js';
import { clip, greater, where } from '../../ops/elementwise.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { gaussianBlur } from '../image/geometry.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { RandomImageLayer, between, type Bounds } from './image-layer.js';

/** Keras's _set_factor with bounds [0, 1]: f means [0, f]; a pair is sorted and must lie in [0, 1]. */
function unitRange(layer: string, name: string, f: unknown): Bounds {
  let r: Bounds | null = null;
  if (typeof f === 'number' && Number.isFinite(f)) r = [0, Math.abs(f)];
  else if (Array.isArray(f) && f.length === 2 && f.every((x) => typeof x === 'number' && Number.isFinite(x)))
    r = f[0] <= f[1] ? [f[0], f[1]] : [f[1], f[0]];
  if (!r || r[0] < 0 || r[1] > 1) throw new ValueError(`${layer}: ${name} must be a number or a pair of numbers in [0, 1]; received ${fmtValue(f)}`);
  return r;
}

/** Odd kernel sizes [height, width]; a number k means [k, k]. */
function oddSizes(layer: string, k: unknown): Bounds {
  const pair = typeof k === 'number' ? [k, k] : k;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => Number.isInteger(v) && v > 0 && v % 2 === 1))
    throw new ValueError(`${layer}: kernelSize must be an odd positive integer or a pair of them; received ${fmtValue(k)}`);
  return [pair[0], pair[1]];
}

/** Options of `st.layers.randomGaussianBlur`. */
export interface RandomGaussianBlurArgs extends LayerArgs {
  /** f or [lo, hi] in [0, 1]: each image draws p from [lo, hi] (f means [0, f]) and is blurred with probability p. Default 1. */
  factor?: number | readonly [number, number];
  /** Odd kernel size, k or [height, width]. Default 3. */
  kernelSize?: number | readonly [number, number];
  /** s or [lo, hi] in [0, 1]: the two sigmas (rows, columns) are drawn from [lo, hi] (s means [0, s]) once per batch, plus 1e-6. Default 1. */
  sigma?: number | readonly [number, number];
  /** The range of the values; outputs are clipped to it. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/**
 * Blurs some images while training (Keras 3.16's RandomGaussianBlur): per image a probability p
 * from `factor` and a threshold u, blurred when u < p; the two sigmas are drawn once for the whole
 * batch, as Keras does, from `sigma` (Keras's [0, 1] bounds, so a number s means [0, s]) plus 1e-6;
 * the blur is `st.image.gaussianBlur` (zero padding, same size), and the batch is clipped to
 * valueRange. Draws: a row of two per image (p, u), then one more row for the sigmas.
 */
export class RandomGaussianBlur extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomGaussianBlur';
  /** [lo, hi] of the blur probability. */
  readonly factor: Bounds;
  /** [height, width] of the kernel. */
  readonly kernelSize: Bounds;
  /** [lo, hi] of the sigmas. */
  readonly sigma: Bounds;
  /** The range of the values. */
  readonly valueRange: Bounds;

  constructor(args: RandomGaussianBlurArgs = {}) {
    super(args as RandomGaussianBlurArgs & Record<string, unknown>, ['factor', 'kernelSize', 'sigma', 'valueRange']);
    this.factor = unitRange(this.name, 'factor', args.factor ?? 1);
    this.kernelSize = oddSizes(this.name, args.kernelSize ?? 3);
    this.sigma = unitRange(this.name, 'sigma', args.sigma ?? 1);
    const v = args.valueRange ?? [0, 255];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v[0] === v[1])
      throw new ValueError(`${this.name}: valueRange must be two different finite numbers [low, high]; received ${fmtValue(args.valueRange)}`);
    this.valueRange = v[0] < v[1] ? [v[0], v[1]] : [v[1], v[0]];
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const n = images.shape[0];
    const u = this.uniforms(n + 1, 2);
    const blurred = tensor(
      Float64Array.from({ length: n }, (_, i) => (u[2 * i + 1] < between(this.factor, u[2 * i]) ? 1 : 0)),
      [n, 1, 1, 1],
      images.dtype,
    );
    const sigma: Bounds = [between(this.sigma, u[2 * n]) + 1e-6, between(this.sigma, u[2 * n + 1]) + 1e-6];
    const blur = gaussianBlur(images, { kernelSize: this.kernelSize, sigma });
    const out = clip(where(greater(blurred, 0), blur, images), this.valueRange[0], this.valueRange[1]);
    return this.fromBatch(out, single);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      factor: this.factor,
      kernelSize: this.kernelSize,
      sigma: this.sigma,
      valueRange: this.valueRange,
      seed: this.seed,
    };
  }
}

registerLayer('RandomGaussianBlur', (c) => new RandomGaussianBlur(c as RandomGaussianBlurArgs));
