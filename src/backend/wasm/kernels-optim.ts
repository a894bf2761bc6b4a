import type { Backend, FusedUpdate } from '../backend.js';
import type { WasmContext } from './context.js';

// Fused optimizer steps on the wasm backend (wasm/src/optim.c): one pass over the variable, its
// gradient and its slots. As on native (Note [Updates in place] in src/optimizers/optimizer.ts),
// a tensor that is its storage's only owner is written over and its handle returned; any other
// gets new storage. The owner count is the storage's `owners` (index.ts's WasmStorage); a handle
// without one is never written over.

const KIND: Record<FusedUpdate['kind'], number> = { sgd: 0, rmsprop: 1, adam: 2, adagrad: 3, adadelta: 4, adamax: 5 };

/** The rule's parameters in native's order (OptimizerParams); 1 - rho and 1 - beta in double here. */
function params(u: FusedUpdate): number[] {
  switch (u.kind) {
    case 'sgd':
      return [u.lr, u.decay, u.momentum, +u.nesterov];
    case 'rmsprop':
      return [u.lr, u.decay, u.rho, u.momentum, u.epsilon, +u.centered, 1 - u.rho];
    case 'adam':
      return [u.lr, u.decay, u.beta1, u.beta2, u.epsilon, +u.amsgrad, 1 - u.beta1, 1 - u.beta2];
    case 'adagrad':
      return [u.lr, u.decay, u.epsilon];
    case 'adadelta':
      return [u.lr, u.decay, u.epsilon, u.rho, 1 - u.rho];
    case 'adamax':
      return [u.lr, u.decay, u.epsilon, 1 - u.beta1, u.beta2];
  }
}

/** Backend.optimizerUpdate for the wasm backend's context (float32 variables). */
export function wasmOptimizerUpdate(ctx: WasmContext): NonNullable<Backend['optimizerUpdate']> {
  let block = 0;
  return (update, variable, grad, slots) => {
    const n = variable.shape.reduce((p, d) => p * d, 1);
    const target = (data: object) =>
      (data as { owners?: number }).owners === 1 ? { handle: data, ptr: ctx.ptrOf(data) } : ctx.newStorage('float32', n);
    const w = target(variable.data);
    const outs = slots.map((s) => target(s.data));
    // Allocated after the outputs: the parameter block's view must come after the last alloc.
    if (!block) block = ctx.alloc(64);
    new Float64Array(ctx.u8(block, 64).buffer, block, 8).set(params(update));
    const ins = slots.map((s) => ctx.ptrOf(s.data));
    const slotPtr = (list: number[], i: number) => list[i] ?? 0;
    const outPtrs = outs.map((o) => o.ptr);
    const args = [KIND[update.kind], n, ctx.ptrOf(variable.data), ctx.ptrOf(grad.data), ...[0, 1, 2].map((i) => slotPtr(ins, i)), w.ptr];
    if (n > 0) ctx.parallel('optimizer_update', [...args, ...[0, 1, 2].map((i) => slotPtr(outPtrs, i)), block], n * (2 + 2 * slots.length));
    return { variable: w.handle, slots: outs.map((o) => o.handle) };
  };
}
