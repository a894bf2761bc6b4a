import type { CoreKernels, Kernel, OptionalKernels } from '../backend.js';
import type { GpuContext } from './context.js';
import { grid, WORKGROUP } from './wgsl.js';

// Note [Bitonic argsort on the GPU]
// argsortRows orders each row of x [rows, n] by a bitonic sorting network over (key, index)
// pairs, the row padded to P = the next power of two with pairs that sort after every real one.
//   * The key is a u32 whose unsigned order is the value order of Note [Sorting on the host]:
//     float bits with the sign bit flipped (all bits for negatives), every NaN made 0xffffffff
//     (above +Infinity) and -0 made +0 (they tie); int32 with the sign bit flipped. Descending
//     inverts the key, so NaN comes first, as the host's reversed comparison puts it.
//   * Pairs compare by key, then by index: no two are equal, so the network's result is the one
//     stable order whatever the network does with ties. Padding gets the key 0xffffffff and an
//     index >= n, after every real pair even a NaN's (descending) or int32 min's (inverted).
//   * Chunks of C = min(P, LOCAL) elements sort in workgroup memory, several short rows to a
//     workgroup, in one dispatch (every stage, with a barrier between). A longer row then merges
//     per stage size k: the compare distances j >= C as one dispatch each over global scratch,
//     and all j < C in one more workgroup-memory dispatch per k. Stage directions come from the
//     position in the row (pos & k), as in the textbook network, so the chunks of a long row
//     sort in alternating directions and merge.
// Comparisons are on u32 bits only: WGSL may assume floats are never NaN.

/** Elements sorted in one workgroup's memory (8 KB of vec2<u32>, inside the 16 KB every device offers). */
const LOCAL = 1024;
/** Elements a workgroup holds at least: short rows are packed so the 256 threads have work. */
const GROUP_MIN = 2 * WORKGROUP;

const KEYS = `fn floatKey(b: u32) -> u32 {
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0xffffffffu; }
  if (b == 0x80000000u) { return 0x80000000u; }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}
fn intKey(b: u32) -> u32 { return b ^ 0x80000000u; }
// a before b: by key, then by index.
fn before(a: vec2u, b: vec2u) -> bool { return a.x < b.x || (a.x == b.x && a.y < b.y); }
// The element a pair number t compares at distance j: t with a 0 bit inserted at j's bit.
fn lower(t: u32, j: u32) -> u32 { return ((t & ~(j - 1u)) << 1u) | (t & (j - 1u)); }`;

interface Plan {
  rows: number;
  n: number;
  /** The padded row length, a power of two. */
  p: number;
  /** The chunk a workgroup-memory pass sorts or merges. */
  c: number;
  /** Elements per workgroup: one chunk, or several rows' when rows are short. */
  g: number;
  key: 'floatKey' | 'intKey';
  descending: boolean;
}

/**
 * A workgroup-memory pass over chunks of plan.c: stages k = kFrom..kTo (doubling), each with
 * distances j from min(k, c)/2 down to 1. Loads from x (making the pairs) or from scratch; stores
 * to scratch or, in the last pass, the indices of the row's first n pairs to out.
 */
