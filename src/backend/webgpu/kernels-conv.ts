import type { OptionalKernels } from '../backend.js';
import { type ConvGeometry, convGeometry } from '../conv-geometry.js';
import type { Conv2dAttrs, ConvActivation } from '../primitives.js';
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
//                          Under strides the input pixels are split by phase (stridedInputSpec)
//                          so each is multiplied only by the taps that can reach it.
// The gather's divisions are by constants baked into the source, and bounds checks are emitted
// only for sides where the padding can be reached.

interface Geometry extends ConvGeometry {
  attrs: Conv2dAttrs;
}

function geometry(x: readonly number[], filter: readonly number[], y: readonly number[], attrs: Conv2dAttrs): Geometry {
  return { ...convGeometry(x, filter, y), attrs };
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
function forwardSpec(g: Geometry, fused?: { activation: ConvActivation }): GemmSpec {
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

/** The input gradient dy·f^T over the taps that reach each input pixel (stride 1). */
function inputSpec(g: Geometry): GemmSpec {
  if (g.attrs.strides[0] > 1 || g.attrs.strides[1] > 1) return stridedInputSpec(g);
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

/**
 * For each phase r = (iy + pad) mod stride, the filter taps f with f·dilation ≡ r (mod stride):
 * the only ones that land on an output pixel from an input row (column) of that phase. Padded
 * with -1 to the longest list.
 */
function phaseTaps(k: number, stride: number, dilation: number): { taps: number[]; most: number } {
  const lists = Array.from({ length: stride }, (_, r) => [...Array(k).keys()].filter((f) => (f * dilation) % stride === r));
  const most = Math.max(...lists.map((l) => l.length));
  return { taps: lists.flatMap((l) => [...l, ...Array(most - l.length).fill(-1)]), most };
}

/**
 * The input gradient under strides, split by phase (Note [Convolutions as implicit GEMM]): one
 * GEMM per (row phase, column phase) over that phase's input pixels and the taps that reach
 * them, the phases as the batch of one dispatch. The stride-1 form would multiply by zero for
 * all but 1/(sh·sw) of the taps.
 */
function stridedInputSpec(g: Geometry): GemmSpec {
  const { strides, dilation, pads } = g.attrs;
  const [sh, sw] = strides;
  const ys = phaseTaps(g.kh, sh, dilation[0]),
    xs = phaseTaps(g.kw, sw, dilation[1]);
  // Input rows (columns) of one phase: at most ceil(H / sh), the first at (r - top) mod sh.
  const hy = Math.ceil(g.h / sh),
    wx = Math.ceil(g.w / sw);
  const table = (name: string, values: number[]) =>
    `var<private> ${name}: array<i32, ${values.length}> = array<i32, ${values.length}>(${values.join(', ')});`;
  // The phase's input pixel of GEMM row `row`, or one past the image (a row that pads the phase).
  const pixel = (row: string) => `let ry = b / ${sw}u;
    let rx = b % ${sw}u;
    let img = ${row} / ${hy * wx}u;
    let iy = (ry + ${sh - (pads.top % sh)}u) % ${sh}u + ((${row} / ${wx}u) % ${hy}u) * ${sh}u;
    let ix = (rx + ${sw - (pads.left % sw)}u) % ${sw}u + (${row} % ${wx}u) * ${sw}u;`;
  // The tap of k index `kk` in this phase, -1 where the phase has fewer taps.
  const tap = `let oc = kk % ${g.o}u;
    let fy = tapY[(b / ${sw}u) * ${ys.most}u + kk / ${g.o * xs.most}u];
    let fx = tapX[(b % ${sw}u) * ${xs.most}u + (kk / ${g.o}u) % ${xs.most}u];`;
  return {
    dtype: 'float32',
    batch: sh * sw,
    m: g.n * hy * wx,
    n: g.c,
    k: ys.most * xs.most * g.o,
    inputs: [
      { name: 'dy', dtype: 'float32' },
      { name: 'filt', dtype: 'float32' },
    ],
    declarations: `${table('tapY', ys.taps)}\n${table('tapX', xs.taps)}`,
    loadA: `${pixel('row')}
    ${tap}
    if (fy >= 0 && fx >= 0 && iy < ${g.h}u && ix < ${g.w}u) {
      // Exact multiples of the stride by the choice of taps.
      let sy = i32(iy) + ${pads.top} - fy * ${dilation[0]};
      let sx = i32(ix) + ${pads.left} - fx * ${dilation[1]};
      if (sy >= 0 && sx >= 0 && sy < ${g.oh * sh} && sx < ${g.ow * sw}) {
        v = dy[((img * ${g.oh}u + u32(sy / ${sh})) * ${g.ow}u + u32(sx / ${sw})) * ${g.o}u + oc];
      }
    }`,
    aRowFastest: false,
    loadB: `${tap}
    if (fy >= 0 && fx >= 0) { v = filt[((u32(fy) * ${g.kw}u + u32(fx)) * ${g.c}u + col) * ${g.o}u + oc]; }`,
    bColFastest: false,
    store: (row, col, value) => `{
    ${pixel(row)}
    if (iy < ${g.h}u && ix < ${g.w}u) { out[((img * ${g.h}u + iy) * ${g.w}u + ix) * ${g.c}u + ${col}] = ${value}; }
  }`,
    outSize: g.n * g.h * g.w * g.c,
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
