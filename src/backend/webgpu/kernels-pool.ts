import type { Shape } from '../../core/shape.js';
import type { CoreKernels, Kernel, OptionalKernels, TensorInfo } from '../backend.js';
import type { Pool2dAttrs } from '../primitives.js';
import type { GpuContext } from './context.js';
import { depthwiseKernels } from './kernels-depthwise.js';
import { bindings, elementMain, grid, LITERAL_SUPPORT, literal } from './wgsl.js';

// Max and average pooling (NHWC) on the webgpu backend, with the reference backend's semantics:
// windows never read padding; max pooling keeps NaN and sends the gradient to each window's first
// maximum (the first NaN if there is one), and an empty window's maximum is -inf; average pooling
// divides by the window's real pixels.
//   The gradients gather: one thread per input pixel and channel walks the windows that contain
// it and adds what each sends there, so no two threads write one value and no float atomics are
// needed (WGSL has none). For max pooling a window's winner is found again by scanning it: the
// forward kernel does not keep the winners (keepIndices is an option a kernel may ignore, Note
// [Max pooling keeps its winners]), so maxPool2dGrad ignores its optional third operand y.

const size = (s: Shape) => s.reduce((p, d) => p * d, 1);

/** The geometry as WGSL constants, and win(oh, ow): window (oh, ow) clipped to the image, as rows [x, y) and columns [z, w). */
function geometry(x: Shape, y: Shape, a: Pool2dAttrs): string {
  const [, h, w, c] = x;
  const consts = { H: h, W: w, C: c, OH: y[1], OW: y[2], PH: a.poolSize[0], PW: a.poolSize[1], SH: a.strides[0], SW: a.strides[1] };
  return `${Object.entries(consts)
    .map(([k, v]) => `const ${k} = ${v}i;`)
    .join('\n')}
const TOP = ${a.pads.top}i;
const LEFT = ${a.pads.left}i;
fn win(oh: i32, ow: i32) -> vec4i {
  let r = oh * SH - TOP;
  let q = ow * SW - LEFT;
  return vec4i(max(r, 0), min(r + PH, H), max(q, 0), min(q + PW, W));
}
fn xAt(b: i32, ih: i32, iw: i32, c: i32) -> i32 { return ((b * H + ih) * W + iw) * C + c; }
fn yAt(b: i32, oh: i32, ow: i32, c: i32) -> i32 { return ((b * OH + oh) * OW + ow) * C + c; }
// NaN tested on the bits: WGSL lets an implementation assume no NaN in comparisons.
fn isNan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }`;
}

/** WGSL splitting the thread's element i of an NHWC tensor [?, d1, d2, C] into b, p, q, c (i32). */
const nhwc = (d1: string, d2: string) => `  let c = i32(i % u32(C));
  let pix = i32(i / u32(C));
  let q = pix % ${d2};
  let p = (pix / ${d2}) % ${d1};
  let b = pix / (${d2} * ${d1});`;

/** WGSL looping `oh`, `ow` over the windows containing input pixel (p, q), and `wn` each one's clipped extent. */
const windowsOf = (body: string) => `  let ohLo = select(0, (p + TOP - PH) / SH + 1, p + TOP - PH >= 0);
  let ohHi = min((p + TOP) / SH, OH - 1);
  let owLo = select(0, (q + LEFT - PW) / SW + 1, q + LEFT - PW >= 0);
  let owHi = min((q + LEFT) / SW, OW - 1);
  for (var oh = ohLo; oh <= ohHi; oh++) {
    for (var ow = owLo; ow <= owHi; ow++) {
      let wn = win(oh, ow);
${body}
    }
  }`;

/**
 * The winner of a window in one channel: its first maximum (or first NaN) and where it is (-1 for
 * an empty window), the reference backend's rule.
 */
