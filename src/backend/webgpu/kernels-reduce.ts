import type { DType } from '../../core/dtype.js';
import type { CoreKernels, OptionalKernels, TensorInfo } from '../backend.js';
import type { ReducePrimitive } from '../primitives.js';
import type { GpuContext } from './context.js';
import { stridedOffset } from './kernels-movement.js';
import { LITERAL_SUPPORT, WORKGROUP, bindings, elementMain, grid, literal, storageType, stridesOf } from './wgsl.js';

// Note [GPU reductions]
// A reduction over any set of axes is computed without moving the input: the input is seen as
// [kept, reduced], two flat indices whose offsets into the input are baked index arithmetic
// (stridedOffset, with adjacent axes of one kind merged), so reducing axes 0 and 2 of a [B, C, H]
// tensor costs no transpose. Two shapes of kernel:
//   - one thread per output, looping over the reduced extent: for a short extent, or for many
//     outputs when the innermost axis is kept (neighbouring threads then read neighbouring
//     elements);
//   - one workgroup per output: its threads take every WORKGROUP-th element of the row, then
//     combine their partial results by a tree in workgroup memory. For a long extent with few
//     outputs, or when the innermost axis is reduced.
// float32 accumulates in f32 and int32 in i32, wrapping on overflow (Note [WebGPU backend]); max
// and min propagate NaN as the reference does, and argMax/argMin keep the first index of the best
// value (the first NaN when there is one), in either kernel shape, so results do not depend on it.

/** Reduced extents from which a workgroup shares one output row. */
const WORKGROUP_EXTENT = 256;
/** Outputs below which a long row always gets a workgroup (too few threads to fill the GPU otherwise). */
const FEW_OUTPUTS = 4096;

/** The input as [kept, reduced]: each flat index's offset into the input, as WGSL. */
interface Geometry {
  outputs: number;
  extent: number;
  kept: (index: string) => string;
  reduced: (index: string) => string;
  /** Whether the input's last non-trivial axis is reduced (a row is then contiguous in memory). */
  innermostReduced: boolean;
}

function geometry(shape: readonly number[], axes: readonly number[]): Geometry {
  const strides = stridesOf(shape);
  const pick = (reduced: boolean) => {
    const dims = shape.map((_, d) => d).filter((d) => axes.includes(d) === reduced);
    return { shape: dims.map((d) => shape[d]), strides: dims.map((d) => strides[d]) };
  };
  const k = pick(false),
    r = pick(true);
  let last = shape.length - 1;
  while (last >= 0 && shape[last] === 1) last--;
  return {
    outputs: k.shape.reduce((a, b) => a * b, 1),
    extent: r.shape.reduce((a, b) => a * b, 1),
    kept: (i) => stridedOffset(i, k.shape, k.strides),
    reduced: (i) => stridedOffset(i, r.shape, r.strides),
    innermostReduced: last >= 0 && axes.includes(last),
  };
}

/**
 * What a reduction computes, as WGSL over the storage type T: its state, the state before any
 * element, and the combination of two states (one of them may be a single element).
 */
interface Reducer {
  /** WGSL functions the code below calls. */
  support: string;
  /** Whether the state carries an index k beside the value v (argMax, argMin; k < 0: no element yet). */
  arg: boolean;
  /** v's value before any element: the operation's identity. */
  init: string;
  /** `combine(a, b)`: WGSL statements updating state (v[, k]) from state (bv[, bk]). */
  combine: string;
}

