import type { CoreKernels, OptionalKernels } from '../backend.js';
import type { GpuContext } from './context.js';

/** The reduce kernels (not written yet). */
export function reduceKernels(_ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  return {};
}
