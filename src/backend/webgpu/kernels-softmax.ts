import type { Shape } from '../../core/shape.js';
import type { CoreKernels, Kernel, OptionalKernels, TensorInfo } from '../backend.js';
import type { GpuContext } from './context.js';
import { bindings, elementMain, grid, LITERAL_SUPPORT, literal } from './wgsl.js';

// Softmax, log-softmax, their one-pass gradients (Note [Softmax gradients in one pass] in
// ops/softmax-grads.ts) and sparse softmax cross-entropy (Note [Sparse softmax cross-entropy in
// one pass]) on the webgpu backend.
//
// Note [Row kernels]
// Every kernel here is a row kernel: x seen as [outer, n, inner] has outer·inner rows of n
// elements, element j of a row `inner` apart. Two shapes of the same code:
//   * short rows: one thread per row walks it alone; along a middle axis neighbouring threads
//     read neighbouring addresses, so the loads stay coalesced without a transpose;
//   * long rows (more than SHORT_ROW): one workgroup per row, each thread a strided share of it,
//     with the maximum and the sum reduced in shared memory, so a 1000-class row is not one
//     thread's serial loop.
// Like the reference backend: the row maximum is subtracted first so exp never overflows, and an
// all -inf row subtracts 0 instead (its softmax is then 0/0 = NaN, as the reference gives).

/** Rows up to this long get one thread each; longer ones a workgroup. */
const SHORT_ROW = 64;
/** Threads per row in the workgroup shape (a power of two, for the tree reduction). */
const ROW_THREADS = 256;

/** The shape around `axis`: [outer, n, inner]. */
function aroundAxis(shape: Shape, axis: number): [number, number, number] {
  const prod = (s: Shape) => s.reduce((p, d) => p * d, 1);
  return [prod(shape.slice(0, axis)), shape[axis], prod(shape.slice(axis + 1))];
}

interface Rows {
  rows: number;
  n: number;
  inner: number;
}

/**
 * The WGSL of a row kernel: `decls` (bindings), then `body`, run once per row with `row` (u32),
 * `base` (the flat index of the row's element 0) and these stand-ins: `AT(j)` the flat index of
 * element j; `EACH(j) { ... }` a loop over the thread's share of the row's elements;
 * rowMax(v, li) / rowSum(v, li) combine the threads' partial values into the row's (identities
 * when one thread owns the row); `lead` is true in one thread per row (for per-row writes).
 */
function rowKernel(r: Rows, decls: string, body: string): { source: string; groups: [number, number, number] } {
  const wide = r.n > SHORT_ROW;
  const index = r.inner === 1 ? `row * ${r.n}u` : `(row / ${r.inner}u) * ${r.n * r.inner}u + row % ${r.inner}u`;
  const at = r.inner === 1 ? 'base + j' : `base + j * ${r.inner}u`;
  const loop = wide ? `for (var j = li; j < ${r.n}u; j += ${ROW_THREADS}u)` : `for (var j = 0u; j < ${r.n}u; j++)`;
  const text = body.replaceAll('EACH(j)', loop).replaceAll('AT(j)', `(${at})`);
  if (!wide) {
    const source = `${decls}\n${LITERAL_SUPPORT}\n${ROW_LOG}\nfn rowMax(v: f32, li: u32) -> f32 { return v; }\nfn rowSum(v: f32, li: u32) -> f32 { return v; }
${elementMain(r.rows)}
  let row = i;
  let lead = true;
  let base = ${index};
${text}
}`;
    return { source, groups: grid(r.rows) };
  }
  // The reductions leave the result in red[0]; every thread reads it, and the barrier after the
  // read keeps the next reduction from overwriting it first.
  const reduce = (name: string, combine: string) => `fn ${name}(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = ${ROW_THREADS / 2}u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] = ${combine}; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`;
  const source = `${decls}\n${LITERAL_SUPPORT}\n${ROW_LOG}
var<workgroup> red: array<f32, ${ROW_THREADS}>;
${reduce('rowMax', 'max(red[li], red[li + s])')}
${reduce('rowSum', 'red[li] + red[li + s]')}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  // One workgroup per row: the test is uniform across the workgroup, so the barriers stay legal.
  let row = wg.y * nwg.x + wg.x;
  if (row >= ${r.rows}u) { return; }
  let lead = li == 0u;
  let base = ${index};
${text}
}`;
  return { source, groups: grid(r.rows, 1) };
}

/** WGSL for the row maximum of x into `m`, with an all -inf row's replaced by 0 (tested on the bits: WGSL may assume no infinities in comparisons). */
const rowMaxOf = (x: string) => `  var mp = ${literal(-Infinity, 'float32')};
  EACH(j) { mp = max(mp, ${x}[AT(j)]); }
  var m = rowMax(mp, li);
  if (bitcast<u32>(m) == 0xff800000u) { m = 0.0; }`;

