import { fmtIndex, int32OverflowError, int32RangeError, type DType } from '../../core/dtype.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { CoreKernels, DataHandle, Kernel, TensorInfo } from '../backend.js';
import { ARITHMETIC_PRIMITIVES, COMPARISON_PRIMITIVES, REDUCE_PRIMITIVES, UNARY_PRIMITIVES } from '../primitives.js';
import { rowPattern } from '../row-pattern.js';
import type { WasmContext } from './context.js';

// The core primitives on wasm/src/{elementwise,reduce,movement}.c. Op codes are the primitives'
// positions in primitives.ts's lists (the C enums follow them); dtype codes are DT_* of strata.h.

/** What the core kernels need beyond WasmContext: int32 arrays (shapes, strides) in a scratch block. */
export interface CoreContext extends WasmContext {
  /** Writes each array to scratch memory (valid until the next call) and returns their pointers. */
  ints(...arrays: readonly (readonly number[])[]): number[];
  /** Frees storage a kernel made for itself (no tensor ever owned it). */
  drop(handle: DataHandle): void;
}

export const DT: Record<DType, number> = { float32: 0, int32: 1, bool: 2, float64: -1 };
export const elemBytes = (d: DType) => (d === 'bool' ? 1 : 4);
const BINARY_PRIMITIVES = [...ARITHMETIC_PRIMITIVES, ...COMPARISON_PRIMITIVES];
const TRANSCENDENTAL = new Set<string>(['exp', 'log', 'tanh', 'sigmoid', 'sin', 'cos']);

// Work per element as ctx.parallel counts it (threads.ts's PARALLEL_THRESHOLD, 2^16, is about
// 60 us of one thread's time, which waking the workers must be worth). Measured on two cores:
// add broke even at about 256K elements (15 us at 64K on one thread against 60 us on two), tanh
// at about 32K (a polynomial per element: 3.4 ns; 1M elements 3.4 -> 1.8 ms on two threads).
const STREAM = 1 / 4; // a load or two and a store per element, SIMD
const POLYNOMIAL = 2; // exp, log, tanh, sigmoid, sin, cos

function table<K extends keyof CoreKernels>(keys: readonly K[], make: (k: K, i: number) => unknown): Pick<CoreKernels, K> {
  return Object.fromEntries(keys.map((k, i) => [k, make(k, i)])) as Pick<CoreKernels, K>;
}

/**
 * Reduced axes as [outer, r, inner] after dropping size-1 axes and merging neighbours of one
 * kind; undefined when kept and reduced axes interleave more than that (then the kernel
 * transposes the reduced axes to the end first).
 */
export function reduceGeometry(shape: Shape, axes: readonly number[]): [number, number, number] | undefined {
  const groups: { reduced: boolean; size: number }[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const reduced = axes.includes(i);
    const last = groups[groups.length - 1];
    if (last && last.reduced === reduced) last.size *= d;
    else groups.push({ reduced, size: d });
  });
  const kinds = groups.map((g) => (g.reduced ? 'R' : 'K')).join('');
  const size = (i: number) => groups[i].size;
  switch (kinds) {
    case '':
      return [1, 1, 1];
    case 'K':
      return [size(0), 1, 1];
    case 'R':
      return [1, size(0), 1];
    case 'KR':
      return [size(0), size(1), 1];
    case 'RK':
      return [1, size(0), size(1)];
    case 'KRK':
      return [size(0), size(1), size(2)];
    default:
      return undefined;
  }
}

