import { variable } from '../autograd/functional.js';
import { noGrad } from '../tensor/tape.js';
import { bytesPerElement, isDType, type DType } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { cast } from '../ops/elementwise.js';
import { asTensor, type TensorInput } from '../ops/operand.js';
import { Tensor } from '../tensor/tensor.js';
import { getInitializer, type InitializerIdentifier } from './initializers.js';
import { getRegularizer, type Regularizer } from './regularizers.js';
import { getMask, setMask } from './masking.js';
import { Node, SymbolicTensor, formatShape, isSymbolic, type Shape } from './symbolic.js';

// Note [The layer type of graph nodes] (symbolic.ts): a node's layer is a Layer.
declare module './symbolic.js' {
  interface GraphTypes {
    layer: Layer;
  }
}

/** Options every layer takes (Keras's base-layer arguments). */
export interface LayerArgs {
  /**
   * The layer's name, unique within a model (no '/'); default: the class name in snake_case with a
   * counter (`dense`, `dense_1`, ...), as Keras names layers.
   */
  name?: string;
  /** Whether training updates the weights. Default true; see {@link Layer.trainable}. */
  trainable?: boolean;
  /** The input shape without the batch axis; lets a Sequential model build before it sees data. */
  inputShape?: readonly (number | null)[];
  /**
   * The full input shape, batch axis first (null for unknown sizes), instead of inputShape and
   * batchSize.
   */
  batchInputShape?: Shape;
  /** The batch size that goes with inputShape (default: unknown). */
  batchSize?: number;
  /** The dtype of the weights and of floating outputs. Default float32. */
  dtype?: DType;
}

export const BASE_KEYS = ['name', 'trainable', 'inputShape', 'batchInputShape', 'batchSize', 'dtype'] as const;

/** Options of a call: `training` switches dropout and batch statistics; layers may take more. */
export interface CallOptions {
  /**
   * Training mode: dropout and noise layers are active and batch normalization uses (and updates)
   * batch statistics. `fit` and `trainOnBatch` pass true; default false. Given when a layer or
   * model is applied to a symbolic tensor (`base.apply(x, {training: false})` in a functional
   * model, Keras's fine-tuning recipe), it stays fixed: the flag fit passes does not reach it.
   */
  training?: boolean;
  [option: string]: unknown;
}

export type LayerInput = Tensor | SymbolicTensor;
/** What `call()` returns: one tensor, or a list for layers with several outputs. */
export type LayerOutput = Tensor | Tensor[];

/** A weight of a layer: a named variable, trainable or not (batch-norm moving statistics are not). */
export interface LayerWeight {
  /** `layerName/weightName`, unique inside a model. */
  readonly path: string;
  /** The weight's name inside its layer (`kernel`, `bias`, `gamma`, ...). */
  readonly name: string;
  /** The variable holding the values (optimizers update it in place). */
  readonly value: Tensor;
  /** False for weights training never updates (batch normalization's moving statistics). */
  readonly trainable: boolean;
  /** The penalty added to the loss for this weight, if any. */
  readonly regularizer?: Regularizer;
}

export interface AddWeightOptions {
  initializer: InitializerIdentifier;
  trainable?: boolean;
  regularizer?: Regularizer | string | null;
  dtype?: DType;
}

// Note [Weights on a file's word]
// Loading a model builds its architecture from model.json before the weights file's values
// replace the initial ones, and each layer's build allocates and initializes its weights from
// its config. A config is a file's claim: `units: 2**28` would make a dense layer fill gigabytes.
// While a loader holds a budget (the bytes its weights file really holds), every weight a layer
// adds is charged to it first, and one that does not fit is refused before any allocation.
let weightBudget: { remaining: number; source: string } | null = null;

/** Runs `f` (typically deserializing a model) allowing its layers at most `bytes` of new weights. */
export function withWeightBudget<T>(bytes: number, source: string, f: () => T): T {
  const outer = weightBudget;
  weightBudget = { remaining: bytes, source };
  try {
    return f();
  } finally {
    weightBudget = outer;
  }
}

function chargeWeightBudget(path: string, shape: readonly number[], dtype: DType): void {
  if (!weightBudget) return;
  const bytes = shape.reduce((n, d) => n * d, 1) * bytesPerElement(dtype);
  if (!(bytes <= weightBudget.remaining)) {
    throw new ValueError(
      `the architecture's weight '${path}' ${fmtShape(shape)} needs ${bytes} bytes, but ${weightBudget.source} hold only ${weightBudget.remaining} more; the config does not match its weights`,
    );
  }
  weightBudget.remaining -= bytes;
}

