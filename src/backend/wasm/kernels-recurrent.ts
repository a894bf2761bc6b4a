import type { Kernel, OptionalKernels } from '../backend.js';
import type { WasmContext } from './context.js';

// The fused recurrent cells (optional primitives; Note [Fused recurrent cells] in
// ops/recurrent-cells.ts) on wasm/src/recurrent.c, float32 only (ops/ sends only float32 here:
// float64 is not a dtype of this backend). The state operand [B, u] gives batch and units.
export function recurrentKernels(ctx: WasmContext): OptionalKernels {
  const cell =
    (kernel: string, width: number): Kernel<'lstmCell' | 'lstmCellGrad' | 'gruCell' | 'gruCellGrad'> =>
    (inputs, _attrs, out) => {
      const state = inputs[kernel.startsWith('lstm') ? 1 : 2];
      const [batch, u] = state.shape;
      const { handle, ptr } = ctx.newStorage(out.dtype, batch * width * u);
      if (batch * u > 0) ctx.parallel(kernel, [...inputs.map((t) => ctx.ptrOf(t.data)), ptr, batch, u], batch * u * 16); // five or so sigmoid and tanh per unit
      return handle;
    };
  return {
    lstmCell: cell('lstm_cell', 2),
    lstmCellGrad: cell('lstm_cell_grad', 5),
    gruCell: cell('gru_cell', 1),
    gruCellGrad: cell('gru_cell_grad', 7),
  };
}
