import type { OptionalKernels } from '../backend.js';
import type { Conv2dAttrs } from '../primitives.js';
import type { GpuContext } from './context.js';
import { type GemmSpec, runGemm } from './gemm.js';
import { activate } from './kernels-matmul.js';

// Note [Convolutions as implicit GEMM]
// Every conv kernel is the tiled GEMM of Note [Tiled GEMM on the GPU] with one operand gathered
// from an NHWC image while its tile is loaded (no im2col buffer, one dispatch):
//   conv2d:                [N·oh·ow, kh·kw·C] x [kh·kw·C, O]: A gathers the input under each
//                          output pixel's window (padding reads as 0), B is the filter as stored;
//   conv2dBackpropFilter:  [kh·kw·C, N·oh·ow] x [N·oh·ow, O]: the same gather transposed, times dy;
//                          with the bias, one more row of A that is all ones makes the last row
//                          of the product Σ dy, which is the [dfilter | dbias] layout asked for;
//   conv2dBackpropInput:   [N·H·W, kh·kw·O] x [kh·kw·O, C]: A(input pixel, tap and channel o) is
//                          the dy of the output pixel that tap lands on, or 0 where none does
//                          (off the output, or between strides); B reads the filter transposed.
// The gather's divisions are by constants baked into the source, and bounds checks are emitted
// only for sides where the padding can be reached.

interface Geometry {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  o: number;
  oh: number;
  ow: number;
  attrs: Conv2dAttrs;
}

function geometry(x: readonly number[], filter: readonly number[], y: readonly number[], attrs: Conv2dAttrs): Geometry {
  return { n: x[0], h: x[1], w: x[2], c: x[3], kh: filter[0], kw: filter[1], o: filter[3], oh: y[1], ow: y[2], attrs };
}

/**
 * WGSL that sets `v` to the input value under output pixel `pixel` (flat over N·oh·ow) at tap
 * and channel `tap` (flat over kh·kw·C), or leaves it at 0 in the padding.
 */
function gatherInput(g: Geometry, pixel: string, tap: string): string {
  const { strides, dilation, pads } = g.attrs;
  const checks: string[] = [];
  // The lowest and highest input row (column) any window reaches decide which checks can fail.
  if (pads.top > 0) checks.push('iy >= 0');
  if ((g.oh - 1) * strides[0] + (g.kh - 1) * dilation[0] - pads.top >= g.h) checks.push(`iy < ${g.h}`);
  if (pads.left > 0) checks.push('ix >= 0');
  if ((g.ow - 1) * strides[1] + (g.kw - 1) * dilation[1] - pads.left >= g.w) checks.push(`ix < ${g.w}`);
  const read = `v = x[((img * ${g.h}u + u32(iy)) * ${g.w}u + u32(ix)) * ${g.c}u + ch];`;
  return `let px = ${pixel} % ${g.ow}u;
    let img = ${pixel} / ${g.ow * g.oh}u;
    let py = (${pixel} / ${g.ow}u) % ${g.oh}u;
    let ch = ${tap} % ${g.c}u;
    let fx = (${tap} / ${g.c}u) % ${g.kw}u;
    let fy = ${tap} / ${g.c * g.kw}u;
    let iy = i32(py * ${strides[0]}u + fy * ${dilation[0]}u) - ${pads.top};
    let ix = i32(px * ${strides[1]}u + fx * ${dilation[1]}u) - ${pads.left};
    ${checks.length ? `if (${checks.join(' && ')}) { ${read} }` : read}`;
}

/**
 * WGSL that sets `v` to the dy that reaches input pixel `pixel` (flat over N·H·W) through tap
 * and output channel `tap` (flat over kh·kw·O), or leaves it at 0 where that tap reaches no
 * output pixel.
 */
