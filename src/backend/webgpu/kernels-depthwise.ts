import type { DType } from '../../core/dtype.js';
import type { Shape } from '../../core/shape.js';
import type { Kernel, OptionalKernels } from '../backend.js';
import type { Conv2dAttrs } from '../primitives.js';
import type { GpuContext } from './context.js';
import { bindings, elementMain, grid, storageType } from './wgsl.js';

// Depthwise convolution and its two gradients on the webgpu backend (Note [Depthwise
// convolution] in ops/depthwise-conv.ts): x NHWC [N, H, W, C], filter [kh, kw, C, dm], output
// [N, OH, OW, C·dm] with output channel co = c·dm + m reading input channel c.
//   * forward: one thread per output value, over its kh·kw taps;
//   * input gradient: one thread per input value, gathering from the output pixels whose windows
//     read it (a tap reads pixel h from output row oh when oh·sh - top + i·dh = h), so no two
//     threads write one value;
//   * filter gradient: each filter value sums over every output pixel, a long reduction into few
//     values. One workgroup owns a tap and a block of LANES neighbouring output channels (dy's
//     reads stay contiguous); its 256/LANES slices split the pixels, and shared memory adds the
//     slices. A second pass over partial sums would spread a small filter over more of the GPU,
//     but would need scratch storage the kernel context does not offer.
// Integer convolutions (int32 x and filter) run the same code in i32 and wrap on overflow, as the
// backend's integer arithmetic does.

const size = (s: Shape) => s.reduce((p, d) => p * d, 1);
const THREADS = 256;

/** The geometry as WGSL constants, and the index helpers. */
function geometry(x: Shape, y: Shape, f: Shape, a: Conv2dAttrs, dtype: DType): string {
  const [, h, w, c] = x;
  const consts = {
    H: h,
    W: w,
    C: c,
    OH: y[1],
    OW: y[2],
    KH: f[0],
    KW: f[1],
    DM: f[3],
    CO: c * f[3],
    SH: a.strides[0],
    SW: a.strides[1],
    DH: a.dilation[0],
    DW: a.dilation[1],
    TOP: a.pads.top,
    LEFT: a.pads.left,
  };
  return `alias T = ${storageType(dtype)};
${Object.entries(consts)
  .map(([k, v]) => `const ${k} = ${v}i;`)
  .join('\n')}
fn xAt(b: i32, ih: i32, iw: i32, c: i32) -> i32 { return ((b * H + ih) * W + iw) * C + c; }
fn yAt(b: i32, oh: i32, ow: i32, co: i32) -> i32 { return ((b * OH + oh) * OW + ow) * CO + co; }
fn fAt(i: i32, j: i32, co: i32) -> i32 { return (i * KW + j) * CO + co; }`;
}

