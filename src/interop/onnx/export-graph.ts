// The ONNX graph that export builds: nodes, initializers and the two layouts a value may have.
// Messages are plain objects in the shape of schema.ts's reflection types; export.ts encodes them.
import { ValueError } from '../../core/errors.js';
import type { Shape } from '../../nn/symbolic.js';

/** An attribute value: an int, a float, a string, or lists of ints, floats or strings. */
export type Attr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { strings: string[] };

/** ONNX's TensorProto.DataType codes export writes. */
export const ELEM = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

// Note [Channels-last values, channels-first convolutions]
// Strata is NHWC and ONNX's Conv and pooling are NCHW. Every exported value of rank 4 may exist
// in either layout or both; a layer asks for the one it needs (`nhwc` or `nchw`) and a Transpose
// is emitted the first time a layout is asked for. A chain conv -> relu -> pool -> conv thus
// stays NCHW, with one Transpose where the region starts and one where a layout-sensitive layer
// (flatten, dense, softmax on the last axis) or a graph output reads it in Strata's layout.
// Elementwise layers run in whichever layout their input already has.

/** A Strata tensor as the ONNX graph holds it: its name in one or both layouts. */
export interface Value {
  /** Strata's shape (batch first, channels last); null where unknown until run time. */
  readonly shape: Shape;
  /** The value's name in Strata's layout, once emitted. */
  nhwc?: string;
  /** The value's name with the last axis moved to position 1 (rank 4 only), once emitted. */
  nchw?: string;
  /** A bool [batch, time] padding mask carried with the value (from an embedding with maskZero). */
  mask?: string;
}

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/** Builds one GraphProto's nodes and initializers with unique names. */
export class GraphBuilder {
  readonly nodes: object[] = [];
  readonly initializers: object[] = [];
  private readonly names = new Set<string>();

  /** A name not used yet, from `base` (ONNX names must be unique in the graph). */
  fresh(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = clean;
    for (let k = 1; this.names.has(name); k++) name = `${clean}_${k}`;
    this.names.add(name);
    return name;
  }

  /** Emits a node; returns its output names (`outputs` of them, named from `base`). */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, base = opType, outputs = 1): string[] {
    const out = Array.from({ length: outputs }, (_, k) => this.fresh(outputs === 1 ? base : `${base}_${k}`));
    const attribute = Object.entries(attrs).map(([name, a]) => attribute_(name, a));
    this.nodes.push({ opType, input: [...inputs], output: out, name: this.fresh(`${base}_node`), attribute });
    return out;
  }

  /** Emits a single-output node and returns its output. */
  op1(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, base = opType): string {
    return this.op(opType, inputs, attrs, base)[0];
  }

  /** A float32 initializer. */
  floats(base: string, data: Float32Array | readonly number[], dims: readonly number[]): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    if (values.length !== dims.reduce((a, b) => a * b, 1))
      throw new ValueError(`onnx export: initializer '${base}' has ${values.length} values for dims [${dims}]`);
    const name = this.fresh(base);
    // raw_data is little-endian; Float32Array is in the platform's order, little-endian everywhere Strata runs.
    const rawData = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    this.initializers.push({ name, dims: [...dims], dataType: ELEM.FLOAT, rawData });
    return name;
  }

  /** An int64 initializer (shapes, axes, permutations). */
  int64s(base: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [...dims], dataType: ELEM.INT64, int64Data: [...values] });
    return name;
  }

  /** The value in Strata's layout, transposing from NCHW the first time it is asked for. */
  nhwc(v: Value): string {
    if (v.nhwc === undefined) v.nhwc = this.op1('Transpose', [v.nchw!], { perm: { ints: TO_NHWC } }, `${v.nchw}_nhwc`);
    return v.nhwc;
  }

  /** The value channels-first (rank 4), transposing from NHWC the first time it is asked for. */
  nchw(v: Value): string {
    if (v.shape.length !== 4) throw new ValueError(`onnx export: a channels-first view needs rank 4; the value has shape [${v.shape}]`);
    if (v.nchw === undefined) v.nchw = this.op1('Transpose', [v.nhwc!], { perm: { ints: TO_NCHW } }, `${v.nhwc}_nchw`);
    return v.nchw;
  }
}

const ATTR_TYPE = { f: 1, i: 2, s: 3, floats: 6, ints: 7, strings: 8 } as const;

function attribute_(name: string, a: Attr): object {
  const [key, value] = Object.entries(a)[0] as [keyof typeof ATTR_TYPE, unknown];
  const encoded =
    key === 's' ? new TextEncoder().encode(value as string) : key === 'strings' ? (value as string[]).map((s) => new TextEncoder().encode(s)) : value;
  return { name, type: ATTR_TYPE[key], [key]: encoded };
}

/** An elementwise unary op on whichever layout the value has (NCHW preferred: it keeps a conv region). */
export function unary(v: Value, f: (x: string) => string): Value {
  if (v.nchw !== undefined) return { shape: v.shape, nchw: f(v.nchw) };
  return { shape: v.shape, nhwc: f(v.nhwc!) };
}

/** A per-channel constant (last axis in Strata) broadcast in the layout `x` is in. */
export function channelConstant(g: GraphBuilder, base: string, data: Float32Array, layout: 'nhwc' | 'nchw'): string {
  return g.floats(base, data, layout === 'nchw' ? [data.length, 1, 1] : [data.length]);
}
