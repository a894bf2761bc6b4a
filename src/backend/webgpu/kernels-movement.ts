import type { CoreKernels, OptionalKernels } from '../backend.js';
import type { GpuContext } from './context.js';

/** The movement kernels (not written yet). */
export function movementKernels(_ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  return {};
}
