// One ONNX node as a Strata layer: the functional model an import builds is a graph of these, so
// it trains, saves and loads like any other model (the class is registered for model.json).
import type { DType } from '../../core/dtype.js';
import { ValueError, fmtValue } from '../../core/errors.js';
import { Layer, type CallOptions, type LayerArgs } from '../../nn/layer.js';
import { registerLayer } from '../../nn/registry.js';
import { isSymbolic, type Shape, type SymbolicTensor } from '../../nn/symbolic.js';
import { tensor, zeros } from '../../tensor/create.js';
import { clone } from '../../ops/tfjs-aliases.js';
import { noGrad } from '../../tensor/tape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Attrs, type AttrValue, type OpContext, type OpHandler } from './op-context.js';
import { handlerOf } from './ops.js';

/** Where each ONNX input of a node comes from. */
export type InputSpec =
  /**
   * The next tensor the layer is applied to (a graph value), of this dtype; with `host`, a
   * shape-like input the graph computes (Note [Shapes the graph computes]).
   */
  | { graph: DType; host?: boolean }
  /**
   * A graph value the node does not read: it ties a graph input that no output depends on (ONNX
   * allows them, a Strata model needs every input to reach an output) or, for an output that is
   * an import-time constant, puts the node in the graph of the model's inputs.
   */
  | { anchor: DType }
  /** An optional input the node leaves out. */
  | 'absent'
  /** A weight of this layer (an initializer or constant), trainable when floating. */
  | {
      weight: string;
      shape: number[];
      dtype: DType;
      trainable: boolean;
      /**
       * Held in the kernel's layout, not ONNX's: a Conv's filter as [kh, kw, in/group, out], a
       * transposing Gemm's B as [k, n] (Note [Filters held in Strata's layout]).
       */
      filter?: boolean;
    }
  /** Values read at import time (shapes, axes, pads). */
  | { static: number[] }
  /**
   * A small integer or bool constant, kept in the config rather than the weights file: shape
   * computations read it, and must see its values before a loaded model's weights arrive.
   */
  | { constant: { dtype: DType; shape: number[]; values: number[] } };

export interface OnnxNodeArgs extends LayerArgs {
  opType: string;
  opset: number;
  attributes: Record<string, AttrValue>;
  inputs: InputSpec[];
  numOutputs: number;
  /** Whether the node's 4-D values are held channels-last (Note [Channels-last inside, ONNX shapes outside]). */
  channelsLast?: boolean;
  /** The node's name in the ONNX graph. */
  onnxName?: string;
}

const KEYS = ['opType', 'opset', 'attributes', 'inputs', 'numOutputs', 'channelsLast', 'onnxName'];

// Note [Shapes the graph computes]
// Exporters compute shapes from symbolic sizes (Shape → Gather → Concat → Reshape, or
// ConstantOfShape for an LSTM's initial state when the batch size is symbolic). When the sizes
// are known at import, the builder folds those chains into constants; otherwise the shape-like
// input stays a graph value (`{graph, host: true}`) that the node reads on the host when it
// runs: a few integers, but a synchronous read, so such models run on the CPU backends only.
// A symbolic model's output shapes come from running each node once on probe values, with
// unknown sizes taken as 1; integer outputs of that run (shapes and indices, small) are kept with
// the symbolic tensors so that the nodes reading them see real values, not zeros. Loading a
// saved model repeats the same run.
const probes = new WeakMap<SymbolicTensor, Tensor>();
const MAX_PROBE = 4096;

/** An ONNX operator applied by Strata's ops; its constant inputs are its weights. */
export class OnnxNode extends Layer {
  static readonly className = 'OnnxNode';
  readonly args: OnnxNodeArgs;
  private readonly attrs: Attrs;
  private readonly where: string;
  private weightValues = new Map<number, Tensor>();
  private outDtype: DType | undefined;

  constructor(args: OnnxNodeArgs) {
    super(args as OnnxNodeArgs & Record<string, unknown>, KEYS);
    if (typeof args.opType !== 'string') throw new ValueError(`OnnxNode: opType must be a string; received ${fmtValue(args.opType)}`);
    if (!Array.isArray(args.inputs)) throw new ValueError(`OnnxNode: inputs must be a list; received ${fmtValue(args.inputs)}`);
    this.args = args;
    this.where = `${args.opType} '${args.onnxName ?? this.name}'`;
    this.handler = handlerOf(args.opType, this.where);
    this.attrs = new Attrs(args.attributes ?? {}, this.where);
    this.filterLayout = args.inputs.map((spec) => typeof spec === 'object' && 'weight' in spec && spec.filter === true);
  }

  // Fixed by the config, so found once rather than on every call (an imported MobileNetV2 calls
  // its 100-odd nodes for every image).
  private readonly handler: OpHandler;
  private readonly filterLayout: boolean[];
  /** The layer's weights and constants: returned as an output, they are copied (see call()). */
  private readonly own = new Set<Tensor>();

  override build(): void {
    this.args.inputs.forEach((spec, i) => {
      if (typeof spec === 'object' && 'weight' in spec) {
        const w = this.addWeight(spec.weight, spec.shape, { initializer: 'zeros', dtype: spec.dtype, trainable: spec.trainable });
        this.weightValues.set(i, w);
        this.own.add(w);
      }
    });
  }

