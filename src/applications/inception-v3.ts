// InceptionV3 (Szegedy et al. 2015, "Rethinking the Inception Architecture") as keras.applications
// builds it: every convolution is conv (no bias), BN without gamma (scale: false, the ReLU after it
// makes a scale redundant) and ReLU, all with automatic layer names; the eleven mixing blocks are
// named mixed0 ... mixed10.

import type { Model } from '../models/model.js';
import { layers } from '../nn/layers/index.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import type { Padding } from '../ops/conv-geometry.js';
import { type ApplicationArgs, activation, averagePoolTop, batchNorm, conv, functionalModel, imageInput, on, resolveArgs } from './common.js';

/** Keras's conv2d_bn. */
function cbr(x: SymbolicTensor, filters: number, rows: number, cols: number, strides = 1, padding: Padding = 'same'): SymbolicTensor {
  x = conv(x, { filters, kernelSize: [rows, cols], strides, padding, useBias: false });
  return activation(batchNorm(x, { scale: false }), 'relu');
}

const maxPool3x3s2 = (x: SymbolicTensor) => on(layers.maxPooling2d({ poolSize: 3, strides: 2 }), x);
const avgPool3x3 = (x: SymbolicTensor) => on(layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), x);
const concat = (xs: SymbolicTensor[], name?: string) => on(layers.concatenate({ axis: 3, name }), xs);

/** The 35x35 blocks (mixed0-2): 1x1, 5x5, double 3x3 and pooled branches. */
function block35(x: SymbolicTensor, poolFilters: number, name: string): SymbolicTensor {
  const b1 = cbr(x, 64, 1, 1);
  const b5 = cbr(cbr(x, 48, 1, 1), 64, 5, 5);
  const b3 = cbr(cbr(cbr(x, 64, 1, 1), 96, 3, 3), 96, 3, 3);
  const bp = cbr(avgPool3x3(x), poolFilters, 1, 1);
  return concat([b1, b5, b3, bp], name);
}

/** The 17x17 blocks (mixed4-7): 7x7 convolutions factored into 1x7 and 7x1 with `mid` filters. */
function block17(x: SymbolicTensor, mid: number, name: string): SymbolicTensor {
  const b1 = cbr(x, 192, 1, 1);
  const b7 = cbr(cbr(cbr(x, mid, 1, 1), mid, 1, 7), 192, 7, 1);
  let d = cbr(x, mid, 1, 1);
  d = cbr(cbr(cbr(d, mid, 7, 1), mid, 1, 7), mid, 7, 1);
  d = cbr(d, 192, 1, 7);
  const bp = cbr(avgPool3x3(x), 192, 1, 1);
  return concat([b1, b7, d, bp], name);
}

/** The 8x8 blocks (mixed9, mixed10): 3x3 convolutions split into parallel 1x3 and 3x1. */
function block8(x: SymbolicTensor, i: number): SymbolicTensor {
  const b1 = cbr(x, 320, 1, 1);
  const b3 = cbr(x, 384, 1, 1);
  const b3s = concat([cbr(b3, 384, 1, 3), cbr(b3, 384, 3, 1)], `mixed9_${i}`);
  const d = cbr(cbr(x, 448, 1, 1), 384, 3, 3);
  const ds = concat([cbr(d, 384, 1, 3), cbr(d, 384, 3, 1)]);
  const bp = cbr(avgPool3x3(x), 192, 1, 1);
  return concat([b1, b3s, ds, bp], `mixed${9 + i}`);
}

/**
 * InceptionV3: 23,851,784 parameters at 299x299x3 and 1000 classes (23,817,352 trainable).
 * Default input 299x299x3; at least 75x75.
 */
export function inceptionV3(args: ApplicationArgs = {}): Model {
  const r = resolveArgs('inceptionV3', args, { defaultSize: 299, minSize: 75 }, 'inception_v3');
  const input = imageInput(r.inputShape);
  let x = cbr(input, 32, 3, 3, 2, 'valid');
  x = cbr(x, 32, 3, 3, 1, 'valid');
  x = cbr(x, 64, 3, 3);
  x = maxPool3x3s2(x);
  x = cbr(x, 80, 1, 1, 1, 'valid');
  x = cbr(x, 192, 3, 3, 1, 'valid');
  x = maxPool3x3s2(x);
  x = block35(x, 32, 'mixed0');
  x = block35(x, 64, 'mixed1');
  x = block35(x, 64, 'mixed2');
  // mixed3: 35x35 to 17x17.
  const r3 = cbr(x, 384, 3, 3, 2, 'valid');
  const d3 = cbr(cbr(cbr(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, 2, 'valid');
  x = concat([r3, d3, maxPool3x3s2(x)], 'mixed3');
  x = block17(x, 128, 'mixed4');
  x = block17(x, 160, 'mixed5');
  x = block17(x, 160, 'mixed6');
  x = block17(x, 192, 'mixed7');
  // mixed8: 17x17 to 8x8.
  const r8 = cbr(cbr(x, 192, 1, 1), 320, 3, 3, 2, 'valid');
  const d8 = cbr(cbr(cbr(cbr(x, 192, 1, 1), 192, 1, 7), 192, 7, 1), 192, 3, 3, 2, 'valid');
  x = concat([r8, d8, maxPool3x3s2(x)], 'mixed8');
  x = block8(x, 0);
  x = block8(x, 1);
  return functionalModel(input, averagePoolTop(x, r, {}), r.name);
}
