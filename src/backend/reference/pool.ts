import { typedArrayFor, type TypedArray } from '../../core/dtype.js';
import type { Kernel } from '../backend.js';
import type { Pool2dAttrs } from '../primitives.js';

// Pooling windows never read padding: max pooling ignores padded pixels and average pooling
// divides by the number of real pixels in the window (TensorFlow's behaviour).

interface Window {
  /** Offset of (n, oh, ow, 0) in the pooled output. */
  yOff: number;
  /** Offsets of (n, ih, iw, 0) in the input for each real pixel of the window, in (kh, kw) order. */
  taps: number[];
}

function forEachWindow(x: readonly number[], y: readonly number[], a: Pool2dAttrs, f: (w: Window) => void): void {
  const [n, h, w, c] = x;
  const [, oh, ow] = y;
  const [ph, pw] = a.poolSize,
    [sh, sw] = a.strides;
  const taps: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        taps.length = 0;
        for (let p = 0; p < ph; p++) {
          const ih = i * sh - a.pads.top + p;
          if (ih < 0 || ih >= h) continue;
          for (let q = 0; q < pw; q++) {
            const iw = j * sw - a.pads.left + q;
            if (iw >= 0 && iw < w) taps.push(((b * h + ih) * w + iw) * c);
          }
        }
        f({ yOff: ((b * oh + i) * ow + j) * c, taps });
      }
    }
  }
}

export const maxPool2dKernel: Kernel<'maxPool2d'> = ([x], attrs, out) => {
  const xs = x.data as TypedArray,
    c = x.shape[3];
  const ys = typedArrayFor(
    out.dtype,
    out.shape.reduce((p, d) => p * d, 1),
  );
  forEachWindow(x.shape, out.shape, attrs, ({ yOff, taps }) => {
    for (let k = 0; k < c; k++) {
      let m = -Infinity;
      for (const t of taps) {
        const v = xs[t + k];
        if (v > m || v !== v) m = v;
        if (m !== m) break;
      }
      ys[yOff + k] = m;
    }
  });
  return ys;
};

export const maxPool2dGradKernel: Kernel<'maxPool2dGrad'> = ([x, dy], attrs, out) => {
  const xs = x.data as TypedArray,
    dys = dy.data as TypedArray,
    c = x.shape[3];
  const dx = new Float64Array(xs.length);
  forEachWindow(x.shape, dy.shape, attrs, ({ yOff, taps }) => {
    for (let k = 0; k < c; k++) {
      let m = -Infinity,
        at = taps[0];
      for (const t of taps) {
        const v = xs[t + k];
        if (v > m || (v !== v && m === m)) {
          m = v;
          at = t;
        }
      }
      // reluMasked: only positive maxima (Note [Gradients already masked by a ReLU]).
      if (!attrs.reluMasked || m > 0) dx[at + k] += dys[yOff + k];
    }
  });
  const ys = typedArrayFor(out.dtype, dx.length);
  ys.set(dx);
  return ys;
};

export const avgPool2dKernel: Kernel<'avgPool2d'> = ([x], attrs, out) => {
  const xs = x.data as TypedArray,
    c = x.shape[3];
  const ys = typedArrayFor(
    out.dtype,
    out.shape.reduce((p, d) => p * d, 1),
  );
  forEachWindow(x.shape, out.shape, attrs, ({ yOff, taps }) => {
    for (let k = 0; k < c; k++) {
      let s = 0;
      for (const t of taps) s += xs[t + k];
      ys[yOff + k] = s / taps.length;
    }
  });
  return ys;
};

export const avgPool2dGradKernel: Kernel<'avgPool2dGrad'> = ([dy], attrs, out) => {
  const dys = dy.data as TypedArray,
    c = attrs.inputShape[3];
  const dx = new Float64Array(attrs.inputShape.reduce((p, d) => p * d, 1));
  forEachWindow(attrs.inputShape, dy.shape, attrs, ({ yOff, taps }) => {
    for (let k = 0; k < c; k++) {
      const share = dys[yOff + k] / taps.length;
      for (const t of taps) dx[t + k] += share;
    }
  });
  const ys = typedArrayFor(out.dtype, dx.length);
  ys.set(dx);
  return ys;
};
