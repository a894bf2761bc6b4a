import type { Shape } from '../../core/shape.js';
import type { OptionalKernels, TensorInfo } from '../backend.js';
import type { GpuContext } from './context.js';
import { BUFFER_USAGE } from './gpu-flags.js';
import { bindings, elementMain, grid, literal } from './wgsl.js';

// Note [WebGPU normalization]
// Channels-last data seen as [rows, C] (Note [Fused normalization] in ops/normalization-fused.ts),
// float32, sums in f32. Three shapes of kernel:
//   - Column sums (batchNormStats, the two GradSums): one workgroup per block of CB channels,
//     CB x RT threads; lane (cx, ry) walks rows ry, ry + RT, ... of channel cx, so each row's CB
//     values are read side by side, and the RT partial sums meet in a shared-memory tree. The
//     variance takes two passes (the mean first, then Σ(x - mean)²): E[x²] - E[x]² cancels in f32
//     when the mean is large against the spread.
//   - Row ops (layerNorm, its input gradient and row statistics): one workgroup per row when C is
//     large enough to share out (lanes stride over the row, a tree gives the row's sums to every
//     lane), one thread per row when it is not (a tree over a few values costs more than the loop).
//   - Per-element ops with per-channel parameters (batchNormApply, batchNormTraining,
//     batchNormGradInput): one thread per element; each recomputes its channel's coefficients,
//     which is a few flops against a memory-bound pass.
// layerNormGradSums needs each row's statistics before the column sums: a row-statistics kernel
// writes them to a scratch buffer that the second kernel reads. Only dispatches touch that buffer
// and they run in order, so one buffer, grown when a larger batch needs it, serves every call.

/** Rows at or above which C values are shared out over a workgroup rather than looped by one thread. */
const ROW_THREAD_MAX = 32;
/** Threads per workgroup of the column-sum kernels. */
const COLUMN_THREADS = 256;

const rowsAndChannels = (shape: Shape): [number, number] => [shape.slice(0, -1).reduce((p, d) => p * d, 1), shape[shape.length - 1]];
const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const f32Bindings = (names: readonly string[]) =>
  bindings(
    names.slice(0, -1).map(() => 'float32'),
    ['float32'],
    names,
  );

/**
 * The head of a column-sum kernel over x [rows, C]: a tree `tree(v)` summing vec2 values over the
 * row lanes of a channel (every lane gets the total), and main up to `live` (whether this lane's
 * channel `c` exists; lanes past C still join the barriers).
 */
function columnHead(rows: number, c: number): { head: string; groups: [number, number, number] } {
  const cb = Math.min(32, pow2(c)),
    rt = COLUMN_THREADS / cb,
    blocks = Math.ceil(c / cb);
  const head = `const R = ${rows}u;
const C = ${c}u;
const CB = ${cb}u;
const RT = ${rt}u;
var<workgroup> sh: array<vec2f, ${cb * rt}>;
fn tree(v: vec2f, lx: u32, ly: u32) -> vec2f {
  sh[ly * CB + lx] = v;
  workgroupBarrier();
  for (var s = RT / 2u; s > 0u; s = s / 2u) {
    if (ly < s) { sh[ly * CB + lx] += sh[(ly + s) * CB + lx]; }
    workgroupBarrier();
  }
  let total = sh[lx];
  workgroupBarrier();
  return total;
}
@compute @workgroup_size(${cb}, ${rt})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let block = wg.y * nwg.x + wg.x;
  if (block >= ${blocks}u) { return; }
  let c = block * CB + lid.x;
  let live = c < C;`;
  return { head, groups: grid(blocks, 1) };
}

/**
 * The head of a row kernel over x [rows, C]: main up to `row`, `base` (its first element) and the
 * lane's first channel `c0` and stride `step`, with `total(v, li)` summing a vec2 over the lanes.
 */