/** WGSL for s = Σ exp(x - m) over the row. */
const rowExpSum = (x: string) => `  var sp = 0.0;
  EACH(j) { sp += exp(${x}[AT(j)] - m); }
  let s = rowSum(sp, li);`;

/**
 * log s, NaN for s = 0 (only an all -inf row sums to 0, and the reference's log-softmax of it is
 * -inf - log 0 = NaN; WGSL leaves log 0 undefined, and SwiftShader gives a finite number).
 */
const ROW_LOG = `fn rowLog(s: f32) -> f32 { return select(log(s), ${literal(Number.NaN, 'float32')}, s == 0.0); }`;

export function softmaxKernels(ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  const run = (inputs: readonly TensorInfo[], size: number, r: Rows, decls: string, body: string) => {
    const out = ctx.output('float32', size);
    if (size === 0) return out.data;
    const { source, groups } = rowKernel(r, decls, body);
    ctx.run(
      source,
      inputs.map((t) => ctx.input(t)),
      [out.buffer],
      groups,
    );
    return out.data;
  };

  const forward =
    (log: boolean): Kernel<'softmax' | 'logSoftmax'> =>
    ([x], { axis }) => {
      const [outer, n, inner] = aroundAxis(x.shape, axis);
      // log: (x - m) - log s, exact near the maximum where x - (m + log s) would cancel.
      const write = log ? 'out[AT(j)] = (x[AT(j)] - m) - ls;' : 'out[AT(j)] = exp(x[AT(j)] - m) * k;';
      const body = `${rowMaxOf('x')}\n${rowExpSum('x')}
  let ls = rowLog(s);
  let k = select(1.0 / s, ${literal(Number.NaN, 'float32')}, s == 0.0);
  EACH(j) { ${write} }`;
      return run([x], outer * n * inner, { rows: outer * inner, n, inner }, bindings(['float32'], ['float32'], ['x', 'out']), body);
    };

  const backward =
    (log: boolean): Kernel<'softmaxGrad' | 'logSoftmaxGrad'> =>
    ([y, g], { axis }) => {
      const [outer, n, inner] = aroundAxis(y.shape, axis);
      // softmax: dx = y·(g - Σ g·y); log-softmax: dx = g - exp(y)·Σ g, with y clamped to 0 so a
      // rounding above 0 cannot make exp(y) exceed 1.
      const term = log ? 'g[AT(j)]' : 'g[AT(j)] * y[AT(j)]';
      const write = log ? 'out[AT(j)] = g[AT(j)] - exp(min(y[AT(j)], 0.0)) * t;' : 'out[AT(j)] = y[AT(j)] * (g[AT(j)] - t);';
      const body = `  var tp = 0.0;
  EACH(j) { tp += ${term}; }
  let t = rowSum(tp, li);
  EACH(j) { ${write} }`;
      const decls = bindings(['float32', 'float32'], ['float32'], ['y', 'g', 'out']);
      return run([y, g], outer * n * inner, { rows: outer * inner, n, inner }, decls, body);
    };

  // A label outside [0, classes) gives a NaN row (the ops layer poisons the loss of such a label
  // the same way, Note [Label checks without host reads]) and is never used as an index.
  const xent =
    (grad: boolean): Kernel<'sparseSoftmaxCrossEntropy' | 'sparseSoftmaxCrossEntropyGrad'> =>
    (inputs) => {
      const [z] = inputs;
      const [rows, classes] = z.shape;
      const nan = literal(Number.NaN, 'float32');
      const head = `${rowMaxOf('z')}\n${rowExpSum('z')}
  let label = labels[row];
  let ok = label >= 0 && label < ${classes};`;
      const body = grad
        ? `${head}
  // g·(softmax(z) - onehot(label))
  let scale = gr[row] / s;
  EACH(j) { out[AT(j)] = select(${nan}, exp(z[AT(j)] - m) * scale - select(0.0, gr[row], i32(j) == label), ok); }`
        : `${head}
  if (lead) { out[row] = select(${nan}, rowLog(s) + m - z[base + u32(select(0, label, ok))], ok); }`;
      const dtypes = grad ? (['float32', 'int32', 'float32'] as const) : (['float32', 'int32'] as const);
      const decls = bindings(dtypes, ['float32'], grad ? ['z', 'labels', 'gr', 'out'] : ['z', 'labels', 'out']);
      return run(inputs, grad ? rows * classes : rows, { rows, n: classes, inner: 1 }, decls, body);
    };

  return {
    softmax: forward(false),
    logSoftmax: forward(true),
    softmaxGrad: backward(false),
    logSoftmaxGrad: backward(true),
    sparseSoftmaxCrossEntropy: xent(false),
    sparseSoftmaxCrossEntropyGrad: xent(true),
  };
}
