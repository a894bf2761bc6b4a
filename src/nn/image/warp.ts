// Keras 3's perspective_transform and map_coordinates: resampling at host-computed coordinates
// through the tap table of ./common.ts, with Keras's rule for samples outside the input (each
// integer neighbour mapped by the fill mode, as its JAX and NumPy backends do).

import { ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { checkKeys, checkOneOf } from '../../core/options.js';
import { isFloat } from '../../core/dtype.js';
import { cast } from '../../ops/elementwise.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { INTERPOLATIONS, fillIndex, roundHalfEven, type Interpolation } from '../image-sampling.js';
import { TapTable, dataFormatOf, fromBatch, toBatch, toFirst, toLast, type ImageDataFormat } from './common.js';

/** Solves the n x n system A x = b (row-major A) by Gaussian elimination with partial pivoting. */
function solve(a: number[], b: number[], n: number): number[] {
  const m = a.slice(),
    v = b.slice();
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]) > Math.abs(m[pivot * n + col])) pivot = r;
    if (Math.abs(m[pivot * n + col]) < 1e-12)
      throw new ValueError('image.perspectiveTransform: the four point pairs do not define a homography (three of them are collinear)');
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [m[col * n + k], m[pivot * n + k]] = [m[pivot * n + k], m[col * n + k]];
      [v[col], v[pivot]] = [v[pivot], v[col]];
    }
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col] / m[col * n + col];
      if (f === 0) continue;
      for (let k = col; k < n; k++) m[r * n + k] -= f * m[col * n + k];
      v[r] -= f * v[col];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let acc = v[r];
    for (let k = r + 1; k < n; k++) acc -= m[r * n + k] * x[k];
    x[r] = acc / m[r * n + r];
  }
  return x;
}

/**
 * The projective map [a0..a7] taking each end point (x, y) to its start point: x_start =
 * (a0x + a1y + a2)/(a6x + a7y + 1), y_start likewise with a3..a5 (Keras's compute_homography_matrix).
 */
export function homography(start: readonly (readonly number[])[], end: readonly (readonly number[])[]): number[] {
  const a: number[] = [],
    b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [sx, sy] = start[i],
      [ex, ey] = end[i];
    a.push(ex, ey, 1, 0, 0, 0, -sx * ex, -sx * ey);
    b.push(sx);
    a.push(0, 0, 0, ex, ey, 1, -sy * ex, -sy * ey);
    b.push(sy);
  }
  return solve(a, b, 8);
}

/** Point sets as [N][4][2] host arrays from [4, 2] or [N, 4, 2]. */
function pointSets(op: string, name: string, v: TensorInput): number[][][] {
  const t = asTensor(op, name, v);
  const ok = (t.rank === 2 || t.rank === 3) && t.shape[t.rank - 2] === 4 && t.shape[t.rank - 1] === 2;
  if (!ok) throw new ShapeError(`${op}: ${name} must have shape [4, 2] or [N, 4, 2] ((x, y) corners); received ${fmtShape(t.shape)}`);
  const flat = Array.isArray(v) ? ((v as unknown[]).flat(2) as number[]) : Array.from(t.dataSync());
  const sets: number[][][] = [];
  for (let s = 0; s < flat.length / 8; s++) sets.push([0, 1, 2, 3].map((k) => [flat[8 * s + 2 * k], flat[8 * s + 2 * k + 1]]));
  return sets;
}

/** Options of `st.image.perspectiveTransform`. */
export interface PerspectiveTransformOptions {
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** The value of pixels that come from outside the image (default 0). */
  fillValue?: number;
  /** 'channels_last' (default) or 'channels_first'. */
  dataFormat?: ImageDataFormat;
}

/**
 * Warps images so that the four `startPoints` (x, y) land on the four `endPoints` (Keras 3's
 * `perspective_transform`): the homography taking end to start is solved on the host and each
 * output pixel samples its source, neighbours outside the image reading `fillValue`. Points are
 * [4, 2] (shared) or [N, 4, 2]. Differentiable with respect to the images.
 */
export function perspectiveTransform(
  images: TensorInput,
  startPoints: TensorInput,
  endPoints: TensorInput,
  options: PerspectiveTransformOptions = {},
): Tensor {
  const op = 'image.perspectiveTransform';
  checkKeys(op, options, ['interpolation', 'fillValue', 'dataFormat']);
  const interpolation = checkOneOf(op, 'interpolation', options.interpolation ?? 'bilinear', INTERPOLATIONS);
  const fillValue = options.fillValue ?? 0;
  if (typeof fillValue !== 'number') throw new ValueError(`${op}: fillValue must be a number; received ${fmtValue(fillValue)}`);
  const format = dataFormatOf(op, options.dataFormat);
  const { images: x, single } = toBatch(op, format === 'channels_first' ? toLast(op, images) : images);
  const [n, h, w, c] = x.shape;
  const starts = pointSets(op, 'startPoints', startPoints),
    ends = pointSets(op, 'endPoints', endPoints);
  if (starts.length !== ends.length)
    throw new ShapeError(`${op}: startPoints and endPoints must have the same shape; received ${starts.length} and ${ends.length} sets`);
  if (starts.length !== 1 && starts.length !== n)
    throw new ShapeError(`${op}: expected 1 or ${n} point sets (one per image); received ${starts.length}`);
  const maps = starts.map((s, k) => homography(s, ends[k]));
  const bilinear = interpolation === 'bilinear';
  const table = new TapTable(bilinear ? 4 : 1, n * h * w, h, w);
  for (let b = 0; b < n; b++) {
    const [a0, a1, a2, a3, a4, a5, a6, a7] = maps[maps.length === 1 ? 0 : b];
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const p = (b * h + i) * w + j;
        const k = a6 * j + a7 * i + 1;
        const sx = (a0 * j + a1 * i + a2) / k,
          sy = (a3 * j + a4 * i + a5) / k;
        if (!Number.isFinite(sx) || !Number.isFinite(sy)) {
          table.putFill(p);
        } else if (!bilinear) {
          table.put(0, p, b, roundHalfEven(sy), roundHalfEven(sx), 1);
        } else {
          const y0 = Math.floor(sy),
            x0 = Math.floor(sx);
          const fy = sy - y0,
            fx = sx - x0;
          table.put(0, p, b, y0, x0, (1 - fy) * (1 - fx));
          table.put(1, p, b, y0, x0 + 1, (1 - fy) * fx);
          table.put(2, p, b, y0 + 1, x0, fy * (1 - fx));
          table.put(3, p, b, y0 + 1, x0 + 1, fy * fx);
        }
      }
    }
  }
  const out = fromBatch(table.sample(x, [n, h, w, c], fillValue), single);
  return format === 'channels_first' ? toFirst(out) : out;
}

