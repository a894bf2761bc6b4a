import type { DType } from '../../core/dtype.js';
import type { TensorInfo } from '../backend.js';
import type { GpuContext } from './context.js';
import type { GpuData } from './gpu-data.js';
import { bindings, storageType } from './wgsl.js';

// Note [Tiled GEMM on the GPU]
// matmul, fusedMatMul and every convolution kernel are one generated kernel: C[b] = A[b] · B[b]
// with C [M, N] row-major, where the kernel family only says how to read A(row, k) and B(k, col)
// (a strided read for matmul and its transposes, a gather from the NHWC input for a convolution:
// implicit GEMM, no im2col buffer) and what to do with each sum (bias, ReLU).
//   A workgroup of TX x TY threads owns a BM x BN block of C and walks K in steps of BK: the
// threads copy the A and B tiles of the step into workgroup memory (zero past the edges, so the
// inner loop needs no bounds checks), meet at a barrier, and each thread adds BK products into
// its RM x RN accumulators, held in registers. A thread's outputs are strided by TY rows and TX
// columns, so neighbouring threads read neighbouring words of a tile and write neighbouring
// words of C. The tile loads let consecutive threads take consecutive words of memory: along k
// when the operand is stored k-fastest, else along its row (or column).
//   Shapes are baked into the source, so the compiler folds the index arithmetic and drops
// the bounds checks of dimensions that are multiples of the tile. Workgroups are numbered
// linearly over (column block, row block, batch) and laid out on x and y, so neither passes the
// 65535-per-dimension limit however large the batch or the matrices.
// Tiles are 8-64 wide, chosen per matrix: a [1, K] x [K, N] product runs 8-row tiles rather
// than 64-row ones of which 63 rows would be padding.

const MAX_GROUPS_X = 65535;

export interface GemmSpec {
  dtype: DType;
  batch: number;
  m: number;
  n: number;
  k: number;
  /** The kernel's inputs (bound read-only from 0) and their WGSL names; the output is `out`. */
  inputs: readonly { name: string; dtype: DType }[];
  /**
   * WGSL statements that set `v` to A(row, kk) of batch `b`; row < m and kk < k hold (a
   * convolution's gather leaves `v` at zero in the padding).
   */
  loadA: string;
  /** Whether A is stored row-fastest (transposed: consecutive rows are consecutive words). */
  aRowFastest: boolean;
  /** The same for B(kk, col). */
  loadB: string;
  /** Whether B is stored column-fastest (row-major [K, N]). */
  bColFastest: boolean;
  /** A WGSL expression of the value to store from the sum `acc` at column `col` (default: the sum). */
  epilogue?: (acc: string, col: string) => string;
  /**
   * A WGSL statement storing `value`, C(row, col) of batch `b`, into `out`, for a product whose
   * rows land scattered in the output (default: row-major C per batch).
   */
  store?: (row: string, col: string, value: string) => string;
  /** The output's size when `store` scatters (default batch·m·n). */
  outSize?: number;
  /** Module-scope declarations the loaders use (tables). */
  declarations?: string;
}

/** The device limits a tile must fit. */
export interface GemmLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupStorageSize: number;
}

interface Tiling {
  tx: number;
  ty: number;
  bm: number;
  bn: number;
  bk: number;
}

const pow2 = (d: number) => 2 ** Math.ceil(Math.log2(Math.max(1, d)));

/** The smallest of 8, 16, 32 and 64 that covers `d`, but at least the thread count along it. */
const blockFor = (d: number, threads: number) => Math.max(threads, d <= 8 ? 8 : d <= 16 ? 16 : d <= 32 ? 32 : 64);

