import type { CoreKernels, TensorInfo } from '../backend.js';
import { ARITHMETIC_PRIMITIVES, COMPARISON_PRIMITIVES, UNARY_PRIMITIVES } from '../primitives.js';
import { type Expr, type FusionHost, fuse } from './fusion.js';
import type { GpuData } from './gpu-data.js';

type ElementwiseName =
  | (typeof UNARY_PRIMITIVES)[number]
  | (typeof ARITHMETIC_PRIMITIVES)[number]
  | (typeof COMPARISON_PRIMITIVES)[number]
  | 'cast'
  | 'where'
  | 'reluGrad';

const inputs = (ts: readonly TensorInfo[]) => ts.map((t) => ({ data: t.data as GpuData, shape: t.shape }));

/** The elementwise kernels: each returns a pending chain (Note [Fused elementwise chains] in fusion.ts). */
export function elementwiseKernels(host: FusionHost): Pick<CoreKernels, ElementwiseName> {
  const kernels: Partial<Record<ElementwiseName, unknown>> = {};
  for (const op of UNARY_PRIMITIVES) {
    kernels[op] = (xs: readonly TensorInfo[], _a: unknown, out: { shape: readonly number[]; dtype: 'float32' }) =>
      fuse(host, inputs(xs), out.shape, out.dtype, ([a]) => ({ k: 'unary', op, dtype: out.dtype, a }));
  }
  for (const op of [...ARITHMETIC_PRIMITIVES, ...COMPARISON_PRIMITIVES]) {
    kernels[op] = (xs: readonly TensorInfo[], _a: unknown, out: { shape: readonly number[]; dtype: 'float32' }) =>
      fuse(host, inputs(xs), out.shape, out.dtype, ([a, b]) => ({ k: 'binary', op, dtype: out.dtype, a, b }) as Expr);
  }
  kernels.cast = (xs: readonly TensorInfo[], _a: unknown, out: { shape: readonly number[]; dtype: 'float32' }) =>
    fuse(host, inputs(xs), out.shape, out.dtype, ([a]) => ({ k: 'cast', dtype: out.dtype, a }));
  kernels.where = (xs: readonly TensorInfo[], _a: unknown, out: { shape: readonly number[]; dtype: 'float32' }) =>
    fuse(host, inputs(xs), out.shape, out.dtype, ([c, a, b]) => ({ k: 'where', dtype: out.dtype, c, a, b }));
  kernels.reluGrad = (xs: readonly TensorInfo[], _a: unknown, out: { shape: readonly number[]; dtype: 'float32' }) =>
    fuse(host, inputs(xs), out.shape, out.dtype, ([a, b]) => ({ k: 'reluGrad', dtype: out.dtype, a, b }));
  return kernels as Pick<CoreKernels, ElementwiseName>;
}
