import type { DType } from '../../core/dtype.js';
import type { CoreKernels, OptionalKernels, TensorInfo } from '../backend.js';
import type { GpuContext } from './context.js';
import { LITERAL_SUPPORT, bindings, broadcastIndex, elementMain, grid, literal, stridesOf } from './wgsl.js';

// The movement kernels: one thread per output element, each reading the input element it copies.
// Every kernel is dtype-agnostic (storage is 32 bits for every dtype, wgsl.ts), so a kernel's
// source depends on shapes only, and bool, int32 and float32 tensors of one shape share a pipeline
// whenever the storage type agrees.

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * Merges adjacent output dimensions that the input walks as one (dimension d's stride is d+1's
 * stride times d+1's extent) and drops extent-1 dimensions: a transpose that keeps blocks of axes
 * together, a slice of whole rows or a broadcast of a whole suffix then costs one division per
 * merged block instead of one per axis.
 */
export function coalesce(shape: readonly number[], strides: readonly number[]): { shape: number[]; strides: number[] } {
  const out = { shape: [] as number[], strides: [] as number[] };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = out.shape.length - 1;
    if (last >= 0 && out.strides[last] === strides[d] * shape[d]) {
      out.shape[last] *= shape[d];
      out.strides[last] = strides[d];
    } else {
      out.shape.push(shape[d]);
      out.strides.push(strides[d]);
    }
  }
  return out;
}

/**
 * A WGSL u32 expression for `base` plus the input offset that the output element `index` of
 * `shape` reads through per-dimension `strides` (0 along a broadcast dimension).
 */
export function stridedOffset(index: string, shape: readonly number[], strides: readonly number[], base = 0): string {
  const c = coalesce(shape, strides);
  const own = stridesOf(c.shape);
  const terms: string[] = base ? [`${base}u`] : [];
  c.shape.forEach((extent, d) => {
    if (c.strides[d] === 0) return;
    const q = own[d] === 1 ? index : `(${index} / ${own[d]}u)`;
    const coord = d === 0 ? q : `(${q} % ${extent}u)`;
    terms.push(c.strides[d] === 1 ? coord : `${coord} * ${c.strides[d]}u`);
  });
  return terms.length ? terms.join(' + ') : '0u';
}

/** The output filled by reading input `x` through `strides` from `base`: transpose, broadcastTo and slice. */
function stridedCopy(ctx: GpuContext, x: TensorInfo, outShape: readonly number[], strides: readonly number[], base: number) {
  const size = product(outShape);
  const out = ctx.output(x.dtype, size);
  if (size === 0) return out.data;
  const source = `${bindings([x.dtype], [x.dtype])}
${elementMain(size)}
  out[i] = in0[${stridedOffset('i', outShape, strides, base)}];
}
`;
  ctx.run(source, [ctx.input(x)], [out.buffer], grid(size));
  return out.data;
}

/** The value `pad` fills with, stored as `dtype` (as the reference's typed-array fill converts it). */
function fillLiteral(value: number, dtype: DType): string {
  if (dtype === 'bool') return value ? '1' : '0';
  return literal(value, dtype);
}

