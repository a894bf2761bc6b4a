import type { CoreKernels, OptionalKernels } from '../backend.js';
import { getNumThreads } from '../registry.js';
import type { WasmContext } from './context.js';

// Matrix products on the wasm backend: float32 through the packed SGEMM of wasm/src/gemm.c
// (Note [WASM SGEMM]), int32 through a plain wrapping loop. Shapes arrive checked by ops/.

/** At most this many workspace slots (threads beyond the slots stay idle in the blocked kernels). */
const MAX_SLOTS = 64;

/**
 * Per-thread scratch space of the blocked kernels (packed panels, im2col chunks): one block of
 * equal slots, one per thread of st.getNumThreads(), kept between calls and replaced when a call
 * needs larger or more slots. Thread `tid` uses slot `tid`; kernels leave threads beyond the
 * slots idle, so a pool larger than the count only goes unused.
 */
export class Workspace {
  private ptr = 0;
  private slotFloats = 0;
  private slots = 0;

  constructor(private readonly ctx: WasmContext) {}

  /** The block's pointer, its slot size in floats (at least `floats`) and its slot count. */
  get(floats: number): { ptr: number; slotFloats: number; slots: number } {
    // As the pool (index.ts): no more threads than cores where the cores are known.
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? MAX_SLOTS;
    const slots = Math.max(1, Math.min(MAX_SLOTS, cores, getNumThreads()));
    if (floats > this.slotFloats || slots > this.slots) {
      // Round up so that slightly larger requests reuse the block.
      const want = Math.max(this.slotFloats, Math.ceil(floats / 65536) * 65536);
      if (this.ptr) this.ctx.free(this.ptr);
      this.ptr = this.slotFloats = this.slots = 0;
      this.ptr = this.ctx.alloc(want * 4 * slots);
      this.slotFloats = want;
      this.slots = slots;
    }
    return { ptr: this.ptr, slotFloats: this.slotFloats, slots: this.slots };
  }
}

const workspaces = new WeakMap<WasmContext, Workspace>();

/** The context's shared workspace (one per module instance, used by matmul and conv kernels). */
export function workspaceOf(ctx: WasmContext): Workspace {
  let ws = workspaces.get(ctx);
  if (!ws) {
    ws = new Workspace(ctx);
    workspaces.set(ctx, ws);
  }
  return ws;
}

/**
 * The `work` a product of `macs` multiply-adds reports to ctx.parallel, whose threshold is in
 * elements an elementwise kernel touches (about a nanosecond each): the SGEMM does about 16
 * multiply-adds a nanosecond, so products below about a million of them (some 60 µs) stay on one
 * thread, where waking the workers would cost as much as they save (64x512x10 ran slower on two).
 */
export const gemmWork = (macs: number): number => macs / 16;

export function matmulKernels(ctx: WasmContext): Partial<CoreKernels & OptionalKernels> {
  const gemmFloats = (ctx.exports.gemm_ws_floats as () => number)();
  // The tile counter the threads take tiles from (Note [WASM SGEMM]), zeroed before each product.
  const next = ctx.alloc(64);
  // batch x [m, k] · [k, n] → newly allocated [batch, m, n]; bias pointer 0 for none.
  const sgemm = (batch: number, m: number, n: number, k: number, a: number, ta: boolean, b: number, tb: boolean, bias: number, relu: boolean) => {
    const out = ctx.newStorage('float32', batch * m * n);
    if (batch * m * n === 0) return out.handle;
    const ws = workspaceOf(ctx).get(gemmFloats);
    ctx.i32(next, 1)[0] = 0;
    ctx.parallel('sgemm', [batch, m, n, k, a, +ta, b, +tb, out.ptr, bias, +relu, next, ws.ptr, ws.slots], gemmWork(batch * m * n * Math.max(k, 1)));
    return out.handle;
  };
  return {
    matmul: ([a, b], { transposeA, transposeB }, out) => {
      const [batch, m, n] = out.shape;
      const k = transposeA ? a.shape[1] : a.shape[2];
      if (out.dtype === 'float32') return sgemm(batch, m, n, k, ctx.ptrOf(a.data), transposeA, ctx.ptrOf(b.data), transposeB, 0, false);
      const y = ctx.newStorage(out.dtype, batch * m * n);
      if (batch * m * n > 0) {
        const args = [batch, m, n, k, ctx.ptrOf(a.data), +transposeA, ctx.ptrOf(b.data), +transposeB, y.ptr];
        ctx.parallel('igemm', args, gemmWork(batch * m * n * Math.max(k, 1)));
      }
      return y.handle;
    },
    // 2-D operands or equally batched 3-D ones; the bias [n] and ReLU are applied as each tile of
    // the product is stored.
    fusedMatMul: ([a, b, bias], { transposeA, transposeB, activation }, out) => {
      const [batch, m, n] = out.shape.length === 3 ? out.shape : [1, ...out.shape];
      const r = a.shape.length;
      const k = transposeA ? a.shape[r - 2] : a.shape[r - 1];
      return sgemm(batch, m, n, k, ctx.ptrOf(a.data), transposeA, ctx.ptrOf(b.data), transposeB, ctx.ptrOf(bias.data), activation === 'relu');
    },
  };
}