function tiling(spec: GemmSpec, limits: GemmLimits): Tiling {
  // 8 x 8 threads of up to 8 x 8 outputs each: on SwiftShader (threads are SIMD lanes of a CPU
  // core) 64 accumulators a thread ran 256x256x256 about 2.5 times as fast as 16 x 16 threads of
  // 4 x 4, and 64x64 tiles with 64 threads are a common shape on hardware GPUs too. Fewer
  // threads where the device allows fewer than 64 (a power of two, so it divides the tiles).
  const threads = 2 ** Math.floor(Math.log2(Math.min(64, limits.maxComputeInvocationsPerWorkgroup)));
  let tx = Math.min(8, threads),
    ty = threads / tx;
  let bm = blockFor(spec.m, ty),
    bn = blockFor(spec.n, tx);
  // A matrix-vector product (a dense layer on one sample, a layer of one unit) would waste 7 of
  // 8 rows of threads on padding: all threads go along the long side instead, one row each.
  if (spec.m <= 4 && spec.n > 4) [tx, ty, bm, bn] = [threads, 1, pow2(spec.m), threads];
  else if (spec.n <= 4 && spec.m > 4) [tx, ty, bm, bn] = [1, threads, threads, pow2(spec.n)];
  // A narrow product (a convolution with few output channels, a dense layer on a small batch)
  // keeps 8 outputs a thread along its short side and lends the spare threads to the long one, up
  // to 128: a third less work than 64x32 tiles for [12544, 144] x [144, 32] on SwiftShader.
  else if (spec.n <= 32 && spec.m > 64) {
    tx = Math.min(threads, Math.max(1, pow2(spec.n) / 8));
    ty = threads / tx;
    [bm, bn] = [Math.max(ty, Math.min(128, ty * 8)), tx * 8];
  } else if (spec.m <= 32 && spec.n > 64) {
    ty = Math.min(threads, Math.max(1, pow2(spec.m) / 8));
    tx = threads / ty;
    [bm, bn] = [ty * 8, Math.max(tx, Math.min(128, tx * 8))];
  }
  // Both tiles of one step in workgroup memory; 16 steps of k per barrier pair, halved until it fits.
  let bk = 16;
  while (bk > 1 && (bm + bn) * bk * 4 > limits.maxComputeWorkgroupStorageSize) bk /= 2;
  return { tx, ty, bm, bn, bk };
}

const cdiv = (a: number, b: number) => Math.ceil(a / b);

/** The workgroups of one dispatch of `gemmSource(spec, limits)`. */
export function gemmGroups(spec: GemmSpec, limits: GemmLimits): [number, number, number] {
  const t = tiling(spec, limits);
  const groups = cdiv(spec.m, t.bm) * cdiv(spec.n, t.bn) * spec.batch;
  if (groups <= MAX_GROUPS_X) return [groups, 1, 1];
  return [MAX_GROUPS_X, cdiv(groups, MAX_GROUPS_X), 1];
}

/** One operand's tile load: each thread copies its share of the BK-deep slice into workgroup memory. */
function tileLoad(
  what: 'A' | 'B',
  outer: number,
  bk: number,
  threads: number,
  outerFastest: boolean,
  dims: { outer: number; k: number },
  load: string,
  T: string,
): string {
  const words = outer * bk;
  const perThread = cdiv(words, threads);
  const [o, origin] = what === 'A' ? ['row', 'm0'] : ['col', 'n0'];
  // Coordinates in the tile of the thread's f-th word; the fastest one follows memory.
  const coords = outerFastest ? `let to = f % ${outer}u; let tk = f / ${outer}u;` : `let tk = f % ${bk}u; let to = f / ${bk}u;`;
  const checks = [...(dims.outer % outer !== 0 ? [`${o} < ${dims.outer}u`] : []), ...(dims.k % bk !== 0 ? [`kk < ${dims.k}u`] : [])];
  const body = checks.length ? `if (${checks.join(' && ')}) {\n${load}\n}` : load;
  const guard = words % threads !== 0 ? `if (f < ${words}u) ` : '';
  return `for (var q = 0u; q < ${perThread}u; q++) {
  let f = li + q * ${threads}u;
  ${guard}{
    ${coords}
    let ${o} = ${origin} + to;
    let kk = k0 + tk;
    var v = ${T}(0);
    ${body}
    tile${what}[tk * ${outer}u + to] = v;
  }
}`;
}