function gatherGradient(g: Geometry, pixel: string, tap: string): string {
  const { strides, dilation, pads } = g.attrs;
  const [sh, sw] = strides;
  // oy·sh = iy + top - fy·dh must be a multiple of the stride inside the output.
  const onGrid = [
    'sy >= 0',
    'sx >= 0',
    ...(sh > 1 ? [`sy % ${sh} == 0`] : []),
    ...(sw > 1 ? [`sx % ${sw} == 0`] : []),
    `sy < ${g.oh * sh}`,
    `sx < ${g.ow * sw}`,
  ];
  return `let ix = ${pixel} % ${g.w}u;
    let img = ${pixel} / ${g.w * g.h}u;
    let iy = (${pixel} / ${g.w}u) % ${g.h}u;
    let oc = ${tap} % ${g.o}u;
    let fx = (${tap} / ${g.o}u) % ${g.kw}u;
    let fy = ${tap} / ${g.o * g.kw}u;
    let sy = i32(iy + ${pads.top}u) - i32(fy * ${dilation[0]}u);
    let sx = i32(ix + ${pads.left}u) - i32(fx * ${dilation[1]}u);
    if (${onGrid.join(' && ')}) {
      v = dy[((img * ${g.oh}u + u32(sy / ${sh})) * ${g.ow}u + u32(sx / ${sw})) * ${g.o}u + oc];
    }`;
}

/** The forward product, with the bias and activation of fusedConv2d when given. */
function forwardSpec(g: Geometry, fused?: { activation: 'linear' | 'relu' }): GemmSpec {
  return {
    dtype: 'float32',
    batch: 1,
    m: g.n * g.oh * g.ow,
    n: g.o,
    k: g.kh * g.kw * g.c,
    inputs: [{ name: 'x', dtype: 'float32' }, { name: 'filt', dtype: 'float32' }, ...(fused ? [{ name: 'bias', dtype: 'float32' as const }] : [])],
    loadA: gatherInput(g, 'row', 'kk'),
    aRowFastest: false,
    loadB: `v = filt[kk * ${g.o}u + col];`,
    bColFastest: true,
    epilogue: fused ? (acc, col) => activate(`(${acc} + bias[${col}])`, fused.activation, 'f32') : undefined,
  };
}

/** The filter gradient x^T·dy, and with `bias` Σ dy as one more row (Note [Convolutions as implicit GEMM]). */
function filterSpec(g: Geometry, bias: boolean): GemmSpec {
  const taps = g.kh * g.kw * g.c;
  const gather = gatherInput(g, 'kk', 'row');
  return {
    dtype: 'float32',
    batch: 1,
    m: taps + (bias ? 1 : 0),
    n: g.o,
    k: g.n * g.oh * g.ow,
    inputs: [
      { name: 'x', dtype: 'float32' },
      { name: 'dy', dtype: 'float32' },
    ],
    loadA: bias ? `if (row == ${taps}u) { v = 1.0; } else {\n    ${gather}\n    }` : gather,
    aRowFastest: true,
    loadB: `v = dy[kk * ${g.o}u + col];`,
    bColFastest: true,
  };
}

/** The input gradient dy·f^T over the taps that reach each input pixel. */
function inputSpec(g: Geometry): GemmSpec {
  return {
    dtype: 'float32',
    batch: 1,
    m: g.n * g.h * g.w,
    n: g.c,
    k: g.kh * g.kw * g.o,
    inputs: [
      { name: 'dy', dtype: 'float32' },
      { name: 'filt', dtype: 'float32' },
    ],
    loadA: gatherGradient(g, 'row', 'kk'),
    aRowFastest: false,
    // B(tap·O + o, c) = filter[tap, c, o]: o, the k index, is the fastest in memory.
    loadB: `v = filt[(kk / ${g.o}u) * ${g.c * g.o}u + col * ${g.o}u + kk % ${g.o}u];`,
    bColFastest: false,
  };
}

export function convKernels(ctx: GpuContext): OptionalKernels {
  return {
    conv2d: ([x, f], attrs, out) => runGemm(ctx, forwardSpec(geometry(x.shape, f.shape, out.shape, attrs)), [x, f]),
    fusedConv2d: ([x, f, bias], attrs, out) =>
      runGemm(ctx, forwardSpec(geometry(x.shape, f.shape, out.shape, attrs), { activation: attrs.activation }), [x, f, bias]),
    conv2dBackpropInput: ([dy, f], attrs) => runGemm(ctx, inputSpec(geometry(attrs.inputShape, f.shape, dy.shape, attrs)), [dy, f]),
    conv2dBackpropFilter: ([x, dy], attrs) => runGemm(ctx, filterSpec(geometry(x.shape, attrs.filterShape, dy.shape, attrs), false), [x, dy]),
    conv2dBackpropFilterBias: ([x, dy], attrs) => runGemm(ctx, filterSpec(geometry(x.shape, attrs.filterShape, dy.shape, attrs), true), [x, dy]),
  };
}
