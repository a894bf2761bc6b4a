import type { Shape } from '../../core/shape.js';
import type { OptionalKernels } from '../backend.js';
import type { WasmContext } from './context.js';

// Batch and layer normalization on the wasm backend (wasm/src/norm.c), channels-last data seen as
// [rows, C] as on native (Note [Fused normalization] in src/ops/normalization-fused.ts); float32.

/** A channels-last shape as [rows, C]. */
const rowsAndChannels = (shape: Shape): [number, number] => [shape.slice(0, -1).reduce((p, d) => p * d, 1), shape[shape.length - 1]];

export function normKernels(ctx: WasmContext): OptionalKernels {
  const p = (t: { data: object }) => ctx.ptrOf(t.data);
  // A new float32 output of `size` values and the kernel's arguments given its pointer.
  const run = (kernel: string, size: number, work: number, args: (out: number) => number[]) => {
    const out = ctx.newStorage('float32', size);
    if (size > 0 && work > 0) ctx.parallel(kernel, args(out.ptr), work);
    return out.handle;
  };
  const apply = (x: { data: object; shape: Shape }, mean: number, variance: number, gamma: number, beta: number, epsilon: number) => {
    const [rows, c] = rowsAndChannels(x.shape);
    return run('batch_norm_apply', rows * c, rows * c, (o) => [p(x), mean, variance, gamma, beta, o, rows, c, epsilon]);
  };
  return {
    batchNormStats: ([x]) => {
      const [rows, c] = rowsAndChannels(x.shape);
      return run('batch_norm_stats', 2 * c, rows * c, (o) => [p(x), o, rows, c]);
    },
    batchNormApply: ([x, m, v, g, b], { epsilon }) => apply(x, p(m), p(v), p(g), p(b), epsilon),
    batchNormTraining: ([x, g, b, stats], { epsilon }) => apply(x, p(stats), p(stats) + 4 * x.shape[x.shape.length - 1], p(g), p(b), epsilon),
    batchNormGradSums: ([x, stats, dy], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      return run('batch_norm_grad_sums', 2 * c, rows * c * 2, (o) => [p(x), p(stats), p(dy), o, rows, c, epsilon]);
    },
    batchNormGradInput: ([x, g, stats, dy, sums], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      return run('batch_norm_grad_input', rows * c, rows * c * 2, (o) => [p(x), p(g), p(stats), p(dy), p(sums), o, rows, c, epsilon]);
    },
    layerNorm: ([x, g, b], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      return run('layer_norm', rows * c, rows * c * 2, (o) => [p(x), p(g), p(b), o, rows, c, epsilon]);
    },
    // Row statistics first (one pass by rows), then the column sums (by channel blocks, Note in norm.c).
    layerNormGradSums: ([x, dy], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      const stats = ctx.alloc(Math.max(rows, 1) * 8);
      try {
        if (rows * c > 0) ctx.parallel('layer_norm_row_stats', [p(x), stats, rows, c, epsilon], rows * c * 2);
        return run('layer_norm_grad_sums', 2 * c, rows * c * 2, (o) => [p(x), p(dy), stats, o, rows, c]);
      } finally {
        ctx.free(stats);
      }
    },
    layerNormGradInput: ([x, g, dy], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      return run('layer_norm_grad_input', rows * c, rows * c * 3, (o) => [p(x), p(g), p(dy), o, rows, c, epsilon]);
    },
  };
}