/** The WGSL source of the product `spec` (Note [Tiled GEMM on the GPU]). */
export function gemmSource(spec: GemmSpec, limits: GemmLimits): string {
  const { tx, ty, bm, bn, bk } = tiling(spec, limits);
  const T = storageType(spec.dtype);
  const rm = bm / ty,
    rn = bn / tx;
  const threads = tx * ty;
  const tilesN = cdiv(spec.n, bn),
    tilesM = cdiv(spec.m, bm);
  const groups = tilesN * tilesM * spec.batch;
  const steps = cdiv(spec.k, bk);
  const rs = [...Array(rm).keys()],
    cs = [...Array(rn).keys()];
  const accs = rs.flatMap((r) => cs.map((c) => `var acc${r}_${c} = ${T}(0);`)).join('\n  ');
  const readA = rs.map((r) => `let a${r} = tileA[t * ${bm}u + ty + ${r * ty}u];`).join('\n      ');
  const readB = cs.map((c) => `let b${c} = tileB[t * ${bn}u + tx + ${c * tx}u];`).join('\n      ');
  const fmas = rs.flatMap((r) => cs.map((c) => `acc${r}_${c} += a${r} * b${c};`)).join('\n      ');
  const epilogue = spec.epilogue ?? ((acc: string) => acc);
  const writes = rs
    .flatMap((r) =>
      cs.map((c) => {
        const checks = [...(spec.m % bm !== 0 ? [`row${r} < ${spec.m}u`] : []), ...(spec.n % bn !== 0 ? [`col${c} < ${spec.n}u`] : [])];
        const value = epilogue(`acc${r}_${c}`, `col${c}`);
        const store = spec.store ? spec.store(`row${r}`, `col${c}`, value) : `out[cOff + row${r} * ${spec.n}u + col${c}] = ${value};`;
        return checks.length ? `if (${checks.join(' && ')}) { ${store} }` : store;
      }),
    )
    .join('\n  ');
  return `${bindings(
    spec.inputs.map((i) => i.dtype),
    [spec.dtype],
    [...spec.inputs.map((i) => i.name), 'out'],
  )}
var<workgroup> tileA: array<${T}, ${bm * bk}>;
var<workgroup> tileB: array<${T}, ${bn * bk}>;
${spec.declarations ?? ''}
@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let id = wg.y * nwg.x + wg.x;
  // Uniform across the workgroup (workgroup_id is), so the barriers below stay valid.
  if (id >= ${groups}u) { return; }
  let n0 = (id % ${tilesN}u) * ${bn}u;
  let m0 = ((id / ${tilesN}u) % ${tilesM}u) * ${bm}u;
  let b = id / ${tilesN * tilesM}u;
  let tx = li % ${tx}u;
  let ty = li / ${tx}u;
  ${accs}
  for (var step = 0u; step < ${steps}u; step++) {
    let k0 = step * ${bk}u;
    ${tileLoad('A', bm, bk, threads, spec.aRowFastest, { outer: spec.m, k: spec.k }, spec.loadA, T)}
    ${tileLoad('B', bn, bk, threads, spec.bColFastest, { outer: spec.n, k: spec.k }, spec.loadB, T)}
    workgroupBarrier();
    for (var t = 0u; t < ${bk}u; t++) {
      ${readA}
      ${readB}
      ${fmas}
    }
    workgroupBarrier();
  }
  let cOff = b * ${spec.m * spec.n}u;
  ${rs.map((r) => `let row${r} = m0 + ty + ${r * ty}u;`).join('\n  ')}
  ${cs.map((c) => `let col${c} = n0 + tx + ${c * tx}u;`).join('\n  ')}
  ${writes}
}
`;
}

/** Dispatches the product `spec` over `inputs` (in the order of spec.inputs) and returns its new storage. */
export function runGemm(ctx: GpuContext, spec: GemmSpec, inputs: readonly TensorInfo[]): GpuData {
  const size = spec.outSize ?? spec.batch * spec.m * spec.n;
  const out = ctx.output(spec.dtype, size);
  if (size === 0) return out.data;
  ctx.run(
    gemmSource(spec, ctx.limits),
    inputs.map((t) => ctx.input(t)),
    [out.buffer],
    gemmGroups(spec, ctx.limits),
  );
  return out.data;
}