/** A class registered for save/load: its static `className` is what model.json stores. */
export interface LayerClass {
  readonly className: string;
}

const nameCounts = new Map<string, number>();

/** Keras's automatic names: the class name in snake_case, then `_1`, `_2`, ... for later ones. */
export function uniqueName(className: string): string {
  // Keras's to_snake_case: Conv2DTranspose → conv2d_transpose, SimpleRNN → simple_rnn.
  const base = className
    .replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/**
 * A new handle on the same storage: what getWeights hands out. Being a second owner, it keeps the
 * values it has: optimizers write over a storage only when its tensor owns it alone (Note
 * [Updates in place] in optimizers/optimizer.ts).
 */
export const snapshot = (t: Tensor): Tensor => new Tensor(t.storage, t.shape, t.dtype, t.backend);

// Note [Layer lifecycle]
// As in Keras: the constructor only stores options; the first apply() calls build(inputShape),
// which creates the weights now that the input size is known; call() is the computation.
// apply() on symbolic tensors (the functional API) builds the layer and records a Node using
// computeOutputShape, without computing anything; apply() on tensors computes.

/**
 * The base of every layer (and of models, which are layers too), Keras's `Layer`.
 *
 * A layer is made by a factory (`st.layers.dense({...})`), builds its weights on the first
 * `apply()` from the input shape, and then computes with `call()`. A custom layer subclasses it:
 * its constructor passes the options and its own option names to `super(args, ownKeys)`
 * (unknown names are refused), `build(inputShape)` creates weights with the protected
 * `this.addWeight(name, shape, {initializer, trainable?, regularizer?})`, `call(inputs, options)`
 * computes with ops, and `computeOutputShape` (default: the input shape) lets it take part in
 * functional models. `getConfig()` plus `st.layers.registerLayer` make it savable.
 * @example
 * ```ts
 * class Scale extends st.Layer {
 *   static readonly className = 'Scale';
 *   private w: st.Tensor | null = null;
 *   constructor(args: st.LayerArgs = {}) {
 *     super(args as st.LayerArgs & Record<string, unknown>, []);
 *   }
 *   override build(inputShape: st.Shape | st.Shape[]): void {
 *     const shape = inputShape as st.Shape;
 *     this.w = this.addWeight('w', [shape[shape.length - 1] as number], { initializer: 'ones' });
 *   }
 *   call(inputs: st.Tensor | st.Tensor[]): st.Tensor {
 *     return (inputs as st.Tensor).mul(this.w!);
 *   }
 * }
 * console.log(new Scale().apply(st.ones([2, 3])).shape); // [2, 3]
 * ```
 */
export abstract class Layer {
  /** The layer's name (given, or made from the class name). */
  readonly name: string;
  /** Whether the weights exist: set by the first `apply()` (or a model's build). */
  built = false;
  /** The dtype of the weights and of floating outputs. */
  readonly dtype: DType;
  /** The full input shape (batch axis first) given by inputShape/batchInputShape, if any. */
  readonly batchInputShape: Shape | undefined;
  /**
   * The calls of this layer on symbolic inputs, in order (the functional graph's edges).
   * @internal
   */
  readonly inboundNodes: Node[] = [];
  private weightList: LayerWeight[] = [];
  private trainableFlag: boolean;

  /** Validates `args` against the base keys plus the subclass's own option names. */
  protected constructor(args: LayerArgs & Record<string, unknown>, ownKeys: readonly string[]) {
    const className = this.className;
    checkKeys(className, args, [...BASE_KEYS, ...ownKeys]);
    if (args.name !== undefined && (typeof args.name !== 'string' || args.name === '' || args.name.includes('/'))) {
      throw new ValueError(`${className}: name must be a non-empty string without '/'; received ${fmtValue(args.name)}`);
    }
    this.name = args.name ?? uniqueName(className);
    this.trainableFlag = args.trainable ?? true;
    this.dtype = args.dtype ?? 'float32';
    if (!isDType(this.dtype))
      throw new ValueError(`${className}: dtype must be one of float32, int32, bool, float64; received ${fmtValue(args.dtype)}`);
    if (args.batchInputShape) this.batchInputShape = [...args.batchInputShape];
    else if (args.inputShape) this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
    for (const d of this.batchInputShape ?? []) {
      if (d !== null && !(Number.isInteger(d) && d >= 0)) {
        throw new ValueError(
          `${className}: inputShape entries must be non-negative integers or null; received ${fmtValue(args.inputShape ?? args.batchInputShape)}`,
        );
      }
    }
  }

  /** The registered class name (Dense, Conv2D, ...), stored in model.json. */
  get className(): string {
    return (this.constructor as unknown as LayerClass).className;
  }

  /** Creates the weights for inputs of this shape (batch axis first, possibly null). */
  build(_inputShape: Shape | Shape[]): void {}

  /** The computation, on real tensors. */
  abstract call(inputs: Tensor | Tensor[], options: CallOptions): LayerOutput;

  /** The output shape for an input shape, without computing (the default keeps the shape). */
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  /** The dtype of the outputs; floating layers produce their own dtype. */
  protected computeOutputDtype(_inputDtypes: DType[]): DType {
    return this.dtype;
  }

  /** The layer's own options, as accepted by its factory (Keras's get_config). */
  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, trainable: this.trainable, dtype: this.dtype };
    if (this.batchInputShape) config.batchInputShape = [...this.batchInputShape];
    return config;
  }

  /** Whether training updates this layer's weights; false freezes it (and batch norm runs in inference mode). */
  get trainable(): boolean {
    return this.trainableFlag;
  }

  /** Freezes (false) or unfreezes (true) every weight of the layer; takes effect at the next step. */
  set trainable(value: boolean) {
    this.trainableFlag = value;
    for (const w of this.weightList) w.value.requiresGrad = value && w.trainable;
  }

  /** Every weight of this layer (and of sublayers, for models), in creation order. */
  get weights(): LayerWeight[] {
    return [...this.weightList];
  }

  /** The weights training updates: trainable ones, of a layer that is trainable. */
  get trainableWeights(): LayerWeight[] {
    return this.weights.filter((w) => w.trainable && w.value.requiresGrad);
  }

  /** The weights training leaves alone (frozen layers' weights, moving statistics). */
  get nonTrainableWeights(): LayerWeight[] {
    return this.weights.filter((w) => !(w.trainable && w.value.requiresGrad));
  }

  /** Copies of the weight values in Keras order (dense: kernel [in, units], bias [units]). */
  getWeights(): Tensor[] {
    return this.weights.map((w) => snapshot(w.value));
  }

  /** Sets the weight values in getWeights() order; shapes must match exactly. */
  setWeights(values: readonly TensorInput[]): void {
    const ws = this.weights;
    if (values.length !== ws.length) {
      throw new ValueError(
        `${this.name}.setWeights: expected ${ws.length} weight tensors (${ws.map((w) => w.name).join(', ') || 'none'}); received ${values.length}`,
      );
    }
    const tensors = values.map((v, i) => asTensor(`${this.name}.setWeights`, ws[i].name, v));
    tensors.forEach((t, i) => {
      const w = ws[i].value;
      if (fmtShape(t.shape) !== fmtShape(w.shape)) {
        throw new ShapeError(`${this.name}.setWeights: weight ${ws[i].path} has shape ${fmtShape(w.shape)}; received ${fmtShape(t.shape)}`);
      }
    });
    noGrad(() => tensors.forEach((t, i) => ws[i].value.assign(t.dtype === ws[i].value.dtype ? t : cast(t, ws[i].value.dtype))));
  }

  /** The number of scalars in the weights. */
  countParams(): number {
    return this.weights.reduce((n, w) => n + w.value.size, 0);
  }

  /** Regularization penalties of the trainable weights, added to the training loss. */
  regularizationLosses(): Tensor[] {
    return this.trainableWeights.filter((w) => w.regularizer).map((w) => w.regularizer!.apply(w.value));
  }

  /** Creates a weight; called from build(). */
  protected addWeight(name: string, shape: readonly number[], options: AddWeightOptions): Tensor {
    chargeWeightBudget(`${this.name}/${name}`, shape, options.dtype ?? this.dtype);
    const trainable = options.trainable ?? true;
    const init = getInitializer(options.initializer);
    const value = noGrad(() => init.init(shape, options.dtype ?? this.dtype));
    const v = variable(value, { trainable });
    v.requiresGrad = trainable && this.trainable;
    const regularizer = options.regularizer ? getRegularizer(options.regularizer) : undefined;
    this.weightList.push({ path: `${this.name}/${name}`, name, value: v, trainable, regularizer });
    return v;
  }

  /**
   * Applies the layer: on tensors it computes (building on first use); on symbolic tensors from
   * `st.layers.input()` it records the call for a functional model.
   */
  apply(inputs: SymbolicTensor | SymbolicTensor[], options?: CallOptions): SymbolicTensor;
  apply(inputs: TensorInput | Tensor[], options?: CallOptions): Tensor;
  apply(inputs: TensorInput | LayerInput | LayerInput[], options: CallOptions = {}): Tensor | SymbolicTensor | Tensor[] | SymbolicTensor[] {
    const list =
      Array.isArray(inputs) && inputs.length > 0 && inputs.every((x) => x instanceof Tensor || isSymbolic(x))
        ? (inputs as LayerInput[])
        : [inputs as TensorInput];
    const optionTensors = tensorOptions(options);
    const optionValues = Object.values(optionTensors).flat();
    if (list.some(isSymbolic) || optionValues.some(isSymbolic)) {
      if (![...list, ...optionValues].every(isSymbolic))
        throw new ValueError(`${this.name}: cannot mix symbolic inputs (from st.layers.input()) and tensors in one call`);
      return this.applySymbolic(
        list as SymbolicTensor[],
        Array.isArray(inputs),
        options,
        optionTensors as Record<string, SymbolicTensor | SymbolicTensor[]>,
      );
    }
    const tensors = list.map((x, i) => asTensor(this.name, `input ${i}`, x as TensorInput));
    const single = !Array.isArray(inputs) || list.length === 0;
    const shapes = tensors.map((t) => t.shape);
    this.ensureBuilt(single ? shapes[0] : shapes, optionShapes(optionTensors));
    this.checkInput(shapes);
    // Note [Masks] in masking.ts: an input's mask reaches call() and, via computeMask, the output.
    const inputMasks = tensors.map(getMask);
    const mask = single ? inputMasks[0] : inputMasks.some((m) => m) ? inputMasks : null;
    const callOptions = mask && options.mask === undefined ? { ...options, mask } : options;
    const out = this.call(single ? tensors[0] : tensors, callOptions);
    const given = (callOptions.mask ?? null) as Tensor | (Tensor | null)[] | null;
    const outMask = this.computeMask(single ? tensors[0] : tensors, given);
    if (outMask) (Array.isArray(out) ? out : [out]).forEach((o, i) => setMask(o, Array.isArray(outMask) ? outMask[i] : outMask));
    return out as Tensor;
  }

  /**
   * What apply() does with a single input's shape before call(): build once, then reject a shape
   * the weights were not built for. For code that runs a layer's work without call() (Note
   * [Fused layer pairs] in layers/conv-pool-pair.ts).
   */
  prepare(inputShape: Shape): void {
    this.ensureBuilt(inputShape);
    this.checkInput([inputShape]);
  }

  /** Whether this layer passes an input's mask on unchanged (layers that keep the time axis). */
  supportsMasking = false;

  /** The mask of the output, from the input's; the default passes it on when supportsMasking. */
  computeMask(_inputs: Tensor | Tensor[], mask: Tensor | (Tensor | null)[] | null): Tensor | (Tensor | null)[] | null {
    return this.supportsMasking ? mask : null;
  }

  /**
   * Builds from the input shape and the shapes of tensors passed as options (attention's value
   * and key); the default ignores the latter and calls build().
   */
  buildWithOptions(inputShape: Shape | Shape[], _optionShapes: Record<string, Shape | Shape[]>): void {
    this.build(inputShape);
  }

  /** Builds once, from the first input shape seen. */
  ensureBuilt(inputShape: Shape | Shape[], optionShapes: Record<string, Shape | Shape[]> = {}): void {
    if (this.built) return;
    this.buildWithOptions(inputShape, optionShapes);
    this.built = true;
    this.builtInputShapes = (isShapeList(inputShape) ? inputShape : [inputShape]).map((s) => (s.length ? [null, ...s.slice(1)] : []));
  }

  /** The input shapes the weights were built for; later calls must agree on every non-batch axis. */
  private builtInputShapes: Shape[] | undefined;

  /** Rejects inputs whose non-batch dimensions differ from what the layer was built for. */
  protected checkInput(shapes: Shape[]): void {
    const built = this.builtInputShapes;
    if (!built || this.weightList.length === 0) return;
    if (built.length !== shapes.length) {
      throw new ValueError(`${this.name}: expected ${built.length} input(s); received ${shapes.length}`);
    }
    shapes.forEach((s, i) => {
      const b = built[i];
      const ok = s.length === b.length && s.every((d, k) => k === 0 || b[k] === null || d === null || d === b[k]);
      if (!ok) {
        throw new ShapeError(`${this.name} (${this.className}): was built for inputs of shape ${formatShape(b)}; received ${formatShape(s)}`);
      }
    });
  }

  private applySymbolic(
    inputs: SymbolicTensor[],
    asList: boolean,
    options: CallOptions,
    optionInputs: Record<string, SymbolicTensor | SymbolicTensor[]>,
  ): SymbolicTensor | SymbolicTensor[] {
    const shapes = inputs.map((t) => t.shape);
    const inShape = asList ? shapes : shapes[0];
    this.ensureBuilt(inShape, optionShapes(optionInputs));
    this.checkInput(shapes);
    const out = this.computeOutputShape(inShape);
    const outShapes = isShapeList(out) ? out : [out];
    const dtype = this.computeOutputDtype(inputs.map((t) => t.dtype));
    const outputs = outShapes.map((s, i) => new SymbolicTensor(s, dtype, i, outShapes.length > 1 ? `${this.name}/${i}` : this.name));
    const callArgs = Object.fromEntries(Object.entries(options).filter(([k]) => !(k in optionInputs)));
    const node = new Node(this, inputs, outputs, callArgs, asList, optionInputs);
    for (const o of outputs) o.node = node;
    this.inboundNodes.push(node);
    return isShapeList(out) ? outputs : outputs[0];
  }

  /**
   * The symbolic output of this layer's call in a functional graph (Keras's `layer.output`), a
   * list when the layer has several: what cuts a network at a layer, e.g.
   * `st.model({ inputs: net.inputs, outputs: net.getLayer('out_relu').output })`.
   * @throws ValueError when the layer has not been called on symbolic inputs, or has been called
   * more than once (a shared layer: each call has its own output).
   */
  get output(): SymbolicTensor | SymbolicTensor[] {
    const node = this.onlyCall('output');
    return node.outputs.length === 1 ? node.outputs[0] : [...node.outputs];
  }

  /**
   * The symbolic input of this layer's call in a functional graph (Keras's `layer.input`), a list
   * when it takes several.
   * @throws ValueError as `output` does.
   */
  get input(): SymbolicTensor | SymbolicTensor[] {
    const node = this.onlyCall('input');
    return node.listInput ? [...node.inputs] : node.inputs[0];
  }

  private onlyCall(what: 'input' | 'output'): Node {
    const n = this.inboundNodes.length;
    if (n === 1) return this.inboundNodes[0];
    throw new ValueError(
      n === 0
        ? `${this.name}.${what}: the layer has not been called on symbolic inputs (st.input), so it has no ${what} yet`
        : `${this.name}.${what}: the layer has been called ${n} times, each call with its own ${what}; take the one you mean from the model that holds it`,
    );
  }

  /** `ClassName(name=...)`. */
  toString(): string {
    return `${this.className}(name=${this.name})`;
  }
}

