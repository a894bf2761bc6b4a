// What a layer's exporter sees: the graph builder, the layer's weights already read, its call.
import type { Layer } from '../../nn/layer.js';
import type { Node } from '../../nn/symbolic.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type GraphBuilder, type Value, unary } from './export-graph.js';

/** A weight's values (read once, before export, so no backend needs synchronous reads) and shape. */
export interface WeightData {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** Reads layer weights by name from the values export.ts read ahead. */
export class ExportContext {
  constructor(
    readonly g: GraphBuilder,
    private readonly values: ReadonlyMap<Tensor, Float32Array>,
  ) {}

  /** The weight `name` ('kernel', 'query/kernel', ...) of `layer`, or undefined when it has none. */
  weight(layer: Layer, name: string): WeightData | undefined {
    const w = layer.weights.find((x) => x.name === name);
    if (!w) return undefined;
    return { data: this.values.get(w.value)!, shape: w.value.shape };
  }

  /** A weight the layer must have. */
  need(layer: Layer, name: string): WeightData {
    const w = this.weight(layer, name);
    if (!w) throw new Error(`onnx export: layer '${layer.name}' has no weight '${name}'`);
    return w;
  }
}

/** One layer class's export: why a given layer cannot be exported (if so), and the emission. */
export interface LayerExporter {
  /** A reason the layer (as configured and called) cannot be exported, or undefined. */
  check?(layer: Layer, node: Node): string | undefined;
  /** Emits the layer's nodes for its inputs; returns its outputs. */
  emit(ctx: ExportContext, layer: Layer, inputs: Value[], node: Node): Value[];
}

/** The Strata class name a layer was registered under. */
export function classNameOf(layer: Layer): string {
  return (layer.constructor as { className?: string }).className ?? layer.constructor.name;
}

/** Config as a plain record (each exporter reads the keys its class writes). */
export function configOf(layer: Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

/** Moves the axes of row-major `data` of `shape` into the order `perm`. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let k = rank - 1, s = 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k];
  }
  const outShape = perm.map((p) => shape[p]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += index[k] * strides[perm[k]];
    out[o] = data[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k] < outShape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

// ---- activations ------------------------------------------------------------------------------

const SIMPLE: Record<string, string> = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  elu: 'Elu',
  selu: 'Selu',
  softplus: 'Softplus',
  softsign: 'Softsign',
  exponential: 'Exp',
};

/** The activations export writes (Strata's camelCase names). */
export const EXPORTABLE_ACTIVATIONS = [
  ...Object.keys(SIMPLE),
  'linear',
  'softmax',
  'gelu',
  'leakyRelu',
  'relu6',
  'silu',
  'swish',
  'hardSigmoid',
  'mish',
];

/** Why an activation name cannot be exported, or undefined. */
export function activationProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !EXPORTABLE_ACTIVATIONS.includes(name))
    return `activation ${JSON.stringify(name)} has no ONNX form here (exportable: ${EXPORTABLE_ACTIVATIONS.join(', ')})`;
  return undefined;
}

/** Applies a Strata activation (Keras 3 definitions and defaults) to a value. */
export function activation(g: GraphBuilder, v: Value, name: string): Value {
  if (name === 'linear') return v;
  if (SIMPLE[name]) return unary(v, (x) => g.op1(SIMPLE[name], [x]));
  // Softmax normalizes Strata's last axis, which only the NHWC layout has last.
  if (name === 'softmax') return { shape: v.shape, nhwc: g.op1('Softmax', [g.nhwc(v)], { axis: { i: -1 } }) };
  const scalar = (x: number) => g.floats('c', [x], []);
  return unary(v, (x) => {
    switch (name) {
      case 'leakyRelu':
        return g.op1('LeakyRelu', [x], { alpha: { f: 0.2 } });
      case 'relu6':
        return g.op1('Clip', [x, scalar(0), scalar(6)]);
      case 'silu':
      case 'swish':
        return g.op1('Mul', [x, g.op1('Sigmoid', [x])]);
      case 'hardSigmoid':
        // Keras 3: relu6(x + 3) / 6, i.e. clip(x / 6 + 0.5, 0, 1).
        return g.op1('HardSigmoid', [x], { alpha: { f: 1 / 6 }, beta: { f: 0.5 } });
      case 'mish':
        return g.op1('Mul', [x, g.op1('Tanh', [g.op1('Softplus', [x])])]);
      case 'gelu': {
        // The exact form x/2 * (1 + erf(x / sqrt 2)) (Keras 3's default; Gelu is opset 20).
        const erf = g.op1('Erf', [g.op1('Mul', [x, scalar(Math.SQRT1_2)])]);
        return g.op1('Mul', [g.op1('Mul', [x, scalar(0.5)]), g.op1('Add', [erf, scalar(1)])]);
      }
      default:
        throw new Error(`onnx export: activation '${name}' passed the check but has no emitter`);
    }
  });
}
