// The pixel-moving layers of spatial.ts for sequences and volumes: UpSampling1D/3D, ZeroPadding1D/3D
// and Cropping1D/3D (Keras's). Sequences are [batch, steps, features]; volumes
// [batch, depth, height, width, channels] (or channels first).
import type { DType } from '../../core/dtype.js';
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { broadcastTo, pad, reshape, slice } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type CallOptions, Layer, type LayerArgs, singleShape } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { requireRank } from './conv-options.js';

/**
 * Where the channels are: last (the default) or right after the batch axis (Keras's data_format).
 * @inline
 */
export type VolumeDataFormat = 'channelsLast' | 'channelsFirst';

/**
 * Per-side amounts for n axes, as Keras writes them: k (every side), [a, b, ...] (both sides of
 * each axis) or [[a1, a2], [b1, b2], ...].
 * @inline
 */
export type AxisPairs = number | readonly number[] | readonly (readonly [number, number])[];

/** Parses n per-side pairs of non-negative integers. */
function axisPairs(layer: string, name: string, v: AxisPairs | undefined, n: number, fallback: number): [number, number][] {
  let out: [number, number][] | null = null;
  if (v === undefined) out = Array.from({ length: n }, () => [fallback, fallback]);
  else if (typeof v === 'number') out = Array.from({ length: n }, () => [v, v]);
  else if (Array.isArray(v) && v.length === n && v.every((e) => typeof e === 'number')) out = (v as number[]).map((e) => [e, e]);
  else if (Array.isArray(v) && v.length === n && v.every((e) => Array.isArray(e) && e.length === 2))
    out = (v as [number, number][]).map(([a, b]) => [a, b]);
  if (!out || out.flat().some((x) => !Number.isInteger(x) || x < 0)) {
    const forms = n === 1 ? 'k or [start, end]' : `k, a list of ${n} or a list of ${n} [before, after] pairs`;
    throw new ValueError(`${layer}: ${name} must be non-negative integers: ${forms}; received ${fmtValue(v)}`);
  }
  return out;
}

/** The 1-D form of axisPairs: k or [start, end] (Keras's (start, end) for one axis). */
const pair1d = (layer: string, name: string, v: number | readonly [number, number] | undefined, fallback: number): [number, number] => {
  if (Array.isArray(v) && v.length === 2 && v.every((e) => typeof e === 'number'))
    return axisPairs(layer, name, [v as [number, number]], 1, fallback)[0];
  return axisPairs(layer, name, v as number | undefined, 1, fallback)[0];
};

/** Parses n positive integer factors: k or [a, b, ...]. */
function factors(layer: string, name: string, v: number | readonly number[] | undefined, n: number, fallback: number): number[] {
  const out =
    v === undefined ? Array(n).fill(fallback) : typeof v === 'number' ? Array(n).fill(v) : Array.isArray(v) && v.length === n ? [...v] : null;
  if (!out || out.some((x) => !Number.isInteger(x) || x < 1)) {
    throw new ValueError(`${layer}: ${name} must be a positive integer or a list of ${n}; received ${fmtValue(v)}`);
  }
  return out;
}

/** The shared plumbing: which axes are spatial, rank checks, dtype kept. */
abstract class AxisLayer extends Layer {
  /** 'channelsLast' or 'channelsFirst' (sequences are always channels last). */
  readonly dataFormat: VolumeDataFormat;
  protected abstract readonly spatialRank: 1 | 3;

  protected constructor(args: LayerArgs & { dataFormat?: VolumeDataFormat } & Record<string, unknown>, ownKeys: string[], volume: boolean) {
    super(args, [...ownKeys, ...(volume ? ['dataFormat'] : [])]);
    this.dataFormat = checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast', 'channelsFirst'] as const);
  }

  /** The indices of the spatial axes. */
  protected spatialAxes(): number[] {
    const first = this.dataFormat === 'channelsLast' ? 1 : 2;
    return Array.from({ length: this.spatialRank }, (_, i) => first + i);
  }

  protected checked(shape: Shape): Shape {
    const layout =
      this.spatialRank === 1
        ? '[batch, steps, features]'
        : this.dataFormat === 'channelsLast'
          ? '[batch, depth, height, width, channels]'
          : '[batch, channels, depth, height, width]';
    return requireRank(this.name, shape, this.spatialRank + 2, layout);
  }

  protected override computeOutputDtype(inputDtypes: DType[]): DType {
    return inputDtypes[0];
  }

