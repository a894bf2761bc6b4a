import type { CoreKernels, OptionalKernels } from '../backend.js';
import type { GpuContext } from './context.js';

/** The norm kernels (not written yet). */
export function normKernels(_ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  return {};
}