function rowHead(rows: number, c: number): { head: string; groups: [number, number, number] } {
  const consts = `const R = ${rows}u;\nconst C = ${c}u;\n`;
  const builtins = '@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32';
  if (c <= ROW_THREAD_MAX) {
    const head = `${consts}fn total(v: vec2f, li: u32) -> vec2f { return v; }
@compute @workgroup_size(64)
fn main(${builtins}) {
  let row = (wg.y * nwg.x + wg.x) * 64u + li;
  if (row >= R) { return; }
  let c0 = 0u;
  let step = 1u;
  let base = row * C;`;
    return { head, groups: grid(rows, 64) };
  }
  const lanes = Math.min(256, Math.max(32, pow2(Math.ceil(c / 8))));
  const head = `${consts}var<workgroup> sh: array<vec2f, ${lanes}>;
fn total(v: vec2f, li: u32) -> vec2f {
  sh[li] = v;
  workgroupBarrier();
  for (var s = ${lanes / 2}u; s > 0u; s = s / 2u) {
    if (li < s) { sh[li] += sh[li + s]; }
    workgroupBarrier();
  }
  let t = sh[0];
  workgroupBarrier();
  return t;
}
@compute @workgroup_size(${lanes})
fn main(${builtins}) {
  let row = wg.y * nwg.x + wg.x;
  if (row >= R) { return; }
  let c0 = li;
  let step = ${lanes}u;
  let base = row * C;`;
  return { head, groups: grid(rows, 1) };
}

/** A row's mean and 1/√(var + ε) (two passes), as `mean` and `inv`. */
const rowStats = (eps: number) => `
  var s: f32 = 0.0;
  for (var c = c0; c < C; c += step) { s += x[base + c]; }
  let mean = total(vec2f(s, 0.0), li).x / f32(C);
  var q: f32 = 0.0;
  for (var c = c0; c < C; c += step) { let d = x[base + c] - mean; q += d * d; }
  let inv = 1.0 / sqrt(total(vec2f(q, 0.0), li).x / f32(C) + ${literal(eps, 'float32')});`;