export function movementKernels(ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  return {
    transpose: ([x], { perm }, out) => {
      const own = stridesOf(x.shape);
      return stridedCopy(
        ctx,
        x,
        out.shape,
        perm.map((p) => own[p]),
        0,
      );
    },

    broadcastTo: ([x], { shape }, out) => {
      const size = product(shape);
      const o = ctx.output(out.dtype, size);
      if (size === 0) return o.data;
      // broadcastIndex already skips the broadcast axes; an input of the output's size is a copy.
      const index = product(x.shape) === size ? 'i' : broadcastIndex('i', shape, x.shape);
      const source = `${bindings([x.dtype], [x.dtype])}
${elementMain(size)}
  out[i] = in0[${index}];
}
`;
      ctx.run(source, [ctx.input(x)], [o.buffer], grid(size));
      return o.data;
    },

    slice: ([x], { begin }, out) => {
      const own = stridesOf(x.shape);
      const base = begin.reduce((acc, b, d) => acc + b * own[d], 0);
      const size = product(out.shape);
      if (base === 0 || size === 0) return stridedCopy(ctx, x, out.shape, own, 0);
      // The start comes from a buffer, not the source: a loop slicing batch after batch out of a
      // dataset would otherwise compile a pipeline per batch.
      const o = ctx.output(x.dtype, size);
      const start = ctx.constants(new Int32Array([base]));
      const source = `${bindings([x.dtype, 'int32'], [x.dtype])}
${elementMain(size)}
  out[i] = in0[u32(in1[0]) + ${stridedOffset('i', out.shape, own)}];
}
`;
      ctx.run(source, [ctx.input(x), start], [o.buffer], grid(size));
      ctx.releaseScratch(start);
      return o.data;
    },

    pad: ([x], { paddings, value }, out) => {
      const size = product(out.shape);
      const o = ctx.output(out.dtype, size);
      if (size === 0) return o.data;
      const fill = fillLiteral(value, out.dtype);
      const own = stridesOf(x.shape);
      const outStrides = stridesOf(out.shape);
      // Per axis: the input coordinate, and whether it lies inside; axes without padding need no test.
      const lines: string[] = [];
      const inside: string[] = [];
      const terms: string[] = [];
      out.shape.forEach((extent, d) => {
        if (x.shape[d] === 1 && paddings[d][0] === 0 && paddings[d][1] === 0) return;
        const q = outStrides[d] === 1 ? 'i' : `(i / ${outStrides[d]}u)`;
        const coord = d === 0 ? q : `(${q} % ${extent}u)`;
        if (paddings[d][0] === 0 && paddings[d][1] === 0) {
          terms.push(`${coord} * ${own[d]}u`);
          return;
        }
        lines.push(`  let c${d} = i32(${coord}) - ${paddings[d][0]};`);
        inside.push(`c${d} >= 0 && c${d} < ${x.shape[d]}`);
        terms.push(`u32(c${d}) * ${own[d]}u`);
      });
      const read = product(x.shape) === 0 ? fill : `in0[${terms.length ? terms.join(' + ') : '0u'}]`;
      const source = `${bindings([x.dtype], [out.dtype])}
${LITERAL_SUPPORT}
${elementMain(size)}
${lines.join('\n')}
  if (${inside.length ? inside.join(' && ') : 'true'}) { out[i] = ${read}; } else { out[i] = ${fill}; }
}
`;
      ctx.run(source, [ctx.input(x)], [o.buffer], grid(size));
      return o.data;
    },

    concat: (inputs, { axis }, out) => concat(ctx, inputs, axis, out.shape, out.dtype),

    gather: ([x, indices], { axis }, out) => {
      const size = product(out.shape);
      const o = ctx.output(out.dtype, size);
      if (size === 0) return o.data;
      const dim = x.shape[axis];
      const inner = product(x.shape.slice(axis + 1));
      const count = product(indices.shape);
      // x seen as [outer, dim, inner] and the output as [outer, count, inner]. Indices computed on
      // the GPU reach the kernel unchecked (ops/ resolves their negatives there, but cannot refuse
      // one out of range without a read): anything outside [0, dim) reads as 0 instead of reading
      // past the buffer. As u32, a negative index is out of range too: one comparison.
      const source = `${bindings([x.dtype, 'int32'], [out.dtype], ['in0', 'idx'])}
${elementMain(size)}
  let k = i % ${inner}u;
  let c = (i / ${inner}u) % ${count}u;
  let o = i / ${inner * count}u;
  let j = bitcast<u32>(idx[c]);
  if (j >= ${dim}u) { out[i] = ${zeroOf(out.dtype)}; return; }
  out[i] = in0[(o * ${dim}u + j) * ${inner}u + k];
}
`;
      ctx.run(source, [ctx.input(x), ctx.input(indices)], [o.buffer], grid(size));
      return o.data;
    },

    scatterAdd: ([updates, indices], { axis, size }, out) => scatterAdd(ctx, updates, indices, axis, size, out.shape, out.dtype),
  };
}

function zeroOf(dtype: DType): string {
  return dtype === 'float32' ? '0.0' : '0';
}

/**
 * Concatenation along `axis`: the output seen as [outer, row], where input t fills columns
 * [start_t, start_t + row_t) of every row. Inputs are bound in chunks that fit the device's
 * storage bindings, one dispatch per chunk writing only its own columns.
 */