  private constants = new Map<number, Tensor>();

  private constantOf(i: number, c: { dtype: DType; shape: number[]; values: number[] }): Tensor {
    let t = this.constants.get(i);
    if (!t) {
      t = tensor(c.values, c.shape, c.dtype);
      this.constants.set(i, t);
      this.own.add(t);
    }
    return t;
  }

  private run(graphInputs: Tensor[], options: CallOptions): Tensor[] {
    let next = 0;
    const inputs: (Tensor | undefined)[] = [];
    const statics: (number[] | undefined)[] = [];
    this.args.inputs.forEach((spec, i) => {
      if (spec === 'absent') inputs.push(undefined);
      else if ('anchor' in spec) {
        next++;
        inputs.push(undefined);
      } else if ('graph' in spec && spec.host) {
        statics[i] = Array.from(graphInputs[next++].dataSync(), Number);
        inputs.push(undefined);
      } else if ('graph' in spec) inputs.push(graphInputs[next++]);
      else if ('weight' in spec) inputs.push(this.weightValues.get(i));
      else if ('constant' in spec) inputs.push(this.constantOf(i, spec.constant));
      else {
        inputs.push(undefined);
        statics[i] = spec.static;
      }
    });
    const ctx: OpContext = {
      where: this.where,
      inputs,
      statics,
      attrs: this.attrs,
      opset: this.args.opset,
      training: options.training ?? false,
      numOutputs: this.args.numOutputs,
      channelsLast: this.args.channelsLast ?? false,
      filterLayout: this.filterLayout,
    };
    const out = this.handler.run(ctx);
    return Array.isArray(out) ? out : [out];
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor | Tensor[] {
    // An output that is one of the layer's own tensors (an anchored constant, Note [Anchored
    // values]) is copied: a caller may dispose what the model returns, the layer must keep it.
    const out = this.run(Array.isArray(inputs) ? inputs : [inputs], options).map((t) => (this.own.has(t) ? clone(t) : t));
    return this.args.numOutputs === 1 ? out[0] : out.slice(0, this.args.numOutputs);
  }

  /**
   * No check against the shapes the layer was built for: an ONNX node's weights come from the
   * graph, not from its input shape, and its "batch" axis need not be the first (an LSTM's input
   * is [time, batch, features]). The operators check their own inputs.
   */
  protected override checkInput(): void {}

  /** Probe values of the symbolic inputs of the apply() under way (Note [Shapes the graph computes]). */
  private probeInputs: (Tensor | undefined)[] | undefined;
  private probeOutputs: Tensor[] | undefined;

  // biome-ignore lint/suspicious/noExplicitAny: Layer.apply's overloads, passed through unchanged
  override apply(inputs: any, options?: CallOptions): any {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const symbolic = list.length > 0 && list.every(isSymbolic);
    this.probeInputs = symbolic ? list.map((t: SymbolicTensor) => probes.get(t)) : undefined;
    try {
      const out = super.apply(inputs, options);
      if (symbolic && this.probeOutputs) {
        const outs: SymbolicTensor[] = Array.isArray(out) ? out : [out];
        outs.forEach((o, i) => {
          const p = this.probeOutputs?.[i];
          if (p && p.dtype === 'int32' && p.size <= MAX_PROBE) probes.set(o, p);
        });
      }
      return out;
    } finally {
      this.probeInputs = undefined;
      this.probeOutputs = undefined;
    }
  }

  /** The output shapes, found by running the node once on probe values (Note [Shapes the graph computes]). */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const graphSpecs = this.args.inputs
      .filter((s): s is { graph: DType } | { anchor: DType } => typeof s === 'object' && ('graph' in s || 'anchor' in s))
      .map((s) => ('graph' in s ? s.graph : s.anchor));
    const shapes = graphSpecs.length === 1 ? [inputShape as Shape] : (inputShape as Shape[]);
    const out = noGrad(() =>
      this.run(
        shapes.map(
          (s, i) =>
            this.probeInputs?.[i] ??
            zeros(
              s.map((d) => d ?? 1),
              graphSpecs[i],
            ),
        ),
        {},
      ),
    );
    this.probeOutputs = out;
    this.outDtype = out[0].dtype;
    const batchUnknown = shapes.length > 0 && shapes[0].length > 0 && shapes[0][0] === null;
    const result = out
      .slice(0, this.args.numOutputs)
      .map((t): Shape => (batchUnknown && t.dtype === 'float32' && t.rank > 0 && t.shape[0] === 1 ? [null, ...t.shape.slice(1)] : [...t.shape]));
    return this.args.numOutputs === 1 ? result[0] : result;
  }

  protected override computeOutputDtype(inputDtypes: DType[]): DType {
    return this.outDtype ?? inputDtypes[0] ?? this.dtype;
  }

  override getConfig(): Record<string, unknown> {
    const a = this.args;
    return {
      ...super.getConfig(),
      opType: a.opType,
      opset: a.opset,
      attributes: a.attributes,
      inputs: a.inputs,
      numOutputs: a.numOutputs,
      channelsLast: a.channelsLast ?? false,
      ...(a.onnxName !== undefined ? { onnxName: a.onnxName } : {}),
    };
  }
}

registerLayer('OnnxNode', (c) => new OnnxNode(c as unknown as OnnxNodeArgs));