const WINNER = `struct Winner { m: f32, at: i32 }
fn winner(b: i32, c: i32, wn: vec4i) -> Winner {
  var best = Winner(${literal(-Infinity, 'float32')}, -1);
  for (var ih = wn.x; ih < wn.y; ih++) {
    for (var iw = wn.z; iw < wn.w; iw++) {
      let v = x[xAt(b, ih, iw, c)];
      if (best.at < 0 || v > best.m || (isNan(v) && !isNan(best.m))) { best = Winner(v, ih * W + iw); }
    }
  }
  return best;
}`;

export function poolKernels(ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  const run = (inputs: readonly TensorInfo[], n: number, names: string[], source: () => string) => {
    const out = ctx.output('float32', n);
    if (n === 0) return out.data;
    const decls = bindings(
      inputs.map(() => 'float32' as const),
      ['float32'],
      [...names, 'out'],
    );
    ctx.run(
      `${decls}\n${LITERAL_SUPPORT}\n${source()}`,
      inputs.map((t) => ctx.input(t)),
      [out.buffer],
      grid(n),
    );
    return out.data;
  };

  const maxPool2d: Kernel<'maxPool2d'> = ([x], attrs, out) => {
    const n = size(out.shape);
    return run([x], n, ['x'], () => {
      return `${geometry(x.shape, out.shape, attrs)}
${WINNER}
${elementMain(n)}
${nhwc('OH', 'OW')}
  out[i] = winner(b, c, win(p, q)).m;
}`;
    });
  };

  const maxPool2dGrad: Kernel<'maxPool2dGrad'> = ([x, dy], attrs) => {
    const n = size(x.shape);
    // reluMasked: only windows whose maximum is positive send their gradient (Note [Gradients
    // already masked by a ReLU]); a NaN maximum is not positive.
    const take = attrs.reluMasked ? 'w.at == p * W + q && w.m > 0.0' : 'w.at == p * W + q';
    return run([x, dy], n, ['x', 'dy'], () => {
      return `${geometry(x.shape, dy.shape, attrs)}
${WINNER}
${elementMain(n)}
${nhwc('H', 'W')}
  var acc = 0.0;
${windowsOf(`      let w = winner(b, c, wn);
      if (${take}) { acc += dy[yAt(b, oh, ow, c)]; }`)}
  out[i] = acc;
}`;
    });
  };

  const avgPool2d: Kernel<'avgPool2d'> = ([x], attrs, out) => {
    const n = size(out.shape);
    // An empty window (none of its pixels real) divides 0 by 0, NaN, as the reference does.
    return run([x], n, ['x'], () => {
      return `${geometry(x.shape, out.shape, attrs)}
${elementMain(n)}
${nhwc('OH', 'OW')}
  let wn = win(p, q);
  var s = 0.0;
  for (var ih = wn.x; ih < wn.y; ih++) {
    for (var iw = wn.z; iw < wn.w; iw++) { s += x[xAt(b, ih, iw, c)]; }
  }
  let count = max(wn.y - wn.x, 0) * max(wn.w - wn.z, 0);
  out[i] = select(s / f32(count), ${literal(Number.NaN, 'float32')}, count == 0);
}`;
    });
  };

  const avgPool2dGrad: Kernel<'avgPool2dGrad'> = ([dy], attrs) => {
    const xs = attrs.inputShape;
    const n = size(xs);
    // A window containing this pixel is never empty, so its count is at least 1.
    return run([dy], n, ['dy'], () => {
      return `${geometry(xs, dy.shape, attrs)}
${elementMain(n)}
${nhwc('H', 'W')}
  var acc = 0.0;
${windowsOf(`      acc += dy[yAt(b, oh, ow, c)] / f32((wn.y - wn.x) * (wn.w - wn.z));`)}
  out[i] = acc;
}`;
    });
  };

  return { maxPool2d, maxPool2dGrad, avgPool2d, avgPool2dGrad, ...depthwiseKernels(ctx) };
}
