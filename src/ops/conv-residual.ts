// A residual block's last convolution and its Add as one op: act(conv2d(x, f) + bias + addend).
// On native the addend rides inside oneDNN's convolution as a post-op (Note [A residual add
// inside the convolution] in native/src/conv.cc); elsewhere, or for an addend that broadcasts,
// it is the ops it stands for, which are also its test oracle.
import type { ConvActivation } from '../backend/primitives.js';
import { shapesEqual } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ConvPlan } from './conv.js';
import { add } from './elementwise.js';
import { applyActivation, fusedConv2dPlanned } from './fused.js';
import { hasKernel, runPrimitive } from './run.js';

/** activation(conv2d(x, f) + bias + addend) for a planned convolution (x NHWC, f [kh, kw, in, out], bias [out]). */
export function fusedConv2dAddPlanned(x: Tensor, f: Tensor, bias: Tensor, addend: Tensor, activation: ConvActivation, plan: ConvPlan): Tensor {
  const fits = addend.dtype === 'float32' && shapesEqual(addend.shape, plan.outShape);
  if (fits && x.dtype === 'float32' && hasKernel('fusedConv2dAdd', x)) {
    return runPrimitive('fusedConv2dAdd', [x, f, bias, addend], { ...plan.attrs, activation }, plan.outShape, 'float32');
  }
  return fusedConv2dAddComposite(x, f, bias, addend, activation, plan);
}

/** The unfused ops, in the order the fused kernel applies them. */
export function fusedConv2dAddComposite(x: Tensor, f: Tensor, bias: Tensor, addend: Tensor, activation: ConvActivation, plan: ConvPlan): Tensor {
  return applyActivation(add(fusedConv2dPlanned(x, f, bias, 'linear', plan), addend), activation);
}
