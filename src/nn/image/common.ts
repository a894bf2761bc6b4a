// What every st.image function shares: turning an image or a batch into NHWC float, and the
// tap-table sampler for maps that are not separable (crops of boxes, projective transforms).
//
// The tap table is the technique of Note [Sampling by gather] in ../image-sampling.ts: the host
// computes, per output pixel, which input pixels it reads and with which weights; the pixels
// stay on the backend (one gather of rows of the image viewed as [N·H·W, C], a multiply and a
// sum over the taps), so the functions run on every backend and gradients reach the image
// through gather's rule. The layers' sampler there fixes the output to the input's shape and
// maps each neighbour by Keras's fill modes; TensorFlow's image functions choose their output
// size and map the continuous coordinate before interpolating, so they fill their own tables.

import type { DType } from '../../core/dtype.js';
import { isFloat } from '../../core/dtype.js';
import { DtypeError, ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { add, cast, mul } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduction.js';
import { gather, reshape, transpose } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import { Tensor } from '../../tensor/tensor.js';

/** A batch of NHWC images and whether the caller gave one image (rank 3) to be returned as one. */
export interface Batch {
  images: Tensor;
  single: boolean;
}

/** Takes [H, W, C] or [N, H, W, C] images; integer images are cast to float32 (TF samples in float). */
export function toBatch(op: string, input: TensorInput, name = 'images'): Batch {
  const x = asTensor(op, name, input);
  if (x.rank !== 3 && x.rank !== 4)
    throw new ShapeError(
      `${op}: ${name} must have rank 3 ([height, width, channels]) or 4 ([batch, height, width, channels]); received shape ${fmtShape(x.shape)}`,
    );
  const images = isFloat(x.dtype) ? x : cast(x, 'float32');
  return { images: x.rank === 3 ? reshape(images, [1, ...x.shape]) : images, single: x.rank === 3 };
}

/** Undoes toBatch's added batch axis. */
export function fromBatch(x: Tensor, single: boolean): Tensor {
  return single ? reshape(x, x.shape.slice(1)) : x;
}

/** Channels-last images from Keras's data_format ('channels_last' default, or 'channels_first'). */
export type ImageDataFormat = 'channels_last' | 'channels_first';

/** A [height, width] pair of positive integers. */
export function sizePair(op: string, name: string, v: unknown): [number, number] {
  const ok = Array.isArray(v) && v.length === 2 && v.every((s) => Number.isInteger(s) && s > 0);
  if (!ok) throw new ValueError(`${op}: ${name} must be [height, width] of positive integers; received ${fmtValue(v)}`);
  return [v[0], v[1]];
}

/** A nested-array argument read without making a tensor (so it works on backends without synchronous reads). */
function hostArray(v: TensorInput): { values: Float64Array; shape: number[] } | null {
  if (v instanceof Tensor || !Array.isArray(v)) return null;
  const shape: number[] = [];
  for (let level: unknown = v; Array.isArray(level); level = level[0]) shape.push(level.length);
  const values = (v as unknown[]).flat(shape.length) as unknown[];
  if (values.length !== shape.reduce((a, b) => a * b, 1) || values.some((x) => typeof x !== 'number')) return null;
  return { values: Float64Array.from(values as number[]), shape };
}

/**
 * Host values of a small argument (boxes, transforms) of shape [n, width], as float64: nested
 * arrays are read directly, tensors with a synchronous read (a CPU backend).
 */
export function hostValues(op: string, name: string, v: TensorInput, width: number): { values: Float64Array; rows: number } {
  const direct = hostArray(v);
  const shape = direct ? direct.shape : asTensor(op, name, v).shape;
  if (shape.length !== 2 || shape[1] !== width) throw new ShapeError(`${op}: ${name} must have shape [n, ${width}]; received ${fmtShape(shape)}`);
  return { values: direct ? direct.values : Float64Array.from(asTensor(op, name, v).dataSync()), rows: shape[0] };
}

/** The integer values of a small 1-D argument (box indices), read on the host. */
export function hostInts(op: string, name: string, v: TensorInput, length: number): Int32Array {
  const direct = hostArray(v);
  const t = direct ? null : asTensor(op, name, v);
  const shape = direct ? direct.shape : t!.shape;
  if (shape.length !== 1 || shape[0] !== length) throw new ShapeError(`${op}: ${name} must have shape [${length}]; received ${fmtShape(shape)}`);
  if (t && isFloat(t.dtype)) throw new DtypeError(`${op}: ${name} must be int32; received ${t.dtype}`);
  const values = direct ? direct.values : t!.dataSync();
  if (direct && !direct.values.every(Number.isInteger)) throw new DtypeError(`${op}: ${name} must hold integers; received ${fmtValue(v)}`);
  return Int32Array.from(values);
}

/**
 * The index and weight tables of a resampling from images [N, H, W, C] onto `pixels` output
 * pixels with `taps` reads each. Tap k of output pixel p lives at k·pixels + p.
 */
export class TapTable {
  readonly rows: Int32Array;
  readonly weights: Float64Array;
  /** Per output pixel, the weight given to the fill value (taps outside the image). */
  readonly fill: Float64Array;
  constructor(
    readonly taps: number,
    readonly pixels: number,
    private readonly h: number,
    private readonly w: number,
  ) {
    this.rows = new Int32Array(taps * pixels);
    this.weights = new Float64Array(taps * pixels);
    this.fill = new Float64Array(pixels);
  }

  /** Tap k of output pixel p reads pixel (y, x) of image b, or the fill value outside the image. */
  put(k: number, p: number, b: number, y: number, x: number, weight: number): void {
    const at = k * this.pixels + p;
    if (y < 0 || y >= this.h || x < 0 || x >= this.w) {
      this.rows[at] = b * this.h * this.w; // any valid row: its weight stays 0
      this.fill[p] += weight;
    } else {
      this.rows[at] = (b * this.h + y) * this.w + x;
      this.weights[at] = weight;
    }
  }

  /** Tap k of output pixel p reads flat row `row` of the input, or the fill value when row < 0. */
  putRow(k: number, p: number, row: number, weight: number): void {
    const at = k * this.pixels + p;
    if (row < 0) this.fill[p] += weight;
    else {
      this.rows[at] = row;
      this.weights[at] = weight;
    }
  }

  /** The whole output pixel p is the fill value. */
  putFill(p: number): void {
    this.fill[p] = 1;
  }

  /**
   * Samples images [N, H, W, C] through the table into `outShape` ([M, outH, outW, C]); the fill
   * value is one number or one per channel.
   */
  sample(images: Tensor, outShape: readonly number[], fillValue: number | readonly number[]): Tensor {
    const [n, h, w, c] = images.shape;
    const flat = reshape(images, [n * h * w, c]);
    const taken = reshape(gather(flat, tensor(this.rows, [this.rows.length], 'int32')), [this.taps, this.pixels, c]);
    let out = sum(mul(taken, tensor(this.weights, [this.taps, this.pixels, 1], images.dtype)), 0);
    const perChannel = typeof fillValue === 'number' ? new Array<number>(c).fill(fillValue) : fillValue;
    if (perChannel.some((v) => v !== 0) && this.fill.some((v) => v !== 0)) {
      out = add(out, mul(tensor(this.fill, [this.pixels, 1], images.dtype), tensor([...perChannel], [1, c], images.dtype)));
    }
    return reshape(out, outShape);
  }
}

/** The float dtype results take for inputs of `dtype`. */
export const floatOf = (dtype: DType): DType => (isFloat(dtype) ? dtype : 'float32');

/** Channels-first images ([C, H, W] or [N, C, H, W]) as channels-last. */
export function toLast(op: string, images: TensorInput): Tensor {
  const x = asTensor(op, 'images', images);
  if (x.rank !== 3 && x.rank !== 4) throw new ShapeError(`${op}: images must have rank 3 or 4; received shape ${fmtShape(x.shape)}`);
  return x.rank === 3 ? transpose(x, [1, 2, 0]) : transpose(x, [0, 2, 3, 1]);
}

/** Channels-last images as channels-first. */
export function toFirst(x: Tensor): Tensor {
  return x.rank === 3 ? transpose(x, [2, 0, 1]) : transpose(x, [0, 3, 1, 2]);
}

/** Keras's data_format option, checked. */
export function dataFormatOf(op: string, v: unknown): ImageDataFormat {
  if (v === undefined) return 'channels_last';
  if (v !== 'channels_last' && v !== 'channels_first')
    throw new ValueError(`${op}: dataFormat must be 'channels_last' or 'channels_first'; received ${fmtValue(v)}`);
  return v;
}
