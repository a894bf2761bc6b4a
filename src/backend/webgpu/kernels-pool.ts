import type { CoreKernels, OptionalKernels } from '../backend.js';
import type { GpuContext } from './context.js';

/** The pool kernels (not written yet). */
export function poolKernels(_ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  return {};
}
