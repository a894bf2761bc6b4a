import type { CoreKernels, OptionalKernels } from '../backend.js';
import type { WasmContext } from './context.js';

// Matrix products on the wasm backend: float32 through the packed SGEMM of wasm/src/gemm.c
// (Note [WASM SGEMM]), int32 through a plain wrapping loop. Shapes arrive checked by ops/.

/** Workspace slots: threads beyond them stay idle in the blocked kernels, so more would not help. */
const MAX_SLOTS = 16;

function defaultSlots(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, Math.min(MAX_SLOTS, cores ?? 8));
}

/**
 * Per-thread scratch space of the blocked kernels (packed panels, im2col chunks): one block of
 * `slots` equal slots, kept between calls and grown when a call needs larger slots. Thread `tid`
 * uses slot `tid`; kernels run threads beyond `slots` as idle, so the count only caps how many
 * threads one product uses.
 */
export class Workspace {
  private ptr = 0;
  private slotFloats = 0;

  constructor(
    private readonly ctx: WasmContext,
    readonly slots = defaultSlots(),
  ) {}

  /** The block's pointer and its slot size in floats (at least `floats`). */
  get(floats: number): { ptr: number; slotFloats: number; slots: number } {
    if (floats > this.slotFloats) {
      if (this.ptr) this.ctx.free(this.ptr);
      this.ptr = 0;
      this.slotFloats = 0;
      // Round up so that slightly larger requests reuse the block.
      const want = Math.ceil(floats / 65536) * 65536;
      this.ptr = this.ctx.alloc(want * 4 * this.slots);
      this.slotFloats = want;
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

export function matmulKernels(ctx: WasmContext): Partial<CoreKernels & OptionalKernels> {
  const gemmFloats = (ctx.exports.gemm_ws_floats as () => number)();
  // batch x [m, k] · [k, n] → newly allocated [batch, m, n]; bias pointer 0 for none.
  const sgemm = (batch: number, m: number, n: number, k: number, a: number, ta: boolean, b: number, tb: boolean, bias: number, relu: boolean) => {
    const out = ctx.newStorage('float32', batch * m * n);
    if (batch * m * n === 0) return out.handle;
    const ws = workspaceOf(ctx).get(gemmFloats);
    ctx.parallel('sgemm', [batch, m, n, k, a, +ta, b, +tb, out.ptr, bias, +relu, ws.ptr, ws.slots], batch * m * n * Math.max(k, 1));
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
        ctx.parallel('igemm', args, batch * m * n * Math.max(k, 1));
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
