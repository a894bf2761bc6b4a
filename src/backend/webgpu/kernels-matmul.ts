import type { CoreKernels, OptionalKernels } from '../backend.js';
import type { GpuContext } from './context.js';

/** The matmul kernels (not written yet). */
export function matmulKernels(_ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  return {};
}