function localPass(plan: Plan, kFrom: number, kTo: number, fromX: boolean, toOut: boolean): string {
  const { n, p, c, g } = plan;
  const chunks = (plan.rows * p) / c;
  // Bindings in GpuQueue's order: x (read-only), then the scratch pairs unless this one pass does
  // it all, then out.
  const names: string[] = [];
  if (fromX) names.push('x: array<u32>');
  if (!(fromX && toOut)) names.push('pairs: array<vec2u>');
  if (toOut) names.push('out: array<u32>');
  const decls = names.map((d, i) => `@group(0) @binding(${i}) var<storage, ${fromX && i === 0 ? 'read' : 'read_write'}> ${d};`).join('\n');
  const invert = plan.descending ? '~' : '';
  const load = fromX
    ? `let pos = e % ${p}u;
      var v = vec2u(0xffffffffu, pos);
      if (pos < ${n}u) { v.x = ${invert}${plan.key}(x[(e / ${p}u) * ${n}u + pos]); }`
    : 'let v = pairs[e];';
  const store = toOut
    ? `let pos = e % ${p}u;
      if (pos < ${n}u) { out[(e / ${p}u) * ${n}u + pos] = tile[s].y; }`
    : 'pairs[e] = tile[s];';
  return `${decls}
${KEYS}
var<workgroup> tile: array<vec2u, ${g}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  // No early return: every thread must reach every barrier; chunks past the end are skipped by
  // the bounds tests around the loads and stores only.
  let first = (wg.y * nwg.x + wg.x) * ${g / c}u;
  for (var s = li; s < ${g}u; s += ${WORKGROUP}u) {
    let e = first * ${c}u + s;
    if (e / ${c}u < ${chunks}u) {
      ${load}
      tile[s] = v;
    } else {
      tile[s] = vec2u(0xffffffffu, 0xffffffffu);
    }
  }
  workgroupBarrier();
  for (var k = ${kFrom}u; k <= ${kTo}u; k <<= 1u) {
    for (var j = min(k, ${c}u) >> 1u; j > 0u; j >>= 1u) {
      for (var t = li; t < ${g / 2}u; t += ${WORKGROUP}u) {
        let a = lower(t, j);
        let b = a | j;
        let pos = ((first * ${c}u + a) % ${p}u);
        let up = (pos & k) == 0u;
        let va = tile[a];
        let vb = tile[b];
        if (before(vb, va) == up) {
          tile[a] = vb;
          tile[b] = va;
        }
      }
      workgroupBarrier();
    }
  }
  for (var s = li; s < ${g}u; s += ${WORKGROUP}u) {
    let e = first * ${c}u + s;
    if (e / ${c}u < ${chunks}u) {
      ${store}
    }
  }
}`;
}

/** One stage (k, j) with j >= the chunk over the whole scratch, a thread per compared pair. */
function globalStep(plan: Plan, k: number, j: number): string {
  const pairs = (plan.rows * plan.p) / 2;
  return `@group(0) @binding(0) var<storage, read_write> pairs: array<vec2u>;
${KEYS}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = (wg.y * nwg.x + wg.x) * ${WORKGROUP}u + li;
  if (t >= ${pairs}u) { return; }
  let a = lower(t, ${j}u);
  let b = a | ${j}u;
  let up = ((a % ${plan.p}u) & ${k}u) == 0u;
  let va = pairs[a];
  let vb = pairs[b];
  if (before(vb, va) == up) {
    pairs[a] = vb;
    pairs[b] = va;
  }
}`;
}

export function sortKernels(ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  const argsortRows: Kernel<'argsortRows'> = ([x], { descending }) => {
    const [rows, n] = x.shape;
    const out = ctx.output('int32', rows * n);
    if (rows * n === 0) return out.data;
    let p = 1;
    while (p < n) p *= 2;
    const c = Math.min(p, LOCAL);
    const g = Math.max(c, GROUP_MIN);
    const plan: Plan = { rows, n, p, c, g, key: x.dtype === 'float32' ? 'floatKey' : 'intKey', descending };
    const input = ctx.input(x);
    const groups = grid((rows * p) / g, 1);
    if (p === c) {
      // Whole rows fit a workgroup: one dispatch from x to the indices, with no scratch.
      ctx.run(localPass(plan, 2, p, true, true), [input], [out.buffer], groups);
      return out.data;
    }
    const scratch = ctx.scratch(rows * p * 8);
    ctx.run(localPass(plan, 2, c, true, false), [input], [scratch], groups);
    for (let k = 2 * c; k <= p; k *= 2) {
      for (let j = k / 2; j >= c; j /= 2) ctx.run(globalStep(plan, k, j), [], [scratch], grid((rows * p) / 2));
      const last = k === p;
      ctx.run(localPass(plan, k, k, false, last), [], last ? [scratch, out.buffer] : [scratch], groups);
    }
    ctx.releaseScratch(scratch);
    return out.data;
  };
  return { argsortRows };
}