  /** The output size of spatial axis k for an input size n (null stays null). */
  protected abstract outSize(n: number, k: number, shape: Shape): number;

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = this.checked(singleShape(this.name, inputShape));
    const axes = this.spatialAxes();
    return s.map((d, i) => {
      const k = axes.indexOf(i);
      return k < 0 || d === null ? d : this.outSize(d, k, s);
    });
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return this.spatialRank === 1 ? super.getConfig() : { ...super.getConfig(), dataFormat: this.dataFormat };
  }
}

/** Repeats every step (or voxel) `size` times along each spatial axis: nearest-neighbour upsampling. */
abstract class UpSampling extends AxisLayer {
  protected abstract readonly factors: number[];
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const shape = this.checked(x.shape) as number[];
    const axes = this.spatialAxes();
    // Each spatial axis gets a new axis of size `factor` after it, filled by a broadcast (whose
    // gradient sums each block back), then merged into it.
    const split: number[] = [],
      blown: number[] = [];
    shape.forEach((d, i) => {
      split.push(d);
      blown.push(d);
      const k = axes.indexOf(i);
      if (k >= 0) {
        split.push(1);
        blown.push(this.factors[k]);
      }
    });
    return reshape(broadcastTo(reshape(x, split), blown), this.computeOutputShape(shape) as number[]);
  }
  protected outSize(n: number, k: number): number {
    return n * this.factors[k];
  }
}

/** Options of `st.layers.upSampling1d`. */
export interface UpSampling1dArgs extends LayerArgs {
  /** How many times each step is repeated; default 2. */
  size?: number;
}

/** Repeats each time step `size` times (Keras's UpSampling1D). */
export class UpSampling1D extends UpSampling {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'UpSampling1D';
  protected readonly spatialRank = 1;
  /** The repetition factor. */
  readonly size: number;
  protected readonly factors: number[];
  constructor(args: UpSampling1dArgs = {}) {
    super(args as UpSampling1dArgs & Record<string, unknown>, ['size'], false);
    this.size = factors(this.name, 'size', args.size, 1, 2)[0];
    this.factors = [this.size];
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: this.size };
  }
}

/** Options of `st.layers.upSampling3d`. */
export interface UpSampling3dArgs extends LayerArgs {
  /** The factors for depth, height and width (or one for all); default 2. */
  size?: number | readonly [number, number, number];
  /** 'channelsLast' (default) or 'channelsFirst'. */
  dataFormat?: VolumeDataFormat;
}

/** Repeats each voxel along depth, height and width (Keras's UpSampling3D, nearest). */
export class UpSampling3D extends UpSampling {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'UpSampling3D';
  protected readonly spatialRank = 3;
  /** The factors for depth, height and width. */
  readonly size: [number, number, number];
  protected readonly factors: number[];
  constructor(args: UpSampling3dArgs = {}) {
    super(args as UpSampling3dArgs & Record<string, unknown>, ['size'], true);
    this.factors = factors(this.name, 'size', args.size, 3, 2);
    this.size = this.factors as [number, number, number];
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: this.size };
  }
}

/** Zeros added before and after each spatial axis. */
abstract class ZeroPadding extends AxisLayer {
  /** [before, after] per spatial axis. */
  protected abstract readonly pairs: [number, number][];
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const axes = this.spatialAxes();
    return pad(
      x,
      this.checked(x.shape).map((_, i) => (axes.includes(i) ? this.pairs[axes.indexOf(i)] : [0, 0])),
    );
  }
  protected outSize(n: number, k: number): number {
    return n + this.pairs[k][0] + this.pairs[k][1];
  }
}

/** Options of `st.layers.zeroPadding1d`. */
export interface ZeroPadding1dArgs extends LayerArgs {
  /** k (both ends) or [start, end] steps of zeros; default 1. */
  padding?: number | readonly [number, number];
}

/** Adds steps of zeros at the start and end of each sequence (Keras's ZeroPadding1D). */
export class ZeroPadding1D extends ZeroPadding {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'ZeroPadding1D';
  protected readonly spatialRank = 1;
  /** Steps added: [start, end]. */
  readonly padding: [number, number];
  protected readonly pairs: [number, number][];
  constructor(args: ZeroPadding1dArgs = {}) {
    super(args as ZeroPadding1dArgs & Record<string, unknown>, ['padding'], false);
    this.padding = pair1d(this.name, 'padding', args.padding, 1);
    this.pairs = [this.padding];
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding };
  }
}

