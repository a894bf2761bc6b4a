import type { Backend } from '../backend.js';
import type { GpuContext } from './context.js';

/** The fused optimizer update (not written yet): undefined makes optimizers use the composite path. */
export function webgpuOptimizerUpdate(_ctx: GpuContext): Backend['optimizerUpdate'] {
  return undefined;
}
