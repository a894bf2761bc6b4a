// Keras 3's MixUp and CutMix: augmentations that mix each image with another image of the batch
// and mix their labels in the same proportion. A Strata layer receives the labels beside the
// images — `layer.apply([images, labels], {training: true})` returns [images, labels] — or
// images alone, which are mixed the same way (Keras's behaviour when it is given only images).
// Labels must be floating ([N, classes], one-hot or soft): mixing class ids has no meaning.
import { DtypeError, ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { isFloat } from '../../core/dtype.js';
import { add, greater, mul, sub, where } from '../../ops/elementwise.js';
import { randomGamma } from '../../ops/random-extra.js';
import { gather } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { CallOptions, LayerArgs, LayerOutput } from '../layer.js';
import { registerLayer } from '../registry.js';
import { RandomImageLayer, between } from './image-layer.js';

/** A random permutation of 0..n−1: the order that sorts n uniform keys (as a shuffle). */
function permutation(keys: ArrayLike<number>): number[] {
  return Array.from({ length: keys.length }, (_, i) => i).sort((a, b) => keys[a] - keys[b] || a - b);
}

/** n draws of Beta(a, a): G1 / (G1 + G2) from 2n Gamma(a) draws made on the host. */
function betas(n: number, a: number, seed: number): number[] {
  const g = randomGamma([2 * n], a, 1, 'float32', seed);
  // Drawn on the host: a GPU backend keeps the host copy, so no device read.
  const v = (g.hostValues() ?? g.dataSync()) as ArrayLike<number>;
  const out = Array.from({ length: n }, (_, i) => v[i] / (v[i] + v[n + i]));
  g.dispose();
  return out;
}

/** A layer that mixes images (and optionally their labels) within a batch while training. */
abstract class MixLayer extends RandomImageLayer {
  /** Splits the inputs into images and labels (checked), and whether labels were given. */
  protected inputsOf(inputs: Tensor | Tensor[]): { images: Tensor; single: boolean; labels: Tensor | null } {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== 1 && list.length !== 2)
      throw new ValueError(`${this.name}: expected images, or [images, labels]; received ${list.length} tensors`);
    const { images, single } = this.toBatch(list[0]);
    const labels = list[1] ?? null;
    if (labels) {
      if (!isFloat(labels.dtype))
        throw new DtypeError(
          `${this.name}: labels must be floating (one-hot or soft labels, e.g. st.oneHot(ids, classes)); received ${labels.dtype}`,
        );
      const n = single ? 1 : images.shape[0];
      if (labels.rank < 1 || (single ? labels.rank !== 1 : labels.shape[0] !== n))
        throw new ShapeError(
          `${this.name}: labels must have one row per image (${single ? '[classes] for one image' : `[${n}, ...]`}); received shape ${fmtShape(labels.shape)}`,
        );
    }
    return { images, single, labels };
  }

  /** The outputs in the form of the inputs. */
  protected outputs(images: Tensor, single: boolean, labels: Tensor | null): LayerOutput {
    const x = this.fromBatch(images, single);
    return labels ? [x, labels] : x;
  }

  /** m·a + (1 − m)·a[order] for per-row weights m, over the first axis of a (images or labels). */
  protected blend(a: Tensor, order: number[], m: number[]): Tensor {
    const w = tensor(m, [m.length, ...a.shape.slice(1).map(() => 1)], a.dtype);
    const other = gather(a, tensor(order, [order.length], 'int32'), 0);
    return add(mul(a, w), mul(other, sub(1, w)));
  }
}

/** Options of `st.layers.mixUp`. */
export interface MixUpArgs extends LayerArgs {
  /** The Beta(alpha, alpha) concentration of the mixing weights. Default 0.2. */
  alpha?: number;
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/**
 * MixUp (Keras 3.16's MixUp): while training, each image i becomes m_i·x_i + (1 − m_i)·x_p(i) with
 * p a random permutation of the batch and m_i ~ Beta(alpha, alpha), and its label likewise (one
 * image alone mixes with itself, so stays as it is).
 * Draws: a row (permutation key, Gamma seed) per image; the Betas from 2N Gamma draws.
 */
export class MixUp extends MixLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'MixUp';
  /** The Beta concentration. */
  readonly alpha: number;