export function depthwiseKernels(ctx: GpuContext): OptionalKernels {
  const forward: Kernel<'depthwiseConv2d'> = ([x, f], attrs, out) => {
    const n = size(out.shape);
    const y = ctx.output(out.dtype, n);
    if (n === 0) return y.data;
    const source = `${bindings([x.dtype, f.dtype], [out.dtype], ['x', 'f', 'out'])}
${geometry(x.shape, out.shape, f.shape, attrs, out.dtype)}
${elementMain(n)}
  let co = i32(i % u32(CO));
  let pix = i32(i / u32(CO));
  let ow = pix % OW;
  let oh = (pix / OW) % OH;
  let b = pix / (OW * OH);
  let c = co / DM;
  var acc = T(0);
  for (var ki = 0; ki < KH; ki++) {
    let ih = oh * SH - TOP + ki * DH;
    if (ih < 0 || ih >= H) { continue; }
    for (var kj = 0; kj < KW; kj++) {
      let iw = ow * SW - LEFT + kj * DW;
      if (iw < 0 || iw >= W) { continue; }
      acc += x[xAt(b, ih, iw, c)] * f[fAt(ki, kj, co)];
    }
  }
  out[i] = acc;
}`;
    ctx.run(source, [ctx.input(x), ctx.input(f)], [y.buffer], grid(n));
    return y.data;
  };

  const backpropInput: Kernel<'depthwiseConv2dBackpropInput'> = ([dy, f], attrs, out) => {
    const xs = attrs.inputShape;
    const n = size(xs);
    const dx = ctx.output(out.dtype, n);
    if (n === 0) return dx.data;
    // Tap (ki, kj) of output pixel (oh, ow) reads input pixel (h, w) when
    // oh·SH = h + TOP - ki·DH: only if that is a non-negative multiple of SH below OH·SH.
    const source = `${bindings([dy.dtype, f.dtype], [out.dtype], ['dy', 'f', 'out'])}
${geometry(xs, dy.shape, f.shape, attrs, out.dtype)}
${elementMain(n)}
  let c = i32(i % u32(C));
  let pix = i32(i / u32(C));
  let w = pix % W;
  let h = (pix / W) % H;
  let b = pix / (W * H);
  var acc = T(0);
  for (var ki = 0; ki < KH; ki++) {
    let th = h + TOP - ki * DH;
    if (th < 0 || th % SH != 0 || th / SH >= OH) { continue; }
    let oh = th / SH;
    for (var kj = 0; kj < KW; kj++) {
      let tw = w + LEFT - kj * DW;
      if (tw < 0 || tw % SW != 0 || tw / SW >= OW) { continue; }
      let ow = tw / SW;
      for (var m = 0; m < DM; m++) {
        acc += dy[yAt(b, oh, ow, c * DM + m)] * f[fAt(ki, kj, c * DM + m)];
      }
    }
  }
  out[i] = acc;
}`;
    ctx.run(source, [ctx.input(dy), ctx.input(f)], [dx.buffer], grid(n));
    return dx.data;
  };

  const backpropFilter: Kernel<'depthwiseConv2dBackpropFilter'> = ([x, dy], attrs, out) => {
    const fs = attrs.filterShape;
    const n = size(fs);
    const df = ctx.output(out.dtype, n);
    if (n === 0) return df.data;
    const co = fs[2] * fs[3];
    const pixels = size(dy.shape.slice(0, 3));
    // Lanes: the output channels a workgroup owns (a power of two, at most 64 and no more than
    // needed); the rest of its threads are slices of the pixels.
    let lanes = 1;
    while (lanes < Math.min(co, 64)) lanes *= 2;
    const slices = THREADS / lanes;
    const blocks = Math.ceil(co / lanes);
    const groups = fs[0] * fs[1] * blocks;
    const source = `${bindings([x.dtype, dy.dtype], [out.dtype], ['x', 'dy', 'out'])}
${geometry(x.shape, dy.shape, fs, attrs, out.dtype)}
var<workgroup> part: array<T, ${THREADS}>;
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  // The workgroup's index is uniform, so returning on it keeps the barriers below legal.
  let group = i32(wg.y * nwg.x + wg.x);
  if (group >= ${groups}) { return; }
  let tap = group / ${blocks};
  let ki = tap / KW;
  let kj = tap % KW;
  let lane = i32(li) % ${lanes};
  let slice = i32(li) / ${lanes};
  let co = (group % ${blocks}) * ${lanes} + lane;
  let c = co / DM;
  var acc = T(0);
  if (co < CO) {
    for (var p = slice; p < ${pixels}; p += ${slices}) {
      let ow = p % OW;
      let oh = (p / OW) % OH;
      let b = p / (OW * OH);
      let ih = oh * SH - TOP + ki * DH;
      let iw = ow * SW - LEFT + kj * DW;
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) { acc += x[xAt(b, ih, iw, c)] * dy[p * CO + co]; }
    }
  }
  part[li] = acc;
  workgroupBarrier();
  for (var s = ${slices / 2}u; s > 0u; s >>= 1u) {
    if (u32(slice) < s) { part[li] += part[li + s * ${lanes}u]; }
    workgroupBarrier();
  }
  if (slice == 0 && co < CO) { out[fAt(ki, kj, co)] = part[li]; }
}`;
    ctx.run(source, [ctx.input(x), ctx.input(dy)], [df.buffer], grid(groups, 1));
    return df.data;
  };

  return { depthwiseConv2d: forward, depthwiseConv2dBackpropInput: backpropInput, depthwiseConv2dBackpropFilter: backpropFilter };
}
