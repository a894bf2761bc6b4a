// Resize (and the older Upsample): nearest and linear, separable, one axis at a time, as gathers
// with index maps computed at call time from the static sizes or scales.
import { ValueError } from '../../core/errors.js';
import { add, cast, mul, sub } from '../../ops/elementwise.js';
import { gather } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { need, type OpContext, type OpHandler } from './op-context.js';

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

function resizeAxis(
  ctx: OpContext,
  x: Tensor,
  axis: number,
  outSize: number,
  scale: number,
  mode: string,
  coordMode: string,
  nearestMode: string,
): Tensor {
  const n = x.shape[axis];
  const coords = Array.from({ length: outSize }, (_, i) => sourceCoord(coordMode, i, scale, n, n * scale, ctx.where));
  const clampIdx = (k: number) => Math.min(Math.max(k, 0), n - 1);
  const idx = (v: number[]) => tensor(Int32Array.from(v), [v.length], 'int32');
  if (mode === 'nearest') return gather(x, idx(coords.map((c) => clampIdx(nearestIndex(nearestMode, c)))), axis);
  const c = coords.map((v) => Math.min(Math.max(v, 0), n - 1));
  const lo = c.map((v) => Math.floor(v));
  const hi = lo.map((v) => Math.min(v + 1, n - 1));
  const shape = x.shape.map((_, k) => (k === axis ? outSize : 1));
  const w = tensor(
    Float32Array.from(c, (v, k) => v - lo[k]),
    shape,
    'float32',
  );
  const a = gather(x, idx(lo), axis);
  const b = gather(x, idx(hi), axis);
  return add(a, mul(sub(b, a), w));
}

function resize(ctx: OpContext): Tensor {
  let x = need(ctx, 0, 'X');
  if (x.dtype !== 'float32') x = cast(x, 'float32');
  const mode = ctx.attrs.string('mode', 'nearest');
  // Opset 18's additions, refused by name rather than ignored.
  if (ctx.attrs.int('antialias', 0) !== 0) throw new ValueError(`${ctx.where}: antialias is not supported`);
  if (ctx.attrs.has('axes')) throw new ValueError(`${ctx.where}: the axes attribute is not supported`);
  if (ctx.attrs.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch')
    throw new ValueError(`${ctx.where}: keep_aspect_ratio_policy is not supported`);
  if (mode !== 'nearest' && mode !== 'linear') throw new ValueError(`${ctx.where}: mode '${mode}' is not supported (nearest, linear)`);
  // Opset 10 and Upsample 9: (X, scales); opset 11+: (X, roi, scales, sizes); Upsample 7: a scales attribute.
  const twoInputs = ctx.opset < 11;
  const scalesIn = (twoInputs ? ctx.statics[1] : ctx.statics[2]) ?? ctx.attrs.floats('scales');
  const sizesIn = twoInputs ? undefined : ctx.statics[3];
  const scales = sizesIn?.length ? sizesIn.map((s, i) => s / x.shape[i]) : scalesIn?.length ? scalesIn : undefined;
  if (!scales || scales.length !== x.rank) throw new ValueError(`${ctx.where}: needs ${x.rank} scales or sizes`);
  const sizes = sizesIn?.length ? sizesIn : x.shape.map((d, i) => Math.floor(d * scales[i]));
  const coordMode = ctx.attrs.string('coordinate_transformation_mode', twoInputs ? 'asymmetric' : 'half_pixel');
  const nearestMode = ctx.attrs.string('nearest_mode', twoInputs ? 'floor' : 'round_prefer_floor');
  let y = x;
  for (let a = 0; a < x.rank; a++) {
    if (sizes[a] !== x.shape[a] || scales[a] !== 1) y = resizeAxis(ctx, y, a, sizes[a], scales[a], mode, coordMode, nearestMode);
  }
  return y;
}

export const RESIZE: Record<string, OpHandler> = {
  Resize: { statics: [1, 2, 3], run: resize },
  Upsample: { statics: [1], run: resize },
};