/** Options of `st.layers.zeroPadding3d`. */
export interface ZeroPadding3dArgs extends LayerArgs {
  /** k, [d, h, w] (both sides) or [[front, back], [top, bottom], [left, right]]; default 1. */
  padding?: AxisPairs;
  /** 'channelsLast' (default) or 'channelsFirst'. */
  dataFormat?: VolumeDataFormat;
}

/** Adds zeros around each volume (Keras's ZeroPadding3D). */
export class ZeroPadding3D extends ZeroPadding {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'ZeroPadding3D';
  protected readonly spatialRank = 3;
  /** [[front, back], [top, bottom], [left, right]]. */
  readonly padding: [number, number][];
  protected readonly pairs: [number, number][];
  constructor(args: ZeroPadding3dArgs = {}) {
    super(args as ZeroPadding3dArgs & Record<string, unknown>, ['padding'], true);
    this.padding = axisPairs(this.name, 'padding', args.padding, 3, 1);
    this.pairs = this.padding;
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding };
  }
}

/** Steps (or voxels) removed from both ends of each spatial axis. */
abstract class Cropping extends AxisLayer {
  /** [before, after] per spatial axis. */
  protected abstract readonly pairs: [number, number][];
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const out = this.computeOutputShape(x.shape) as number[];
    const axes = this.spatialAxes();
    return slice(
      x,
      out.map((_, i) => (axes.includes(i) ? this.pairs[axes.indexOf(i)][0] : 0)),
      out,
    );
  }
  protected outSize(n: number, k: number, shape: Shape): number {
    const left = n - this.pairs[k][0] - this.pairs[k][1];
    if (left < 1) {
      throw new ShapeError(
        `${this.name}: cropping ${fmtValue(this.pairs.length === 1 ? this.pairs[0] : this.pairs)} removes every step of inputs of shape ${formatShape(shape)}`,
      );
    }
    return left;
  }
}

/** Options of `st.layers.cropping1d`. */
export interface Cropping1dArgs extends LayerArgs {
  /** k (both ends) or [start, end] steps removed; default [1, 1] (Keras's). */
  cropping?: number | readonly [number, number];
}

/** Removes steps from the start and end of each sequence (Keras's Cropping1D). */
export class Cropping1D extends Cropping {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Cropping1D';
  protected readonly spatialRank = 1;
  /** Steps removed: [start, end]. */
  readonly cropping: [number, number];
  protected readonly pairs: [number, number][];
  constructor(args: Cropping1dArgs = {}) {
    super(args as Cropping1dArgs & Record<string, unknown>, ['cropping'], false);
    this.cropping = pair1d(this.name, 'cropping', args.cropping, 1);
    this.pairs = [this.cropping];
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cropping: this.cropping };
  }
}

/** Options of `st.layers.cropping3d`. */
export interface Cropping3dArgs extends LayerArgs {
  /** k, [d, h, w] (both sides) or [[front, back], [top, bottom], [left, right]]; default 1 each side. */
  cropping?: AxisPairs;
  /** 'channelsLast' (default) or 'channelsFirst'. */
  dataFormat?: VolumeDataFormat;
}

/** Removes voxels from the sides of each volume (Keras's Cropping3D). */
export class Cropping3D extends Cropping {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Cropping3D';
  protected readonly spatialRank = 3;
  /** [[front, back], [top, bottom], [left, right]]. */
  readonly cropping: [number, number][];
  protected readonly pairs: [number, number][];
  constructor(args: Cropping3dArgs = {}) {
    super(args as Cropping3dArgs & Record<string, unknown>, ['cropping'], true);
    this.cropping = axisPairs(this.name, 'cropping', args.cropping, 3, 1);
    this.pairs = this.cropping;
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cropping: this.cropping };
  }
}

registerLayer('UpSampling1D', (c) => new UpSampling1D(c as UpSampling1dArgs));
registerLayer('UpSampling3D', (c) => new UpSampling3D(c as UpSampling3dArgs));
registerLayer('ZeroPadding1D', (c) => new ZeroPadding1D(c as ZeroPadding1dArgs));
registerLayer('ZeroPadding3D', (c) => new ZeroPadding3D(c as ZeroPadding3dArgs));
registerLayer('Cropping1D', (c) => new Cropping1D(c as Cropping1dArgs));
registerLayer('Cropping3D', (c) => new Cropping3D(c as Cropping3dArgs));
