import { typedArrayFor, type TypedArray } from '../../core/dtype.js';
import { type ConvGeometry, convGeometry } from '../conv-geometry.js';
import type { Conv2dAttrs } from '../primitives.js';
import type { Kernel } from '../backend.js';

// Note [Direct convolution]
// All three kernels walk the same loop nest: for each output pixel (n, oh, ow) and each tap
// (kh, kw) of the filter, the input pixel (ih, iw) = (oh*sh - top + kh*dh, ow*sw - left + kw*dw)
// is either inside the image or in the zero padding. They differ only in which of
// y = x * f, dx = dy * f^T and df = x^T * dy they accumulate. The innermost loop always runs
// over output channels, contiguous in both the NHWC activations and the [kh, kw, in, out] filter.

type Geometry = ConvGeometry;

function forEachTap(g: Geometry, a: Conv2dAttrs, f: (xOff: number, yOff: number, fOff: number) => void): void {
  const [sh, sw] = a.strides,
    [dh, dw] = a.dilation;
  for (let b = 0; b < g.n; b++) {
    for (let y = 0; y < g.oh; y++) {
      for (let x = 0; x < g.ow; x++) {
        const yOff = ((b * g.oh + y) * g.ow + x) * g.o;
        for (let i = 0; i < g.kh; i++) {
          const ih = y * sh - a.pads.top + i * dh;
          if (ih < 0 || ih >= g.h) continue;
          for (let j = 0; j < g.kw; j++) {
            const iw = x * sw - a.pads.left + j * dw;
            if (iw < 0 || iw >= g.w) continue;
            f(((b * g.h + ih) * g.w + iw) * g.c, yOff, (i * g.kw + j) * g.c * g.o);
          }
        }
      }
    }
  }
}

const geometry = convGeometry;

function toDtype(acc: Float64Array, dtype: Parameters<typeof typedArrayFor>[0]): TypedArray {
  const out = typedArrayFor(dtype, acc.length);
  out.set(acc);
  return out;
}

export const conv2dKernel: Kernel<'conv2d'> = ([x, filter], attrs, out) => {
  const xs = x.data as TypedArray,
    fs = filter.data as TypedArray;
  const g = geometry(x.shape, filter.shape, out.shape);
  const acc = new Float64Array(g.n * g.oh * g.ow * g.o);
  forEachTap(g, attrs, (xOff, yOff, fOff) => {
    for (let c = 0; c < g.c; c++) {
      const xv = xs[xOff + c];
      const fRow = fOff + c * g.o;
      for (let o = 0; o < g.o; o++) acc[yOff + o] += xv * fs[fRow + o];
    }
  });
  return toDtype(acc, out.dtype);
};

export const fusedConv2dKernel: Kernel<'fusedConv2d'> = ([x, filter, bias], attrs, out) => {
  const ys = conv2dKernel([x, filter], attrs, out) as TypedArray;
  const bs = bias.data as TypedArray;
  const channels = bs.length;
  const clip = attrs.activation !== 'linear';
  const top = attrs.activation === 'relu6' ? 6 : Number.POSITIVE_INFINITY;
  for (let i = 0; i < ys.length; i++) {
    const v = ys[i] + bs[i % channels];
    // relu and relu6 keep NaN, as st.relu does.
    ys[i] = clip && !(v > 0) && v === v ? 0 : clip && v > top ? top : v;
  }
  return ys;
};

export const conv2dBackpropInputKernel: Kernel<'conv2dBackpropInput'> = ([dy, filter], attrs, out) => {
  const dys = dy.data as TypedArray,
    fs = filter.data as TypedArray;
  const g = geometry(attrs.inputShape, filter.shape, dy.shape);
  const acc = new Float64Array(g.n * g.h * g.w * g.c);
  forEachTap(g, attrs, (xOff, yOff, fOff) => {
    for (let c = 0; c < g.c; c++) {
      const fRow = fOff + c * g.o;
      let s = 0;
      for (let o = 0; o < g.o; o++) s += dys[yOff + o] * fs[fRow + o];
      acc[xOff + c] += s;
    }
  });
  return toDtype(acc, out.dtype);
};

export const conv2dBackpropFilterKernel: Kernel<'conv2dBackpropFilter'> = ([x, dy], attrs, out) => {
  const xs = x.data as TypedArray,
    dys = dy.data as TypedArray;
  const g = geometry(x.shape, attrs.filterShape, dy.shape);
  const acc = new Float64Array(g.kh * g.kw * g.c * g.o);
  forEachTap(g, attrs, (xOff, yOff, fOff) => {
    for (let c = 0; c < g.c; c++) {
      const xv = xs[xOff + c];
      const fRow = fOff + c * g.o;
      for (let o = 0; o < g.o; o++) acc[fRow + o] += xv * dys[yOff + o];
    }
  });
  return toDtype(acc, out.dtype);
};