/** The norm kernels of Note [WebGPU normalization]. */
export function normKernels(ctx: GpuContext): OptionalKernels {
  let scratch: GPUBuffer | undefined;
  /** The row-statistics scratch buffer, at least `bytes` long (Note [WebGPU normalization]). */
  const scratchOf = (bytes: number): GPUBuffer => {
    // The buffer it replaces may still be bound by a recorded dispatch: dropping the reference
    // (not destroy()) lets the driver free it once that work is done.
    if (!scratch || scratch.size < bytes) scratch = ctx.queue.device.createBuffer({ size: Math.max(256, pow2(bytes)), usage: BUFFER_USAGE.STORAGE });
    return scratch;
  };

  const run = (size: number, source: string, inputs: readonly TensorInfo[], groups: [number, number, number]) => {
    const out = ctx.output('float32', size);
    ctx.run(
      source,
      inputs.map((t) => ctx.input(t)),
      [out.buffer],
      groups,
    );
    return out.data;
  };

  /** y = (x - mean)·γ/√(var + ε) + β, `mean` and `variance` WGSL expressions of the channel c. */
  const apply = (x: TensorInfo, names: string[], mean: string, variance: string, eps: number) => {
    const [rows, c] = rowsAndChannels(x.shape);
    const n = rows * c;
    const source = `${f32Bindings(names)}
const C = ${c}u;
${elementMain(n)}
  let c = i % C;
  out[i] = (x[i] - ${mean}) * (gamma[c] / sqrt(${variance} + ${literal(eps, 'float32')})) + beta[c];
}`;
    return { source, n };
  };

  return {
    batchNormStats: ([x]) => {
      const [rows, c] = rowsAndChannels(x.shape);
      const { head, groups } = columnHead(rows, c);
      const source = `${f32Bindings(['x', 'out'])}
${head}
  var s: f32 = 0.0;
  if (live) { for (var r = lid.y; r < R; r += RT) { s += x[r * C + c]; } }
  let mean = tree(vec2f(s, 0.0), lid.x, lid.y).x / f32(R);
  var q: f32 = 0.0;
  if (live) { for (var r = lid.y; r < R; r += RT) { let d = x[r * C + c] - mean; q += d * d; } }
  let variance = tree(vec2f(q, 0.0), lid.x, lid.y).x / f32(R);
  if (live && lid.y == 0u) {
    out[c] = mean;
    out[C + c] = variance;
  }
}`;
      return run(2 * c, source, [x], groups);
    },

    batchNormApply: ([x, mean, variance, gamma, beta], { epsilon }) => {
      const { source, n } = apply(x, ['x', 'mean', 'variance', 'gamma', 'beta', 'out'], 'mean[c]', 'variance[c]', epsilon);
      return run(n, source, [x, mean, variance, gamma, beta], grid(n));
    },

    batchNormTraining: ([x, gamma, beta, stats], { epsilon }) => {
      const { source, n } = apply(x, ['x', 'gamma', 'beta', 'stats', 'out'], 'stats[c]', 'stats[C + c]', epsilon);
      return run(n, source, [x, gamma, beta, stats], grid(n));
    },

    batchNormGradSums: ([x, stats, dy], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      const { head, groups } = columnHead(rows, c);
      const source = `${f32Bindings(['x', 'stats', 'dy', 'out'])}
${head}
  var acc = vec2f(0.0, 0.0);
  if (live) {
    let m = stats[c];
    for (var r = lid.y; r < R; r += RT) { let g = dy[r * C + c]; acc += vec2f(g * (x[r * C + c] - m), g); }
  }
  let t = tree(acc, lid.x, lid.y);
  if (live && lid.y == 0u) {
    out[c] = t.x / sqrt(stats[C + c] + ${literal(epsilon, 'float32')});
    out[C + c] = t.y;
  }
}`;
      return run(2 * c, source, [x, stats, dy], groups);
    },

    batchNormGradInput: ([x, gamma, stats, dy, sums], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      const n = rows * c;
      // dx = γ·inv·(dy - Σdy/R - x̂·Σ(dy·x̂)/R), inv = 1/√(var + ε), x̂ = (x - mean)·inv.
      const source = `${f32Bindings(['x', 'gamma', 'stats', 'dy', 'sums', 'out'])}
const C = ${c}u;
const R = ${rows}.0;
${elementMain(n)}
  let c = i % C;
  let inv = 1.0 / sqrt(stats[C + c] + ${literal(epsilon, 'float32')});
  out[i] = gamma[c] * inv * (dy[i] - sums[C + c] / R - (x[i] - stats[c]) * inv * (sums[c] / R));
}`;
      return run(n, source, [x, gamma, stats, dy, sums], grid(n));
    },

    layerNorm: ([x, gamma, beta], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      const { head, groups } = rowHead(rows, c);
      const source = `${f32Bindings(['x', 'gamma', 'beta', 'out'])}
${head}${rowStats(epsilon)}
  for (var c = c0; c < C; c += step) { out[base + c] = (x[base + c] - mean) * inv * gamma[c] + beta[c]; }
}`;
      return run(rows * c, source, [x, gamma, beta], groups);
    },

    layerNormGradSums: ([x, dy], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      // First each row's mean and inv into the scratch buffer [rows, 2]...
      const stats = scratchOf(rows * 8);
      const rowsKernel = rowHead(rows, c);
      const statsSource = `${f32Bindings(['x', 'out'])}
${rowsKernel.head}${rowStats(epsilon)}
  if (c0 == 0u) {
    out[2u * row] = mean;
    out[2u * row + 1u] = inv;
  }
}`;
      ctx.run(statsSource, [ctx.input(x)], [stats], rowsKernel.groups);
      // ...then the column sums of dy·x̂ and dy.
      const { head, groups } = columnHead(rows, c);
      const source = `${f32Bindings(['x', 'dy', 'rs', 'out'])}
${head}
  var acc = vec2f(0.0, 0.0);
  if (live) {
    for (var r = lid.y; r < R; r += RT) {
      let g = dy[r * C + c];
      acc += vec2f(g * ((x[r * C + c] - rs[2u * r]) * rs[2u * r + 1u]), g);
    }
  }
  let t = tree(acc, lid.x, lid.y);
  if (live && lid.y == 0u) {
    out[c] = t.x;
    out[C + c] = t.y;
  }
}`;
      const out = ctx.output('float32', 2 * c);
      ctx.run(source, [ctx.input(x), ctx.input(dy), stats], [out.buffer], groups);
      return out.data;
    },

    layerNormGradInput: ([x, gamma, dy], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      const { head, groups } = rowHead(rows, c);
      // dx = inv·(gd - mean(gd) - x̂·mean(gd·x̂)), gd = dy·γ.
      const source = `${f32Bindings(['x', 'gamma', 'dy', 'out'])}
${head}${rowStats(epsilon)}
  var a = vec2f(0.0, 0.0);
  for (var c = c0; c < C; c += step) {
    let gd = dy[base + c] * gamma[c];
    a += vec2f(gd, gd * ((x[base + c] - mean) * inv));
  }
  let m = total(a, li) / f32(C);
  for (var c = c0; c < C; c += step) {
    let xhat = (x[base + c] - mean) * inv;
    out[base + c] = inv * (dy[base + c] * gamma[c] - m.x - xhat * m.y);
  }
}`;
      return run(rows * c, source, [x, gamma, dy], groups);
    },
  };
}
