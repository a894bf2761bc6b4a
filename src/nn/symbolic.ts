import type { DType } from '../core/dtype.js';

// Note [The layer type of graph nodes]
// A node records the layer that made it, and layer.ts builds nodes: the two types refer to each
// other. So that the files do not (layer.ts imports this file, never the reverse), the layer type
// is left open here and layer.ts fills it in by declaration merging
// (`declare module './symbolic.js' { interface GraphTypes { layer: Layer } }`).
/** Types the files above this one supply; see Note [The layer type of graph nodes]. */
// biome-ignore lint/suspicious/noEmptyInterface: an interface, so nn/layer.ts can merge its member in
export interface GraphTypes {}
/** The class of the layers that make nodes: Layer, once nn/layer.ts is loaded. */
export type GraphLayer = GraphTypes extends { layer: infer L } ? L : never;

/** A shape whose entries may be unknown (null): the batch axis of a symbolic tensor is. */
export type Shape = readonly (number | null)[];

/**
 * One application of a layer to symbolic inputs: an edge bundle of the functional graph.
 * `callArgs` are the options given to apply() other than the inputs (e.g. an attention mask
 * flag), replayed when the model runs.
 */
export class Node {
  constructor(
    readonly layer: GraphLayer,
    readonly inputs: readonly SymbolicTensor[],
    readonly outputs: SymbolicTensor[],
    readonly callArgs: Record<string, unknown>,
    /** Whether the layer was given a list (even of one tensor) rather than a single input. */
    readonly listInput: boolean,
    /** Symbolic tensors passed as options (attention's value and key, a recurrent initialState). */
    readonly optionInputs: Record<string, SymbolicTensor | SymbolicTensor[]> = {},
  ) {}

  /** Every symbolic tensor this call reads: the inputs, then the option tensors. */
  get allInputs(): SymbolicTensor[] {
    return [...this.inputs, ...Object.values(this.optionInputs).flat()];
  }
}

let nextSymbolicId = 0;

/**
 * A placeholder for a tensor in the functional API (Keras's KerasTensor): it knows its shape and
 * dtype and which layer call produced it, but holds no values. `st.layers.input()` makes the
 * first ones; applying a layer to them makes more, and `st.model({inputs, outputs})` replays the
 * recorded calls on real tensors.
 */
export class SymbolicTensor {
  /** A number unique to this symbolic tensor in the process. */
  readonly id = nextSymbolicId++;
  /**
   * Set right after construction by the layer call that produces this tensor.
   * @internal
   */
  node!: Node;
  constructor(
    /** The shape, batch axis first; null where the size is known only when the model runs. */
    readonly shape: Shape,
    /** The dtype of the values the model will compute here. */
    readonly dtype: DType,
    /** Which output of the node this is. */
    readonly index: number,
    /** The producing layer's name (with `/i` for the i-th of several outputs). */
    readonly name: string,
  ) {}

  /** The number of axes, batch axis included. */
  get rank(): number {
    return this.shape.length;
  }

  /** The layer whose call produced this tensor (the InputLayer for `st.layers.input()`). */
  get sourceLayer(): GraphLayer {
    return this.node.layer;
  }

  /** `SymbolicTensor(shape=(None, 784), dtype=float32, name=...)`. */
  toString(): string {
    return `SymbolicTensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}, name=${this.name})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Keras's printing of shapes: (None, 28, 28, 1). */
export function formatShape(shape: Shape): string {
  const parts = shape.map((d) => (d === null ? 'None' : String(d)));
  return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
}

export const isSymbolic = (x: unknown): x is SymbolicTensor => x instanceof SymbolicTensor;