export function coreKernels(ctx: CoreContext): CoreKernels {
  const x32 = ctx.exports as Record<string, (...args: number[]) => number>;
  const ptr = (t: TensorInfo) => ctx.ptrOf(t.data);
  /** New storage for `out`, filled by `run(pointer)` unless empty. */
  const produce = (dtype: DType, size: number, run: (y: number) => void): DataHandle => {
    const { handle, ptr: y } = ctx.newStorage(dtype, size);
    if (size > 0) run(y);
    return handle;
  };
  /** A strided read of x into new storage of `shape` (transpose, broadcastTo, slice). */
  const strided = (x: TensorInfo, dtype: DType, shape: Shape, strides: readonly number[], base = 0): DataHandle =>
    produce(dtype, sizeOf(shape), (y) => {
      const [s, st] = ctx.ints(shape, strides);
      ctx.parallel('strided_copy', [elemBytes(dtype), ptr(x), y, shape.length, s, st, base], sizeOf(shape) / 2);
    });

  const reduce =
    (k: (typeof REDUCE_PRIMITIVES)[number], op: number): Kernel<'sum'> =>
    ([x], { axes }, out) => {
      let geometry = reduceGeometry(x.shape, axes);
      let src = x;
      let temp: DataHandle | undefined;
      if (!geometry) {
        // Kept axes first, then the reduced ones: one transpose, then a reduction of the last axis.
        const perm = [...x.shape.keys()].filter((i) => !axes.includes(i)).concat(axes);
        const own = stridesOf(x.shape);
        const shape = perm.map((p) => x.shape[p]);
        temp = strided(
          x,
          x.dtype,
          shape,
          perm.map((p) => own[p]),
        );
        src = { data: temp, shape, dtype: x.dtype };
        const kept = sizeOf(out.shape);
        geometry = [kept, kept === 0 ? 0 : sizeOf(x.shape) / kept, 1];
      }
      const [outer, r, inner] = geometry;
      try {
        return produce(out.dtype, sizeOf(out.shape), (y) => {
          if (x.dtype === 'float32') {
            ctx.parallel('reduce', [op, DT.float32, ptr(src), y, outer, r, inner], STREAM * outer * r * inner);
            return;
          }
          // int32 and bool on one thread, so the first overflowing index is the first (Note [int32 reductions]).
          const at = x32.reduce(op, DT[x.dtype], ptr(src), y, outer, r, inner, 0, 1);
          if (at >= 0) throw int32OverflowError(k, x32.reduce_error_value(), fmtIndex(at, out.shape));
        });
      } finally {
        if (temp) ctx.drop(temp);
      }
    };

  const argReduce =
    (isMax: boolean): Kernel<'argMax' | 'argMin'> =>
    ([x], { axis }, out) =>
      produce('int32', sizeOf(out.shape), (y) => {
        const outer = sizeOf(x.shape.slice(0, axis)),
          inner = sizeOf(x.shape.slice(axis + 1));
        ctx.parallel('arg_reduce', [+isMax, DT[x.dtype], ptr(x), y, outer, x.shape[axis], inner], sizeOf(x.shape));
      });

  return {
    ...table(
      UNARY_PRIMITIVES,
      (k, op) =>
        (([x], _attrs, out) => {
          const n = sizeOf(x.shape);
          const work = TRANSCENDENTAL.has(k) ? POLYNOMIAL * n : STREAM * n;
          return produce(out.dtype, n, (y) => ctx.parallel('unary', [op, DT[x.dtype], ptr(x), y, n], work));
        }) as Kernel<'neg'>,
    ),
    ...table(
      BINARY_PRIMITIVES,
      (_k, op) =>
        (([a, b], _attrs, out) =>
          produce(out.dtype, sizeOf(out.shape), (y) => {
            const n = sizeOf(out.shape);
            const rows = rowPattern(a.shape, b.shape, out.shape);
            if (rows) {
              ctx.parallel('binary_rows', [op, DT[a.dtype], DT[out.dtype], ptr(a), ptr(b), y, ...rows], op === 4 ? 16 * n : STREAM * n);
              return;
            }
            const [s, sa, sb] = ctx.ints(out.shape, broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape));
            ctx.parallel(
              'binary_strided',
              [op, DT[a.dtype], DT[out.dtype], ptr(a), ptr(b), y, out.shape.length, s, sa, sb],
              op === 4 ? 16 * n : n / 2,
            );
          })) as Kernel<'add'>,
    ),
    ...table(REDUCE_PRIMITIVES, (k, op) => reduce(k, op)),
    argMax: argReduce(true),
    argMin: argReduce(false),
    matmul: ([a, b], { transposeA, transposeB }, out) => {
      const [batch, m, n] = out.shape;
      const k = transposeA ? a.shape[1] : a.shape[2];
      return produce(out.dtype, batch * m * n, (y) => {
        const args = [DT[a.dtype], ptr(a), ptr(b), y, batch, m, k, n, +transposeA, +transposeB];
        ctx.parallel('core_matmul', args, (batch * m * n * k) / 4);
      });
    },
    reshape: ([x]) => x.data,
    transpose: ([x], { perm }, out) => {
      const own = stridesOf(x.shape);
      return strided(
        x,
        out.dtype,
        out.shape,
        perm.map((p) => own[p]),
      );
    },
    broadcastTo: ([x], { shape }, out) => strided(x, out.dtype, shape, broadcastStrides(x.shape, shape)),
    slice: ([x], { begin }, out) => {
      const own = stridesOf(x.shape);
      return strided(
        x,
        out.dtype,
        out.shape,
        own,
        begin.reduce((acc, b, i) => acc + b * own[i], 0),
      );
    },
    cast: ([x], { dtype }) => {
      const n = sizeOf(x.shape);
      return produce(dtype, n, (y) => {
        const at = x32.cast(DT[x.dtype], DT[dtype], ptr(x), y, n);
        if (at >= 0) throw int32RangeError('cast', ctx.f32(ptr(x), n)[at], fmtIndex(at, x.shape));
      });
    },
    pad: ([x], { paddings, value }, out) =>
      produce(out.dtype, sizeOf(out.shape), (y) => {
        const size = sizeOf(out.shape);
        const view = out.dtype === 'float32' ? ctx.f32(y, size) : out.dtype === 'int32' ? ctx.i32(y, size) : ctx.u8(y, size);
        view.fill(value);
        if (sizeOf(x.shape) === 0) return;
        const outStrides = stridesOf(out.shape);
        const base = paddings.reduce((acc, [before], i) => acc + before * outStrides[i], 0);
        const [s, st] = ctx.ints(x.shape, outStrides);
        x32.strided_scatter(elemBytes(out.dtype), ptr(x), y, x.shape.length, s, st, base);
      }),
    concat: (inputs, { axis }, out) =>
      produce(out.dtype, sizeOf(out.shape), (y) => {
        const width = elemBytes(out.dtype);
        const outer = sizeOf(out.shape.slice(0, axis));
        const outRow = sizeOf(out.shape.slice(axis)) * width;
        let col = 0;
        for (const t of inputs) {
          const row = sizeOf(t.shape.slice(axis)) * width;
          if (row > 0 && outer > 0) ctx.parallel('copy_rows', [ptr(t), y + col, outer, row, row, outRow], (STREAM * outer * row) / 4);
          col += row;
        }
      }),
    gather: ([x, idx], { axis }, out) =>
      produce(out.dtype, sizeOf(out.shape), (y) => {
        const outer = sizeOf(x.shape.slice(0, axis)),
          inner = sizeOf(x.shape.slice(axis + 1)),
          count = sizeOf(idx.shape);
        ctx.parallel('gather', [elemBytes(x.dtype), ptr(x), ptr(idx), y, outer, x.shape[axis], count, inner], STREAM * outer * count * inner);
      }),
    scatterAdd: ([u, idx], { axis, size }, out) =>
      produce(out.dtype, sizeOf(out.shape), (y) => {
        ctx.u8(y, sizeOf(out.shape) * elemBytes(out.dtype)).fill(0);
        const outer = sizeOf(u.shape.slice(0, axis)),
          inner = sizeOf(out.shape.slice(axis + 1));
        x32.scatter_add(DT[u.dtype], ptr(u), ptr(idx), y, outer, size, sizeOf(idx.shape), inner);
      }),
    where: ([c, a, b], _attrs, out) =>
      produce(out.dtype, sizeOf(out.shape), (y) => {
        const [s, sc, sa, sb] = ctx.ints(
          out.shape,
          broadcastStrides(c.shape, out.shape),
          broadcastStrides(a.shape, out.shape),
          broadcastStrides(b.shape, out.shape),
        );
        const args = [elemBytes(out.dtype), ptr(c), ptr(a), ptr(b), y, out.shape.length, s, sc, sa, sb];
        ctx.parallel('where_strided', args, sizeOf(out.shape) / 2);
      }),
    reluGrad: ([x, dy], _attrs, out) => {
      const n = sizeOf(x.shape);
      return produce(out.dtype, n, (y) => ctx.parallel('relu_grad', [DT[x.dtype], ptr(x), ptr(dy), y, n], STREAM * n));
    },
  };
}
