// Pooling by kernel taps: what Strata's 2-D pooling kernels do not cover (dilations, MaxPool's
// Indices output, 3-D and higher pooling) computed from one strided view of the padded input per
// kernel position. prod(kernel) gathers per spatial axis: fine for the models that use these
// options, slower than the kernels.
import { ValueError } from '../../core/errors.js';
import { add, div, greater, maximum, where } from '../../ops/elementwise.js';
import { gather, pad } from '../../ops/shape-ops.js';
import { ones, tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OpContext } from './op-context.js';

export interface TapPoolGeometry {
  /** The spatial axes of x, in order (NHWC: 1, 2; NCDHW: 2, 3, 4); the channel axis is the other non-batch one. */
  axes: number[];
  kernel: number[];
  strides: number[];
  dilation: number[];
  /** Padding before and after each spatial axis (ceil_mode's extra end padding included). */
  begin: number[];
  end: number[];
}

const idx = (v: number[]) => tensor(Int32Array.from(v), [v.length], 'int32');

/** The strided view of x (padded) at kernel position `tap` along every spatial axis, and the rows it read. */
function view(x: Tensor, g: TapPoolGeometry, out: number[], tap: number[]): [Tensor, number[][]] {
  let v = x;
  const rows = g.axes.map((a, i) => {
    const r = Array.from({ length: out[i] }, (_, o) => o * g.strides[i] + tap[i] * g.dilation[i]);
    v = gather(v, idx(r), a);
    return r;
  });
  return [v, rows];
}

/** Every kernel position, in row-major order. */
function taps(kernel: number[]): number[][] {
  return kernel.reduce<number[][]>((acc, k) => acc.flatMap((t) => Array.from({ length: k }, (_, i) => [...t, i])), [[]]);
}

function outSizes(x: Tensor, g: TapPoolGeometry): number[] {
  return g.axes.map((a, i) => Math.floor((x.shape[a] + g.begin[i] + g.end[i] - ((g.kernel[i] - 1) * g.dilation[i] + 1)) / g.strides[i]) + 1);
}

const padPairs = (x: Tensor, g: TapPoolGeometry) =>
  x.shape.map((_, a): [number, number] => {
    const i = g.axes.indexOf(a);
    return i < 0 ? [0, 0] : [g.begin[i], g.end[i]];
  });

/**
 * The maximum of each window, and where it was: ONNX's Indices, the position flattened over the
 * channels-first input ((n * C + c) * plane + the spatial position in row-major order, or
 * column-major with `columnMajor`, storage_order=1). Padding never wins; ties go to the first
 * position in row-major window order.
 */
export function tapMaxPool(x: Tensor, g: TapPoolGeometry, columnMajor = false): [Tensor, Tensor] {
  const padded = pad(x, padPairs(x, g), Number.NEGATIVE_INFINITY);
  const out = outSizes(x, g);
  const sizes = g.axes.map((a) => x.shape[a]);
  const plane = sizes.reduce((n, d) => n * d, 1);
  const channel = [1, 2, 3, 4, 5].find((a) => a < x.rank && !g.axes.includes(a)) as number;
  const base = tensor(
    Int32Array.from({ length: x.shape[0] * x.shape[channel] }, (_, k) => k * plane),
    x.shape.map((d, a) => (a === 0 || a === channel ? d : 1)),
    'int32',
  );
  const viewShape = x.shape.map((_, a) => (g.axes.includes(a) ? out[g.axes.indexOf(a)] : 1));
  let best: Tensor | undefined;
  let bestIdx: Tensor | undefined;
  for (const tap of taps(g.kernel)) {
    const [v, rows] = view(padded, g, out, tap);
    // The input position of each output's tap (padding positions get any value: they never win).
    const count = out.reduce((n, d) => n * d, 1);
    const at = Int32Array.from({ length: count }, (_, k) => {
      const pos = out.map(() => 0);
      for (let i = out.length - 1, r = k; i >= 0; i--) {
        pos[i] = rows[i][r % out[i]] - g.begin[i];
        r = Math.floor(r / out[i]);
      }
      const order = columnMajor ? [...pos.keys()].reverse() : [...pos.keys()];
      return order.reduce((flat, i) => flat * sizes[i] + pos[i], 0);
    });
    const here = tensor(at, viewShape, 'int32');
    if (!best || !bestIdx) {
      [best, bestIdx] = [v, here];
      continue;
    }
    bestIdx = where(greater(v, best), here, bestIdx);
    best = maximum(best, v);
  }
  return [best as Tensor, add(bestIdx as Tensor, base)];
}

/** The mean of each window; with countIncludePad the padding counts as zeros, else only real positions count. */
export function tapAvgPool(x: Tensor, g: TapPoolGeometry, countIncludePad: boolean): Tensor {
  const padded = pad(x, padPairs(x, g), 0);
  const real = pad(
    ones(
      x.shape.map((d, a) => (g.axes.includes(a) ? d : 1)),
      'float32',
    ),
    padPairs(x, g),
    0,
  );
  const out = outSizes(x, g);
  let total: Tensor | undefined;
  let count: Tensor | undefined;
  for (const tap of taps(g.kernel)) {
    const v = view(padded, g, out, tap)[0];
    const c = view(real, g, out, tap)[0];
    total = total ? add(total, v) : v;
    count = count ? add(count, c) : c;
  }
  return div(total as Tensor, countIncludePad ? g.kernel.reduce((n, k) => n * k, 1) : (count as Tensor));
}

/**
 * The geometry of an N-D channels-first pooling node from its attributes (kernel_shape, strides,
 * dilations, pads or auto_pad, ceil_mode), for the spatial axes 2 and on.
 */
export function ndGeometry(ctx: OpContext, x: Tensor): TapPoolGeometry {
  const r = x.rank - 2;
  const a = ctx.attrs;
  const axes = Array.from({ length: r }, (_, i) => i + 2);
  const kernel = a.ints('kernel_shape', []);
  if (kernel.length !== r) throw new ValueError(`${ctx.where}: kernel_shape needs ${r} values`);
  const strides = a.ints('strides', new Array(r).fill(1));
  const dilation = a.ints('dilations', new Array(r).fill(1));
  const span = kernel.map((k, i) => (k - 1) * dilation[i] + 1);
  const autoPad = a.string('auto_pad', 'NOTSET');
  const p = a.ints('pads', new Array(2 * r).fill(0));
  let begin = p.slice(0, r);
  let end = p.slice(r);
  if (autoPad === 'VALID') [begin, end] = [new Array(r).fill(0), new Array(r).fill(0)];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = axes.map((ax, i) => Math.max((Math.ceil(x.shape[ax] / strides[i]) - 1) * strides[i] + span[i] - x.shape[ax], 0));
    const small = total.map((t) => Math.floor(t / 2));
    [begin, end] = autoPad === 'SAME_UPPER' ? [small, total.map((t, i) => t - small[i])] : [total.map((t, i) => t - small[i]), small];
  }
  if (a.int('ceil_mode', 0) === 1) {
    // A last, partial window, unless it would start in the end padding.
    end = end.map((e, i) => {
      const n = x.shape[axes[i]];
      let out = Math.ceil((n + begin[i] + e - span[i]) / strides[i]) + 1;
      if ((out - 1) * strides[i] >= n + begin[i]) out--;
      return e + Math.max((out - 1) * strides[i] + span[i] - (n + begin[i] + e), 0);
    });
  }
  return { axes, kernel, strides, dilation, begin, end };
}