/** The options whose values are tensors or lists of tensors (symbolic or real). */
function tensorOptions(options: CallOptions): Record<string, LayerInput | LayerInput[]> {
  const isT = (v: unknown): v is LayerInput => v instanceof Tensor || isSymbolic(v);
  const out: Record<string, LayerInput | LayerInput[]> = {};
  for (const [k, v] of Object.entries(options)) {
    if (k === 'mask') continue;
    if (isT(v) || (Array.isArray(v) && v.length > 0 && v.every(isT))) out[k] = v as LayerInput | LayerInput[];
  }
  return out;
}

function optionShapes(tensors: Record<string, LayerInput | LayerInput[]>): Record<string, Shape | Shape[]> {
  return Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, Array.isArray(v) ? v.map((t) => t.shape) : v.shape]));
}

/** Whether a value is a list of shapes rather than one shape. */
export function isShapeList(s: Shape | Shape[]): s is Shape[] {
  return s.length > 0 && Array.isArray(s[0]);
}

/** One shape from a layer's inputs, with a clear error for layers that take exactly one. */
export function singleShape(layer: string, s: Shape | Shape[]): Shape {
  if (isShapeList(s)) throw new ValueError(`${layer}: expects one input; received ${s.length}`);
  return s;
}

/** Checks that a dimension is known when a layer needs it to create weights. */
export function knownDim(layer: string, shape: Shape, axis: number, what: string): number {
  const d = shape[axis < 0 ? shape.length + axis : axis];
  if (d === null || d === undefined) {
    throw new ShapeError(`${layer}: the ${what} must be known to build the layer; received input shape ${formatShape(shape)}`);
  }
  return d;
}
