// Convolution and pooling written straight from their definitions, for the conformance table.
// Nothing here is shared with src/: the geometry (output size, 'same' padding split) is derived
// below from TensorFlow's documented rule, not from planConv2d / planPool2d, so a wrong padding
// in the library cannot also be wrong in its oracle. Loops are direct and slow on purpose.
//
// TensorFlow's rule (tf.nn.convolution docs, "padding"): with window extent
// e = (k - 1) * dilation + 1,
//   'valid': out = ceil((in - e + 1) / stride), no padding;
//   'same':  out = ceil(in / stride), total padding max((out - 1) * stride + e - in, 0),
//            of which floor(total / 2) goes before and the rest after.

export type Padding = 'valid' | 'same';

export interface Geometry2d {
  kernel: [number, number];
  strides: [number, number];
  dilation: [number, number];
  padding: Padding;
}

interface Axis {
  out: number;
  before: number;
}

function axis(size: number, k: number, stride: number, dilation: number, padding: Padding): Axis {
  const extent = (k - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.ceil((size - extent + 1) / stride), before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + extent - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Output height and width, and the rows / columns of padding before the input. */
export function outputGeometry(h: number, w: number, g: Geometry2d): { oh: number; ow: number; padTop: number; padLeft: number } {
  const rows = axis(h, g.kernel[0], g.strides[0], g.dilation[0], g.padding);
  const cols = axis(w, g.kernel[1], g.strides[1], g.dilation[1], g.padding);
  return { oh: rows.out, ow: cols.out, padTop: rows.before, padLeft: cols.before };
}

/**
 * The input taps of output pixel (oy, ox): every (iy, ix) inside the image that the window
 * touches, with the tap's kernel position (ky, kx). Taps in the padding are left out.
 */
function taps(oy: number, ox: number, h: number, w: number, g: Geometry2d, pads: { padTop: number; padLeft: number }) {
  const out: { iy: number; ix: number; ky: number; kx: number }[] = [];
  for (let ky = 0; ky < g.kernel[0]; ky++) {
    for (let kx = 0; kx < g.kernel[1]; kx++) {
      const iy = oy * g.strides[0] + ky * g.dilation[0] - pads.padTop;
      const ix = ox * g.strides[1] + kx * g.dilation[1] - pads.padLeft;
      if (iy >= 0 && iy < h && ix >= 0 && ix < w) out.push({ iy, ix, ky, kx });
    }
  }
  return out;
}

export interface Nhwc {
  shape: number[];
  values: number[];
}

/** conv2d of x [n, h, w, c] with filter [kh, kw, c, f] (cross-correlation, as every framework computes it). */
export function conv2dOracle(x: Nhwc, filter: Nhwc, g: Omit<Geometry2d, 'kernel'>): number[] {
  const [n, h, w, c] = x.shape;
  const [kh, kw, fc, f] = filter.shape;
  if (fc !== c) throw new Error(`conv2dOracle: filter expects ${fc} channels, x has ${c}`);
  const geo: Geometry2d = { ...g, kernel: [kh, kw] };
  const { oh, ow, ...pads } = outputGeometry(h, w, geo);
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < f; o++) {
          let s = 0;
          for (const t of taps(oy, ox, h, w, geo, pads))
            for (let ci = 0; ci < c; ci++) s += x.values[((b * h + t.iy) * w + t.ix) * c + ci] * filter.values[((t.ky * kw + t.kx) * c + ci) * f + o];
          out.push(s);
        }
  return out;
}

/**
 * The gradients of sum(conv2d(x, filter) * dy) with respect to x and to filter: each output
 * pixel's upstream value is sent back along the taps that made it.
 */
export function conv2dGradOracle(x: Nhwc, filter: Nhwc, dy: number[], g: Omit<Geometry2d, 'kernel'>): { dx: number[]; dFilter: number[] } {
  const [n, h, w, c] = x.shape;
  const [kh, kw, , f] = filter.shape;
  const geo: Geometry2d = { ...g, kernel: [kh, kw] };
  const { oh, ow, ...pads } = outputGeometry(h, w, geo);
  const dx = new Array(x.values.length).fill(0);
  const dFilter = new Array(filter.values.length).fill(0);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < f; o++) {
          const up = dy[((b * oh + oy) * ow + ox) * f + o];
          for (const t of taps(oy, ox, h, w, geo, pads))
            for (let ci = 0; ci < c; ci++) {
              const xi = ((b * h + t.iy) * w + t.ix) * c + ci;
              const fi = ((t.ky * kw + t.kx) * c + ci) * f + o;
              dx[xi] += up * filter.values[fi];
              dFilter[fi] += up * x.values[xi];
            }
        }
  return { dx, dFilter };
}

export type PoolKind = 'max' | 'avg';

/**
 * Pooling over [n, h, w, c]. 'avg' divides by the taps inside the image (padding is not counted,
 * as in TensorFlow); 'max' ignores padding.
 */
export function pool2dOracle(kind: PoolKind, x: Nhwc, g: Omit<Geometry2d, 'dilation'>): number[] {
  return pool2dWalk(kind, x, g).map((p) => p.value);
}

/**
 * The gradient of sum(pool(x) * dy) with respect to x: max pooling sends each upstream value to
 * the first largest tap of its window (in row-major window order), average pooling spreads it
 * evenly over the window's taps inside the image.
 */
export function pool2dGradOracle(kind: PoolKind, x: Nhwc, dy: number[], g: Omit<Geometry2d, 'dilation'>): number[] {
  const dx = new Array(x.values.length).fill(0);
  pool2dWalk(kind, x, g).forEach((p, i) => {
    if (kind === 'max') dx[p.winner] += dy[i];
    else for (const t of p.taps) dx[t] += dy[i] / p.taps.length;
  });
  return dx;
}

function pool2dWalk(kind: PoolKind, x: Nhwc, g: Omit<Geometry2d, 'dilation'>) {
  const [n, h, w, c] = x.shape;
  const geo: Geometry2d = { ...g, dilation: [1, 1] };
  const { oh, ow, ...pads } = outputGeometry(h, w, geo);
  const out: { value: number; winner: number; taps: number[] }[] = [];
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ci = 0; ci < c; ci++) {
          const idx = taps(oy, ox, h, w, geo, pads).map((t) => ((b * h + t.iy) * w + t.ix) * c + ci);
          if (idx.length === 0) throw new Error('pool2dOracle: a window with no taps inside the image');
          let winner = idx[0];
          for (const i of idx) if (x.values[i] > x.values[winner]) winner = i;
          const value = kind === 'max' ? x.values[winner] : idx.reduce((s, i) => s + x.values[i], 0) / idx.length;
          out.push({ value, winner, taps: idx });
        }
  return out;
}
