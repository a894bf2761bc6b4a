import type { CoreKernels, OptionalKernels } from '../backend.js';
import type { GpuContext } from './context.js';

/** The softmax kernels (not written yet). */
export function softmaxKernels(_ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  return {};
}