  constructor(args: MixUpArgs = {}) {
    super(args as MixUpArgs & Record<string, unknown>, ['alpha']);
    const a = args.alpha ?? 0.2;
    if (typeof a !== 'number' || !Number.isFinite(a) || !(a > 0))
      throw new ValueError(`${this.name}: alpha must be a positive number; received ${fmtValue(args.alpha)}`);
    this.alpha = a;
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): LayerOutput {
    const { images, single, labels } = this.inputsOf(inputs);
    // One image can only mix with itself, which leaves it as it is.
    if (!options.training || single) return this.outputs(images, single, labels);
    const n = images.shape[0];
    const u = this.uniforms(n, 2);
    const order = permutation(Array.from({ length: n }, (_, i) => u[2 * i]));
    const m = betas(n, this.alpha, Math.floor(u[1] * 2 ** 31));
    return this.outputs(this.blend(images, order, m), single, labels ? this.blend(labels, order, m) : null);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), alpha: this.alpha, seed: this.seed };
  }
}

/** Options of `st.layers.cutMix`. */
export interface CutMixArgs extends LayerArgs {
  /** f or [lo, hi] in [0, 1]: the Beta concentration is drawn from [lo, hi] (f means [0, f]) once per batch. Default 1. */
  factor?: number | readonly [number, number];
  /** A seed for reproducible draws (each training call then takes the next seed); default: the global stream. */
  seed?: number | null;
}

/**
 * CutMix (Keras 3.16's CutMix): while training, a per-batch concentration a from `factor` (plus
 * 1e-6), then per image λ ~ Beta(a, a) and a box of sides √(1 − λ)·W by √(1 − λ)·H at a random
 * place (x0 = u·(W − w), y0 = v·(H − h)); the pixels with x0 ≤ x < x0 + w and y0 ≤ y < y0 + h
 * come from image p(i) of a random permutation, and the label becomes λ·y_i + (1 − λ)·y_p(i)
 * (1 − λ being the box's area over the image's, as Keras computes it). One image alone is left as
 * it is, as Keras does. Draws: a row (permutation key, u, v) per image, then one row (a, the
 * Gamma seed, unused).
 */
export class CutMix extends MixLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'CutMix';
  /** [lo, hi] of the Beta concentration. */
  readonly factor: [number, number];

  constructor(args: CutMixArgs = {}) {
    super(args as CutMixArgs & Record<string, unknown>, ['factor']);
    const f = args.factor ?? 1;
    let r: [number, number] | null = null;
    if (typeof f === 'number' && Number.isFinite(f)) r = [0, Math.abs(f)];
    else if (Array.isArray(f) && f.length === 2 && f.every((x) => typeof x === 'number' && Number.isFinite(x)))
      r = f[0] <= f[1] ? [f[0], f[1]] : [f[1], f[0]];
    if (!r || r[0] < 0 || r[1] > 1)
      throw new ValueError(`${this.name}: factor must be a number or a pair of numbers in [0, 1]; received ${fmtValue(args.factor)}`);
    this.factor = r;
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): LayerOutput {
    const { images, single, labels } = this.inputsOf(inputs);
    if (!options.training || single) return this.outputs(images, single, labels);
    const [n, h, w] = images.shape;
    const u = this.uniforms(n + 1, 3);
    const order = permutation(Array.from({ length: n }, (_, i) => u[3 * i]));
    const a = between(this.factor, u[3 * n]) + 1e-6;
    const lambda = betas(n, a, Math.floor(u[3 * n + 1] * 2 ** 31));
    const inBox = new Float64Array(n * h * w);
    const weights: number[] = [];
    for (let b = 0; b < n; b++) {
      const ratio = Math.sqrt(1 - lambda[b]);
      const bw = ratio * w,
        bh = ratio * h;
      const x0 = u[3 * b + 1] * (w - bw),
        y0 = u[3 * b + 2] * (h - bh);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (x >= x0 && x < x0 + bw && y >= y0 && y < y0 + bh) inBox[(b * h + y) * w + x] = 1;
      weights.push(1 - (bw * bh) / (w * h));
    }
    const mask = greater(tensor(inBox, [n, h, w, 1], images.dtype), 0);
    const other = gather(images, tensor(order, [n], 'int32'), 0);
    const mixed = where(mask, other, images);
    return this.outputs(mixed, single, labels ? this.blend(labels, order, weights) : null);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: this.factor, seed: this.seed };
  }
}

registerLayer('MixUp', (c) => new MixUp(c as MixUpArgs));
registerLayer('CutMix', (c) => new CutMix(c as CutMixArgs));
