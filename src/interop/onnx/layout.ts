// Which nodes of an imported graph hold their 4-D values channels-last, and the transposes at
// the borders of those regions.
import type { DType } from '../../core/dtype.js';
import type { SymbolicTensor } from '../../nn/symbolic.js';
import type { OnnxTensor } from './tensors.js';
import { OnnxNode } from './layer.js';
import type { OpHandler } from './op-context.js';

// Note [Channels-last inside, ONNX shapes outside]
// ONNX vision graphs are NCHW; Strata's convolution and pooling kernels (oneDNN's, the wasm and
// WebGPU ones) are NHWC. A transpose around every convolution would move every activation twice
// per layer. Instead the builder decides, node by node in graph order, a layout for each value:
//  * a layout-aware node (Conv, ConvTranspose, MaxPool, AveragePool, Global*Pool,
//    BatchNormalization) whose data input is 4-D runs channels-last: its data input is brought to
//    NHWC if it is not already, and its 4-D outputs stay NHWC;
//  * a layout-agnostic node (elementwise ops, Clip, Cast, Where, Concat, Dropout) whose graph
//    inputs are all 4-D, one of them already NHWC, runs channels-last too: its other graph inputs
//    are brought to NHWC, its constants of more than one element are right-aligned to rank 4 and
//    permuted at import (a [C, 1, 1] bias becomes [1, 1, 1, C]), and Concat's axis is remapped;
//  * every other node (Reshape, Flatten, Transpose, Gemm, Softmax, ...) sees ONNX's layout: an
//    NHWC input is transposed back first.
// Transposes are OnnxNode layers of their own, made once per value and direction. The model's
// inputs and outputs are always in the graph's own layout, so the same arrays go to Strata and
// to onnxruntime. ResNet-18 thus runs one transpose at its input and one of [N, 1, 1, 512] before
// its Flatten, instead of two per convolution.

export type Layout = 'nchw' | 'nhwc';

export interface HeldValue {
  kind: 'sym';
  sym: SymbolicTensor;
  onnxShape: (number | null)[];
  layout: Layout;
}

type Input = HeldValue | { kind: 'const'; t: OnnxTensor } | undefined;

/** The layout a node runs in, from its handler's kind and its inputs (see the Note). */
export function chooseLayout(_opType: string, handler: OpHandler, ins: Input[], statics: Set<number>): Layout {
  const data = ins.map((v, i) => (v?.kind === 'sym' && !statics.has(i) ? v : undefined));
  if (handler.layout === 'aware') {
    const x = data[0];
    return x && x.sym.shape.length === 4 ? 'nhwc' : 'nchw';
  }
  if (handler.layout === 'agnostic') {
    const syms = data.filter((v): v is HeldValue => v !== undefined);
    const consts = ins.filter((v, i) => v?.kind === 'const' && !statics.has(i)) as { t: OnnxTensor }[];
    const ok = syms.length > 0 && syms.every((v) => v.sym.shape.length === 4) && syms.some((v) => v.layout === 'nhwc');
    const constsFit = consts.every((c) => c.t.shape.length <= 4);
    return ok && constsFit ? 'nhwc' : 'nchw';
  }
  return 'nchw';
}

/** The layout a node's input i must be given in, for a node running in `layout`. */
export function inputLayout(handler: OpHandler, layout: Layout, i: number): Layout {
  if (layout === 'nchw') return 'nchw';
  return handler.layout === 'aware' && i > 0 && !handler.heldInputs?.includes(i) ? 'nchw' : 'nhwc';
}

/** A constant of a channels-last agnostic node: right-aligned to rank 4 and permuted to NHWC. */
export function permuteConstant(t: OnnxTensor): OnnxTensor {
  const size = t.shape.reduce((n, d) => n * d, 1);
  if (size <= 1) return t;
  const s = [...new Array(4 - t.shape.length).fill(1), ...t.shape];
  const [n, c, h, w] = s;
  const Out = t.data.constructor as new (n: number) => typeof t.data;
  const out = new Out(size);
  for (let a = 0; a < n; a++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((a * h + y) * w + x) * c + k] = t.data[((a * c + k) * h + y) * w + x];
  return { ...t, shape: [n, h, w, c], data: out };
}

const cache = new WeakMap<SymbolicTensor, SymbolicTensor>();

function transposeLayer(v: SymbolicTensor, perm: number[], name: string, dtype: DType): SymbolicTensor {
  const cached = cache.get(v);
  if (cached) return cached;
  const layer = new OnnxNode({
    name,
    opType: 'Transpose',
    opset: 13,
    attributes: { perm },
    inputs: [{ graph: dtype }],
    numOutputs: 1,
  });
  const out = layer.apply(v);
  cache.set(v, out);
  return out;
}

/** The value as a symbolic tensor in the given layout, through a (shared) transpose layer if needed. */
export function inLayout(v: HeldValue, layout: Layout, newName: (raw: string) => string): SymbolicTensor {
  if (v.layout === layout || v.sym.shape.length !== 4) return v.sym;
  const perm = layout === 'nhwc' ? [0, 2, 3, 1] : [0, 3, 1, 2];
  return transposeLayer(v.sym, perm, newName(`${v.sym.name}_to_${layout}`), v.sym.dtype);
}