function concat(ctx: GpuContext, inputs: readonly TensorInfo[], axis: number, shape: readonly number[], dtype: DType) {
  const size = product(shape);
  const o = ctx.output(dtype, size);
  if (size === 0) return o.data;
  const outer = product(shape.slice(0, axis));
  const row = product(shape.slice(axis));
  const parts: { t: TensorInfo; start: number; width: number }[] = [];
  let start = 0;
  for (const t of inputs) {
    const width = product(t.shape.slice(axis));
    if (width > 0) parts.push({ t, start, width });
    start += width;
  }
  const perChunk = Math.max(1, Math.min(ctx.limits.maxStorageBuffersPerShaderStage, 16) - 1);
  for (let p = 0; p < parts.length; p += perChunk) {
    const chunk = parts.slice(p, p + perChunk);
    const first = chunk[0].start;
    const width = chunk.reduce((acc, c) => acc + c.width, 0);
    const threads = outer * width;
    // The thread's column within the chunk picks the input; the last one needs no test.
    const branches = chunk.map((c, n) => {
      const read = `in${n}[r * ${c.width}u + j - ${c.start - first}u]`;
      return n === chunk.length - 1
        ? `{ out[r * ${row}u + ${first}u + j] = ${read}; }`
        : `if (j < ${c.start - first + c.width}u) { out[r * ${row}u + ${first}u + j] = ${read}; }`;
    });
    const source = `${bindings(
      chunk.map((c) => c.t.dtype),
      [dtype],
    )}
${elementMain(threads)}
  let r = i / ${width}u;
  let j = i % ${width}u;
  ${branches.join(' else ')}
}
`;
    ctx.run(
      source,
      chunk.map((c) => ctx.input(c.t)),
      [o.buffer],
      grid(threads),
    );
  }
  return o.data;
}

/** Rows of at least this many elements get a workgroup each in scatterAdd. */
const SCATTER_ROW = 16;
/** Threads of a scatterAdd row workgroup, and indices it reads per tile. */
const SCATTER_GROUP = 64;

/**
 * The transpose of gather: updates [outer, count, inner] added into rows of out [outer, dim,
 * inner]. Each output element sums, in index order, the updates of every index that names its
 * row: no atomics (WGSL has none for floats), and the same sum in the same order on every run.
 * For long rows (an embedding's gradient), one workgroup per output row reads the indices once
 * per tile into workgroup memory and its threads, one per column, compare them there, instead of
 * every thread reading all the indices from storage. An index outside [0, dim) (unchecked, as in
 * gather) adds nowhere.
 */
function scatterAdd(ctx: GpuContext, updates: TensorInfo, indices: TensorInfo, axis: number, dim: number, shape: readonly number[], dtype: DType) {
  const size = product(shape);
  const o = ctx.output(dtype, size);
  if (size === 0) return o.data;
  const inner = product(shape.slice(axis + 1));
  const count = product(indices.shape);
  const zero = zeroOf(dtype);
  const header = bindings([updates.dtype, 'int32'], [dtype], ['upd', 'idx']);
  if (inner < SCATTER_ROW) {
    const source = `${header}
${elementMain(size)}
  let k = i % ${inner}u;
  let s = i32((i / ${inner}u) % ${dim}u);
  let o = i / ${inner * dim}u;
  var acc = ${zero};
  for (var c = 0u; c < ${count}u; c++) {
    if (idx[c] == s) { acc = acc + upd[(o * ${count}u + c) * ${inner}u + k]; }
  }
  out[i] = acc;
}
`;
    ctx.run(source, [ctx.input(updates), ctx.input(indices)], [o.buffer], grid(size));
    return o.data;
  }
  const rows = size / inner;
  const tiles = Math.ceil(count / SCATTER_GROUP);
  const blocks = Math.ceil(inner / SCATTER_GROUP);
  // The row comes from the workgroup id and every loop bound is a constant, so the barriers stay
  // in uniform control flow; threads past the row's last column only help load the tiles.
  const source = `${header}
var<workgroup> tile: array<i32, ${SCATTER_GROUP}>;
@compute @workgroup_size(${SCATTER_GROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wg.y * nwg.x + wg.x;
  if (row >= ${rows}u) { return; }
  let s = i32(row % ${dim}u);
  let o = row / ${dim}u;
  for (var b = 0u; b < ${blocks}u; b++) {
    let k = b * ${SCATTER_GROUP}u + li;
    var acc = ${zero};
    for (var t = 0u; t < ${tiles}u; t++) {
      let c = t * ${SCATTER_GROUP}u + li;
      tile[li] = select(-1, idx[min(c, ${Math.max(count - 1, 0)}u)], c < ${count}u);
      workgroupBarrier();
      if (k < ${inner}u) {
        for (var j = 0u; j < ${SCATTER_GROUP}u; j++) {
          if (tile[j] == s) { acc = acc + upd[(o * ${count}u + t * ${SCATTER_GROUP}u + j) * ${inner}u + k]; }
        }
      }
      workgroupBarrier();
    }
    if (k < ${inner}u) { out[row * ${inner}u + k] = acc; }
  }
}
`;
  ctx.run(source, [ctx.input(updates), ctx.input(indices)], [o.buffer], grid(rows, 1));
  return o.data;
}