/** Keras's map_coordinates fill modes: the layers' four plus 'mirror'. */
export type CoordinateFillMode = 'constant' | 'nearest' | 'wrap' | 'mirror' | 'reflect';
export const COORDINATE_FILL_MODES: readonly CoordinateFillMode[] = ['constant', 'nearest', 'wrap', 'mirror', 'reflect'];

/** Index i along an axis of `size` under a fill mode; −1 means the fill value. */
export function coordinateIndex(i: number, size: number, mode: CoordinateFillMode): number {
  if (mode !== 'mirror') return fillIndex(i, size, mode);
  if (i >= 0 && i < size) return i;
  // 'mirror' (d c b | a b c d | c b a): reflect about the edge pixels' centres, period 2(size − 1).
  if (size === 1) return 0;
  const period = 2 * (size - 1);
  const m = ((i % period) + period) % period;
  return m < size ? m : period - m;
}

/** Options of `st.image.mapCoordinates`. */
export interface MapCoordinatesOptions {
  /** 'constant' (default), 'nearest', 'wrap', 'mirror' or 'reflect'. */
  fillMode?: CoordinateFillMode;
  /** The value of samples outside with 'constant' (default 0). */
  fillValue?: number;
}

/**
 * Samples `inputs` (any rank r) at `coordinates` [r, ...outShape] with order 0 (nearest,
 * rounding half to even) or 1 (multilinear) (Keras 3's `map_coordinates`, after
 * scipy.ndimage's); neighbours outside follow the fill mode. Returns outShape. Differentiable
 * with respect to the inputs; the coordinates are read on the host (arrays, or tensors on a CPU
 * backend) and get no gradient.
 */
export function mapCoordinates(inputs: TensorInput, coordinates: TensorInput, order: 0 | 1, options: MapCoordinatesOptions = {}): Tensor {
  const op = 'image.mapCoordinates';
  checkKeys(op, options, ['fillMode', 'fillValue']);
  const fillMode = checkOneOf(op, 'fillMode', options.fillMode ?? 'constant', COORDINATE_FILL_MODES);
  const fillValue = options.fillValue ?? 0;
  if (typeof fillValue !== 'number') throw new ValueError(`${op}: fillValue must be a number; received ${fmtValue(fillValue)}`);
  if (order !== 0 && order !== 1) throw new ValueError(`${op}: order must be 0 or 1; received ${fmtValue(order)}`);
  const given = asTensor(op, 'inputs', inputs);
  const x = isFloat(given.dtype) ? given : cast(given, 'float32');
  const coords = asTensor(op, 'coordinates', coordinates);
  const r = x.rank;
  if (coords.rank < 2 || coords.shape[0] !== r)
    throw new ShapeError(
      `${op}: coordinates must have shape [${r}, ...] (one row per axis of inputs ${fmtShape(x.shape)}); received ${fmtShape(coords.shape)}`,
    );
  const outShape = coords.shape.slice(1);
  const count = outShape.reduce((a, b) => a * b, 1);
  const values = Array.isArray(coordinates) ? ((coordinates as unknown[]).flat(Infinity) as number[]) : Array.from(coords.dataSync());
  const strides = x.shape.map((_, a) => x.shape.slice(a + 1).reduce((p, q) => p * q, 1));
  const taps = order === 1 ? 2 ** r : 1;
  const table = new TapTable(taps, count, 1, 1);
  for (let p = 0; p < count; p++) {
    for (let t = 0; t < taps; t++) {
      let row = 0,
        weight = 1;
      for (let a = 0; a < r; a++) {
        const v = values[a * count + p];
        let i: number;
        if (order === 0) i = roundHalfEven(v);
        else {
          const lo = Math.floor(v),
            f = v - lo;
          const upper = (t >> (r - 1 - a)) & 1;
          i = lo + upper;
          weight *= upper ? f : 1 - f;
        }
        const k = coordinateIndex(i, x.shape[a], fillMode);
        row = k < 0 || row < 0 ? -1 : row + k * strides[a];
      }
      table.putRow(t, p, row, weight);
    }
  }
  const flat = reshape(x, [x.size, 1]);
  return reshape(table.sample(reshape(flat, [1, x.size, 1, 1]), [count, 1], fillValue), outShape);
}