function reducer(op: ReducePrimitive | 'argMax' | 'argMin', dtype: DType): Reducer {
  const t = storageType(dtype);
  const f = t === 'f32';
  // NaN by its bits: x != x may be folded away by a shader compiler that assumes no NaNs.
  const isnan = f
    ? 'fn st_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }'
    : 'fn st_isnan(x: i32) -> bool { return false; }';
  if (op === 'argMax' || op === 'argMin') {
    const cmp = op === 'argMax' ? '>' : '<';
    // b replaces a when a is empty (k < 0), when b is a first NaN, or when b is strictly better;
    // on equal values (and between NaNs) the lower index wins, whichever order they meet in.
    const support = `${isnan}
fn st_takes(av: ${t}, ak: i32, bv: ${t}, bk: i32) -> bool {
  if (bk < 0) { return false; }
  if (ak < 0) { return true; }
  let an = st_isnan(av);
  let bn = st_isnan(bv);
  if (an || bn) { return bn && (!an || bk < ak); }
  return bv ${cmp} av || (bv == av && bk < ak);
}`;
    return {
      support,
      arg: true,
      init: `${literal(0, dtype === 'float32' ? 'float32' : 'int32')}`,
      combine: 'if (st_takes(v, k, bv, bk)) { v = bv; k = bk; }',
    };
  }
  const big = f ? literal(Infinity, 'float32') : '2147483647';
  const small = f ? `-${literal(Infinity, 'float32')}` : 'bitcast<i32>(0x80000000u)';
  switch (op) {
    case 'sum':
      return { support: '', arg: false, init: f ? '0.0' : '0', combine: 'v = v + bv;' };
    case 'prod':
      return { support: '', arg: false, init: f ? '1.0' : '1', combine: 'v = v * bv;' };
    case 'max':
    case 'min': {
      const cmp = op === 'max' ? '>' : '<';
      // A NaN, once met, stays: neither comparison replaces it, and a NaN element replaces anything.
      const pick = f ? `if (!st_isnan(v) && (bv ${cmp} v || st_isnan(bv))) { v = bv; }` : `if (bv ${cmp} v) { v = bv; }`;
      return { support: isnan, arg: false, init: op === 'max' ? small : big, combine: pick };
    }
  }
}

function reduce(ctx: GpuContext, x: TensorInfo, axes: readonly number[], op: ReducePrimitive | 'argMax' | 'argMin', outDtype: DType) {
  const g = geometry(x.shape, axes);
  const o = ctx.output(outDtype, g.outputs);
  if (g.outputs === 0) return o.data;
  const red = reducer(op, x.dtype);
  const t = storageType(x.dtype);
  const state = red.arg ? `var v: ${t} = ${red.init};\n  var k: i32 = -1;` : `var v: ${t} = ${red.init};`;
  const combine = (bv: string, bk: string) => `{ let bv = ${bv};${red.arg ? ` let bk = ${bk};` : ''} ${red.combine} }`;
  const result = red.arg ? 'k' : 'v';
  const header = `${bindings([x.dtype], [outDtype])}
${LITERAL_SUPPORT}
${red.support}`;
  const shared = g.extent >= WORKGROUP_EXTENT && (g.outputs < FEW_OUTPUTS || g.innermostReduced);
  if (!shared) {
    const source = `${header}
${elementMain(g.outputs)}
  let base = ${g.kept('i')};
  ${state}
  for (var r = 0u; r < ${g.extent}u; r++) ${combine(`in0[base + ${g.reduced('r')}]`, 'i32(r)')}
  out[i] = ${result};
}
`;
    ctx.run(source, [ctx.input(x)], [o.buffer], grid(g.outputs));
    return o.data;
  }
  // One workgroup per output; `row` comes from the workgroup id, so the early return and the
  // barriers stay in uniform control flow.
  const source = `${header}
var<workgroup> sv: array<${t}, ${WORKGROUP}>;
${red.arg ? `var<workgroup> sk: array<i32, ${WORKGROUP}>;` : ''}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wg.y * nwg.x + wg.x;
  if (row >= ${g.outputs}u) { return; }
  let base = ${g.kept('row')};
  ${state}
  for (var r = li; r < ${g.extent}u; r += ${WORKGROUP}u) ${combine(`in0[base + ${g.reduced('r')}]`, 'i32(r)')}
  sv[li] = v;
  ${red.arg ? 'sk[li] = k;' : ''}
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (li < s) {
      ${combine('sv[li + s]', 'sk[li + s]')}
      sv[li] = v;
      ${red.arg ? 'sk[li] = k;' : ''}
    }
    workgroupBarrier();
  }
  if (li == 0u) { out[row] = ${result}; }
}
`;
  ctx.run(source, [ctx.input(x)], [o.buffer], grid(g.outputs, 1));
  return o.data;
}

export function reduceKernels(ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  const value = (op: ReducePrimitive) => (xs: readonly TensorInfo[], attrs: { axes: number[] }, out: { dtype: DType }) =>
    reduce(ctx, xs[0], attrs.axes, op, out.dtype);
  return {
    sum: value('sum'),
    prod: value('prod'),
    max: value('max'),
    min: value('min'),
    argMax: ([x], { axis }) => reduce(ctx, x, [axis], 'argMax', 'int32'),
    argMin: ([x], { axis }) => reduce(ctx, x, [axis], 'argMin', 'int32'),
  };
}
