// Keras 3's RandomElasticTransform, on st.image.elasticTransform.
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { clip, greater, where } from '../../ops/elementwise.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { INTERPOLATIONS, type Interpolation } from '../image-sampling.js';
import { elasticTransform } from '../image/elastic.js';
import type { CoordinateFillMode } from '../image/warp.js';
import type { CallOptions, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { RandomImageLayer, between, type Bounds } from './image-layer.js';

const FILL_MODES: readonly CoordinateFillMode[] = ['reflect', 'constant', 'nearest', 'wrap', 'mirror'];

/** Keras's _set_factor with bounds [0, 1]: f means [0, f]; a pair is sorted and must lie in [0, 1]. */
function unitRange(layer: string, name: string, f: unknown): Bounds {
  let r: Bounds | null = null;
  if (typeof f === 'number' && Number.isFinite(f)) r = [0, Math.abs(f)];
  else if (Array.isArray(f) && f.length === 2 && f.every((x) => typeof x === 'number' && Number.isFinite(x)))
    r = f[0] <= f[1] ? [f[0], f[1]] : [f[1], f[0]];
  if (!r || r[0] < 0 || r[1] > 1) throw new ValueError(`${layer}: ${name} must be a number or a pair of numbers in [0, 1]; received ${fmtValue(f)}`);
  return r;
}

/** Options of `st.layers.randomElasticTransform`. */
export interface RandomElasticTransformArgs extends LayerArgs {
  /** f or [lo, hi] in [0, 1]: each image draws p from [lo, hi] (f means [0, f]) and is distorted with probability p. Default 1. */
  factor?: number | readonly [number, number];
  /** s or [lo, hi] in [0, 1]: the distortion d, drawn once per batch (s means [0, s]). Default 1. */
  scale?: number | readonly [number, number];
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** Outside samples: 'reflect' (default), 'constant' (fillValue), 'nearest', 'wrap' or 'mirror'. */
  fillMode?: CoordinateFillMode;
  /** The value of outside samples with fillMode 'constant'. Default 0. */
  fillValue?: number;
  /** The range of the values; outputs are clipped to it. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/**
 * Distorts some images by a smooth random displacement field while training (Keras 3.16's
 * RandomElasticTransform): per image a probability p from `factor` and a threshold u (distorted
 * when u < p); once per batch a distortion d from `scale`, giving alpha = 0.1·d·max(H, W) and
 * sigma = 0.05·d·min(H, W) for `st.image.elasticTransform`; the batch is clipped to valueRange.
 * Draws: a row (p, u) per image, then a row (d, the seed of the noise fields).
 */
export class RandomElasticTransform extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandomElasticTransform';
  /** [lo, hi] of the distortion probability. */
  readonly factor: Bounds;
  /** [lo, hi] of the distortion d. */
  readonly scale: Bounds;
  /** 'bilinear' or 'nearest'. */
  readonly interpolation: Interpolation;
  /** How outside samples are read. */
  readonly fillMode: CoordinateFillMode;
  /** The value of outside samples with 'constant'. */
  readonly fillValue: number;
  /** The range of the values. */
  readonly valueRange: Bounds;

  constructor(args: RandomElasticTransformArgs = {}) {
    super(args as RandomElasticTransformArgs & Record<string, unknown>, ['factor', 'scale', 'interpolation', 'fillMode', 'fillValue', 'valueRange']);
    this.factor = unitRange(this.name, 'factor', args.factor ?? 1);
    this.scale = unitRange(this.name, 'scale', args.scale ?? 1);
    this.interpolation = checkOneOf(this.name, 'interpolation', args.interpolation ?? 'bilinear', INTERPOLATIONS);
    this.fillMode = checkOneOf(this.name, 'fillMode', args.fillMode ?? 'reflect', FILL_MODES);
    const fill = args.fillValue ?? 0;
    if (typeof fill !== 'number' || !Number.isFinite(fill))
      throw new ValueError(`${this.name}: fillValue must be a finite number; received ${fmtValue(args.fillValue)}`);
    this.fillValue = fill;
    const v = args.valueRange ?? [0, 255];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v[0] === v[1])
      throw new ValueError(`${this.name}: valueRange must be two different finite numbers [low, high]; received ${fmtValue(args.valueRange)}`);
    this.valueRange = v[0] < v[1] ? [v[0], v[1]] : [v[1], v[0]];
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    // Keras skips the transform when no image can be distorted or the distortion is zero.
    if (!options.training || this.scale[1] === 0 || this.factor[1] === 0) return this.fromBatch(images, single);
    const [n, h, w] = images.shape;
    const u = this.uniforms(n + 1, 2);
    const d = between(this.scale, u[2 * n]);
    const alpha = Math.max(h, w) * 0.1 * d,
      sigma = Math.min(h, w) * 0.05 * d;
    const picked = Array.from({ length: n }, (_, i) => (u[2 * i + 1] < between(this.factor, u[2 * i]) ? 1 : 0));
    if (!(sigma > 0) || !picked.some((p) => p)) return this.fromBatch(images, single);
    const distorted = elasticTransform(images, {
      alpha,
      sigma,
      interpolation: this.interpolation,
      fillMode: this.fillMode,
      fillValue: this.fillValue,
      seed: Math.floor(u[2 * n + 1] * 2 ** 31),
    });
    const mask = tensor(picked, [n, 1, 1, 1], images.dtype);
    const out = clip(where(greater(mask, 0), distorted, images), this.valueRange[0], this.valueRange[1]);
    return this.fromBatch(out, single);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      factor: this.factor,
      scale: this.scale,
      interpolation: this.interpolation,
      fillMode: this.fillMode,
      fillValue: this.fillValue,
      valueRange: this.valueRange,
      seed: this.seed,
    };
  }
}

registerLayer('RandomElasticTransform', (c) => new RandomElasticTransform(c as RandomElasticTransformArgs));
