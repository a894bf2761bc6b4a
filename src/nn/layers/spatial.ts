// Layers that move pixels without weights: UpSampling2D, ZeroPadding2D, Cropping2D (NHWC).
import { ShapeError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { pair } from '../../ops/conv-geometry.js';
import { add, mul, sub } from '../../ops/elementwise.js';
import { broadcastTo, gather, pad, reshape, slice } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import type { IntPair } from './conv.js';
import { floatingLike, requireRank, sidePairs, type SidePairs } from './conv-options.js';

const LAYOUT = '[batch, height, width, channels]';
const rank4 = (layer: string, s: Shape | Shape[]) => requireRank(layer, singleShape(layer, s), 4, LAYOUT);
const times = (n: number | null, k: number) => (n === null ? null : n * k);

/** @inline */
export type UpSamplingInterpolation = 'nearest' | 'bilinear';

/** Options of `st.layers.upSampling2d`. */
export interface UpSampling2dArgs extends LayerArgs {
  /** The factor for rows and columns; default 2. */
  size?: IntPair;
  /** 'nearest' (default: repeat rows and columns) or 'bilinear'. */
  interpolation?: UpSamplingInterpolation;
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
}

/**
 * Bilinear resize of one spatial axis to `outLen`, as TensorFlow's resize with half-pixel
 * centers (what Keras's UpSampling2D uses): output i samples the input at
 * (i + 0.5) * in / out - 0.5, between its floor and ceil clamped to the image. Two gathers and a
 * lerp, so the gradient is gather's (a scatter-add) with no code of its own.
 */
export function resizeAxisBilinear(x: Tensor, axis: 1 | 2, outLen: number): Tensor {
  const inLen = x.shape[axis],
    scale = inLen / outLen;
  const lo = new Int32Array(outLen),
    hi = new Int32Array(outLen),
    frac = new Float64Array(outLen);
  for (let i = 0; i < outLen; i++) {
    const src = (i + 0.5) * scale - 0.5,
      base = Math.floor(src);
    lo[i] = Math.max(base, 0);
    hi[i] = Math.min(Math.ceil(src), inLen - 1);
    frac[i] = src - base;
  }
  const shape = axis === 1 ? [1, outLen, 1, 1] : [1, 1, outLen, 1];
  const weight = tensor(frac, shape, x.dtype);
  const a = gather(x, tensor(lo, [outLen], 'int32'), axis),
    b = gather(x, tensor(hi, [outLen], 'int32'), axis);
  return add(a, mul(sub(b, a), weight));
}

/** Repeats rows and columns by `size` (nearest) or resizes bilinearly by that factor. */
export class UpSampling2D extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'UpSampling2D';
  /** The factors for rows and columns. */
  readonly size: [number, number];
  /** 'nearest' or 'bilinear'. */
  readonly interpolation: UpSamplingInterpolation;

  constructor(args: UpSampling2dArgs = {}) {
    super(args as UpSampling2dArgs & Record<string, unknown>, ['size', 'interpolation', 'dataFormat']);
    this.size = pair(this.name, 'size', args.size, 2);
    this.interpolation = checkOneOf(this.name, 'interpolation', args.interpolation ?? 'nearest', ['nearest', 'bilinear'] as const);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.dtype);
    const [n, h, w, c] = x.shape,
      [sh, sw] = this.size;
    if (this.interpolation === 'bilinear') return resizeAxisBilinear(resizeAxisBilinear(x, 1, h * sh), 2, w * sw);
    // Nearest: each pixel broadcast to an sh x sw block (broadcast's gradient sums the block back).
    const blocks = broadcastTo(reshape(x, [n, h, 1, w, 1, c]), [n, h, sh, w, sw, c]);
    return reshape(blocks, [n, h * sh, w * sw, c]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = rank4(this.name, inputShape);
    return [n, times(h, this.size[0]), times(w, this.size[1]), c];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: this.size, interpolation: this.interpolation };
  }
}

/** Options of `st.layers.zeroPadding2d`. */
export interface ZeroPadding2dArgs extends LayerArgs {
  /** n, [rows, cols] (both sides) or [[top, bottom], [left, right]]; default 1. */
  padding?: SidePairs;
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
}

/** Adds rows and columns of zeros around each image. */
export class ZeroPadding2D extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'ZeroPadding2D';
  /** Rows and columns added: [[top, bottom], [left, right]]. */
  readonly padding: [[number, number], [number, number]];

  constructor(args: ZeroPadding2dArgs = {}) {
    super(args as ZeroPadding2dArgs & Record<string, unknown>, ['padding', 'dataFormat']);
    this.padding = sidePairs(this.name, 'padding', args.padding, 1);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return pad(inputs as Tensor, [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = rank4(this.name, inputShape);
    const [[t, b], [l, r]] = this.padding;
    return [n, h === null ? null : h + t + b, w === null ? null : w + l + r, c];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding };
  }
}

/** Options of `st.layers.cropping2d`. */
export interface Cropping2dArgs extends LayerArgs {
  /** n, [rows, cols] (both sides) or [[top, bottom], [left, right]]; default 0. */
  cropping?: SidePairs;
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
}

/** Removes rows and columns from the edges of each image. */
export class Cropping2D extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Cropping2D';
  /** Rows and columns removed: [[top, bottom], [left, right]]. */
  readonly cropping: [[number, number], [number, number]];

  constructor(args: Cropping2dArgs = {}) {
    super(args as Cropping2dArgs & Record<string, unknown>, ['cropping', 'dataFormat']);
    this.cropping = sidePairs(this.name, 'cropping', args.cropping, 0);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const [n, h, w, c] = this.computeOutputShape(x.shape) as number[];
    return slice(x, [0, this.cropping[0][0], this.cropping[1][0], 0], [n, h, w, c]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = rank4(this.name, inputShape);
    const [n, h, w, c] = shape;
    const [[t, b], [l, r]] = this.cropping;
    const keep = (len: number | null, cut: number) => {
      if (len === null) return null;
      if (len - cut < 1)
        throw new ShapeError(`${this.name}: cropping ${fmtValue(this.cropping)} removes every pixel of inputs of shape ${formatShape(shape)}`);
      return len - cut;
    };
    return [n, keep(h, t + b), keep(w, l + r), c];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cropping: this.cropping };
  }
}

registerLayer('UpSampling2D', (c) => new UpSampling2D(c as UpSampling2dArgs));
registerLayer('ZeroPadding2D', (c) => new ZeroPadding2D(c as ZeroPadding2dArgs));
registerLayer('Cropping2D', (c) => new Cropping2D(c as Cropping2dArgs));
