import type { CoreKernels, OptionalKernels } from '../backend.js';
import type { GpuContext } from './context.js';

/** The conv kernels (not written yet). */
export function convKernels(_ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  return {};
}
