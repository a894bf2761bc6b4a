// Resize (and the older Upsample): nearest, linear and cubic, separable, one axis at a time, as
// weighted gathers with index maps and weights computed at call time from the static sizes,
// scales and roi.
import { ValueError } from '../../core/errors.js';
import { add, cast, mul, where } from '../../ops/elementwise.js';
import { gather } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { need, normAxis, type OpContext, type OpHandler } from './op-context.js';

/** The source coordinate of output index i (ONNX's coordinate_transformation_mode). */
// The resized length is in * scale, unrounded (ONNX's reference does so for align_corners and pytorch_half_pixel).
function sourceCoord(mode: string, i: number, scale: number, inSize: number, outSize: number, where: string): number {
  switch (mode) {
    case 'half_pixel':
      return (i + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (i + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outSize === 1 ? 0 : (i * (inSize - 1)) / (outSize - 1);
    case 'asymmetric':
      return i / scale;
    case 'tf_half_pixel_for_nn':
      return (i + 0.5) / scale;
    default:
      throw new ValueError(`${where}: coordinate_transformation_mode '${mode}' is not supported`);
  }
}

function nearestIndex(mode: string, x: number): number {
  switch (mode) {
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'round_prefer_ceil':
      return Math.round(x);
    default:
      // round_prefer_floor: halves go down.
      return x % 1 === 0.5 ? Math.floor(x) : Math.round(x);
  }
}

/** One interpolation tap per output index: the source index and its weight. */
type Taps = { index: number[]; weight: number[] }[];

/** The cubic convolution kernel of parameter a at distance d (Keys' kernel, as ONNX's cubic mode defines it). */
function cubicWeight(d: number, a: number): number {
  const x = Math.abs(d);
  if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
  if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
  return 0;
}

/**
 * The taps of linear (2) or cubic (4) interpolation at each source coordinate. Neighbours beyond
 * the edge repeat the edge value, unless exclude_outside drops them and renormalizes the rest.
 */
function interpolationTaps(coords: number[], n: number, cubic: boolean, a: number, excludeOutside: boolean): Taps {
  const span = cubic ? [-1, 0, 1, 2] : [0, 1];
  const taps: Taps = span.map(() => ({ index: [], weight: [] }));
  for (const c of coords) {
    // Linear interpolation clamps the coordinate itself (the edge value beyond the edge); cubic keeps it.
    const x = cubic ? c : Math.min(Math.max(c, 0), n - 1);
    const base = Math.floor(x);
    const t = x - base;
    let w = span.map((o) => (cubic ? cubicWeight(t - o, a) : o === 0 ? 1 - t : t));
    const inside = span.map((o) => base + o >= 0 && base + o < n);
    if (excludeOutside) {
      const total = w.reduce((acc, v, k) => acc + (inside[k] ? v : 0), 0);
      w = w.map((v, k) => (inside[k] ? v / total : 0));
    }
    span.forEach((o, k) => {
      taps[k].index.push(Math.min(Math.max(base + o, 0), n - 1));
      taps[k].weight.push(w[k]);
    });
  }
  return taps;
}

interface AxisPlan {
  mode: string;
  coordMode: string;
  nearestMode: string;
  cubicA: number;
  excludeOutside: boolean;
  /** tf_crop_and_resize: the crop's start and end (fractions of the axis) and the value outside it. */
  roi?: [number, number];
  extrapolation: number;
}

function resizeAxis(ctx: OpContext, x: Tensor, axis: number, outSize: number, scale: number, p: AxisPlan): Tensor {
  const n = x.shape[axis];
  const coords = Array.from({ length: outSize }, (_, i) =>
    p.roi ? cropCoord(i, p.roi, n, outSize) : sourceCoord(p.coordMode, i, scale, n, n * scale, ctx.where),
  );
  const idx = (v: number[]) => tensor(Int32Array.from(v), [v.length], 'int32');
  const shape = x.shape.map((_, k) => (k === axis ? outSize : 1));
  let y: Tensor;
  if (p.mode === 'nearest') {
    y = gather(x, idx(coords.map((c) => Math.min(Math.max(nearestIndex(p.nearestMode, c), 0), n - 1))), axis);
  } else {
    const taps = interpolationTaps(coords, n, p.mode === 'cubic', p.cubicA, p.excludeOutside);
    y = taps
      .map((tap) => mul(gather(x, idx(tap.index), axis), tensor(Float32Array.from(tap.weight), shape, 'float32')))
      .reduce((acc, v) => add(acc, v));
  }
  if (!p.roi) return y;
  // tf_crop_and_resize: outputs whose source lies outside the input take extrapolation_value.
  const outside = tensor(
    Uint8Array.from(coords, (c) => (c < 0 || c > n - 1 ? 1 : 0)),
    shape,
    'bool',
  );
  return where(outside, p.extrapolation, y);
}

/** tf_crop_and_resize's source coordinate: the crop [start, end] of the axis (as fractions) spread over the output. */
function cropCoord(i: number, [start, end]: [number, number], n: number, outSize: number): number {
  if (outSize === 1) return ((start + end) / 2) * (n - 1);
  return start * (n - 1) + (i * (end - start) * (n - 1)) / (outSize - 1);
}

function resize(ctx: OpContext): Tensor {
  let x = need(ctx, 0, 'X');
  if (x.dtype !== 'float32') x = cast(x, 'float32');
  const mode = ctx.attrs.string('mode', 'nearest');
  // Opset 18's antialias, refused by name rather than ignored.
  if (ctx.attrs.int('antialias', 0) !== 0) throw new ValueError(`${ctx.where}: antialias is not supported`);
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic')
    throw new ValueError(`${ctx.where}: mode '${mode}' is not supported (nearest, linear, cubic)`);
  // Opset 10 and Upsample 9: (X, scales); opset 11+: (X, roi, scales, sizes); Upsample 7: a scales attribute.
  const twoInputs = ctx.opset < 11;
  // Opset 18: scales, sizes and roi may cover only the axes listed; the others keep their size.
  const axes = (ctx.attrs.ints('axes') ?? x.shape.map((_, i) => i)).map((a) => normAxis(ctx, a, x.rank));
  const spread = (v: number[] | undefined, fill: (a: number) => number) =>
    v?.length ? x.shape.map((_, a) => (axes.includes(a) ? v[axes.indexOf(a)] : fill(a))) : undefined;
  const scalesIn = spread((twoInputs ? ctx.statics[1] : ctx.statics[2]) ?? ctx.attrs.floats('scales'), () => 1);
  let sizesIn = twoInputs ? undefined : spread(ctx.statics[3], (a) => x.shape[a]);
  const policy = ctx.attrs.string('keep_aspect_ratio_policy', 'stretch');
  if (sizesIn && policy !== 'stretch') {
    // One scale for every listed axis: the largest that fits inside the sizes (not_larger) or the smallest that covers them.
    const ratios = axes.map((a) => (sizesIn as number[])[a] / x.shape[a]);
    if (policy !== 'not_larger' && policy !== 'not_smaller') throw new ValueError(`${ctx.where}: keep_aspect_ratio_policy '${policy}' is unknown`);
    const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    sizesIn = x.shape.map((d, a) => (axes.includes(a) ? Math.round(d * scale) : d));
    const uniform = x.shape.map((_, a) => (axes.includes(a) ? scale : 1));
    return resizeWith(ctx, x, mode, twoInputs, uniform, sizesIn, axes);
  }
  const scales = sizesIn ? sizesIn.map((s, i) => s / x.shape[i]) : scalesIn;
  if (!scales || scales.length !== x.rank) throw new ValueError(`${ctx.where}: needs ${axes.length} scales or sizes`);
  return resizeWith(ctx, x, mode, twoInputs, scales, sizesIn, axes);
}

/** Resizes x by `scales`, to `sizes` when given (else floor(size * roi extent * scale) per axis). */
function resizeWith(
  ctx: OpContext,
  x: Tensor,
  mode: string,
  twoInputs: boolean,
  scales: number[],
  sizesIn: number[] | undefined,
  axes: number[],
): Tensor {
  const coordMode = ctx.attrs.string('coordinate_transformation_mode', twoInputs ? 'asymmetric' : 'half_pixel');
  const nearestMode = ctx.attrs.string('nearest_mode', twoInputs ? 'floor' : 'round_prefer_floor');
  const roiIn = coordMode === 'tf_crop_and_resize' ? ctx.statics[1] : undefined;
  if (coordMode === 'tf_crop_and_resize' && roiIn?.length !== 2 * axes.length)
    throw new ValueError(`${ctx.where}: tf_crop_and_resize needs a roi of ${2 * axes.length} values`);
  // The roi of every axis: starts then ends, unlisted axes uncropped.
  const roi = roiIn && [0, 1].flatMap((half) => x.shape.map((_, a) => (axes.includes(a) ? roiIn[axes.indexOf(a) + half * axes.length] : half)));
  const sizes = sizesIn ?? x.shape.map((d, a) => Math.floor(d * (roi ? roi[a + x.rank] - roi[a] : 1) * scales[a]));
  const plan = (a: number): AxisPlan => ({
    mode,
    coordMode,
    nearestMode,
    cubicA: ctx.attrs.float('cubic_coeff_a', -0.75),
    excludeOutside: ctx.attrs.int('exclude_outside', 0) === 1,
    roi: roi ? [roi[a], roi[a + x.rank]] : undefined,
    extrapolation: ctx.attrs.float('extrapolation_value', 0),
  });
  let y = x;
  for (let a = 0; a < x.rank; a++) {
    const cropped = roi !== undefined && (roi[a] !== 0 || roi[a + x.rank] !== 1);
    if (sizes[a] !== x.shape[a] || scales[a] !== 1 || cropped) y = resizeAxis(ctx, y, a, sizes[a], scales[a], plan(a));
  }
  return y;
}

export const RESIZE: Record<string, OpHandler> = {
  Resize: { statics: [1, 2, 3], run: resize },
  Upsample: { statics: [1], run: resize },
};
