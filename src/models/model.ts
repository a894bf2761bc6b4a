import { ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { Layer, isShapeList, type CallOptions, type LayerOutput, type LayerWeight } from '../nn/layer.js';
import { InputLayer } from '../nn/layers/input.js';
import { deserializeLayer, registerLayer, serializeLayer, type SerializedLayer } from '../nn/registry.js';
import { SymbolicTensor, type Node, type Shape } from '../nn/symbolic.js';
import { graphLayers, inferShapes, runGraph, topologicalNodes } from './graph.js';
import {
  Trainer,
  type TrainingPosition,
  type CompileArgs,
  type EvaluateArgs,
  type FitArgs,
  type History,
  type PredictArgs,
  type TestOnBatchArgs,
  type TrainOnBatchArgs,
  type XInput,
  type YInput,
} from './trainer.js';
import { summary, type SummaryOptions } from './summary.js';
import { saveModel, type SaveOptions } from './save.js';
import type { ModelStore } from './model-stores.js';
import type { Logs } from '../callbacks/callback.js';
import type { Dataset } from '../data/dataset.js';
import { isDataset } from './batch-source.js';

/** Options of `st.model`. */
export interface ModelArgs {
  /** The model's inputs: tensors from `st.input()`; a list makes `predict` and `fit` take a list. */
  inputs: SymbolicTensor | SymbolicTensor[];
  /** The outputs: symbolic tensors computed from the inputs by applying layers. */
  outputs: SymbolicTensor | SymbolicTensor[];
  /** The model's name (default `functional`, `functional_1`, ...). */
  name?: string;
}

/** [layer name, node index among this model's calls of that layer, output index]: how model.json names a tensor. */
type TensorRef = [string, number, number];

/**
 * A model is a layer made of layers: the functional graph from `st.layers.input()` tensors to
 * outputs (Keras's Functional), with the one trainer for compile/fit/evaluate/predict. Sequential
 * is the special case of a chain.
 */
export class Model extends Layer {
  /** The class name that saved configs (model.json) store. */
  static readonly className: string = 'Functional';
  private graphInputs: SymbolicTensor[] = [];
  private graphOutputs: SymbolicTensor[] = [];
  protected nodes: Node[] = [];
  /** Set by a callback (early stopping) or from outside (a Stop button) to end fit at the end of the current step. */
  stopTraining = false;
  private trainer: Trainer | null = null;
  private userDefinedMetadata: Record<string, unknown> | undefined = undefined;

  constructor(args: ModelArgs | { name?: string }, ownKeys: readonly string[] = ['inputs', 'outputs']) {
    super(args as Record<string, unknown>, ownKeys);
    if ('inputs' in args || 'outputs' in args) {
      const a = args as ModelArgs;
      if (!a.inputs || !a.outputs)
        throw new ValueError(`${this.name}: st.model needs both inputs and outputs (symbolic tensors from st.layers.input() and layer calls)`);
      this.initGraph(toList(a.inputs), toList(a.outputs), Array.isArray(a.inputs), Array.isArray(a.outputs));
    }
  }

  private inputsAsList = false;
  private outputsAsList = false;

  /** Records the graph between symbolic inputs and outputs. */
  protected initGraph(
    inputs: SymbolicTensor[],
    outputs: SymbolicTensor[],
    inputsAsList = inputs.length > 1,
    outputsAsList = outputs.length > 1,
  ): void {
    for (const t of [...inputs, ...outputs]) {
      if (!(t instanceof SymbolicTensor))
        throw new ValueError(
          `${this.name}: inputs and outputs must be symbolic tensors (from st.layers.input() and layer.apply on them); received ${String(t)}`,
        );
    }
    this.nodes = topologicalNodes(this.name, inputs, outputs);
    this.graphInputs = inputs;
    this.graphOutputs = outputs;
    this.inputsAsList = inputsAsList;
    this.outputsAsList = outputsAsList;
    const names = new Map<string, Layer>();
    for (const layer of this.layers) {
      const other = names.get(layer.name);
      if (other && other !== layer)
        throw new ValueError(`${this.name}: two different layers are named '${layer.name}'; layer names must be unique in a model`);
      names.set(layer.name, layer);
    }
    this.built = true;
  }

  /** The symbolic inputs (empty for a Sequential model not built yet). */
  get inputs(): SymbolicTensor[] {
    return this.graphInputs;
  }

  /** The symbolic outputs. */
  get outputs(): SymbolicTensor[] {
    return this.graphOutputs;
  }

  /** The model's own output (a list when it has several), as Keras's `model.output`; not that of a call of the model as a layer. */
  override get output(): SymbolicTensor | SymbolicTensor[] {
    return this.graphOutputs.length === 1 ? this.graphOutputs[0] : [...this.graphOutputs];
  }

  /** The model's own input (a list when it has several), as Keras's `model.input`. */
  override get input(): SymbolicTensor | SymbolicTensor[] {
    return this.graphInputs.length === 1 ? this.graphInputs[0] : [...this.graphInputs];
  }

  /**
   * The recorded layer calls, in execution order.
   * @internal
   */
  get graphNodes(): readonly Node[] {
    return this.nodes;
  }

  /** The model's layers in execution order (input layers first). */
  get layers(): Layer[] {
    return graphLayers(this.nodes);
  }

  /** A layer by name or by position in `layers`. */
  getLayer(nameOrIndex: string | number): Layer {
    const ls = this.layers;
    const found = typeof nameOrIndex === 'number' ? ls[nameOrIndex] : ls.find((l) => l.name === nameOrIndex);
    if (!found)
      throw new ValueError(`${this.name}.getLayer: no layer ${JSON.stringify(nameOrIndex)}; layers are ${ls.map((l) => l.name).join(', ')}`);
    return found;
  }

  override get weights(): LayerWeight[] {
    const seen = new Set<Tensor>();
    const out: LayerWeight[] = [];
    for (const layer of this.layers) {
      for (const w of layer.weights) {
        if (seen.has(w.value)) continue; // a layer shared by nested models
        seen.add(w.value);
        out.push(w);
      }
    }
    return out;
  }

  override get trainable(): boolean {
    return super.trainable;
  }

  /** Freezing a model freezes every layer in it, as in Keras. */
  override set trainable(value: boolean) {
    super.trainable = value;
    for (const layer of this.layers ?? []) layer.trainable = value;
  }

  override regularizationLosses(): Tensor[] {
    return this.layers.flatMap((l) => l.regularizationLosses());
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): LayerOutput {
    const values = Array.isArray(inputs) ? inputs : [inputs];
    if (values.length !== this.inputs.length) {
      throw new ValueError(`${this.name}: expected ${this.inputs.length} input tensor(s); received ${values.length}`);
    }
    const outs = runGraph(this.nodes, this.inputs, values, this.outputs, options);
    return this.outputsAsList ? outs : outs[0];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shapes = isShapeList(inputShape) ? inputShape : [inputShape];
    const outs = inferShapes(this.nodes, this.inputs, shapes, this.outputs);
    return this.outputsAsList ? outs : outs[0];
  }

  /** Every layer with the calls that connect it (Keras's functional config). */
  override getConfig(): Record<string, unknown> {
    const callIndex = new Map<Node, number>();
    const counts = new Map<Layer, number>();
    for (const node of this.nodes) {
      const k = counts.get(node.layer) ?? 0;
      callIndex.set(node, k);
      counts.set(node.layer, k + 1);
    }
    const ref = (t: SymbolicTensor): TensorRef => [t.node.layer.name, callIndex.get(t.node)!, t.index];
    const layers = this.layers.map((layer) => ({
      ...serializeLayer(layer),
      name: layer.name,
      inboundNodes: this.nodes
        .filter((n) => n.layer === layer && !(layer instanceof InputLayer))
        .map((n) => ({
          args: n.inputs.map(ref),
          listInput: n.listInput,
          callArgs: n.callArgs,
          ...(Object.keys(n.optionInputs).length
            ? { optionArgs: Object.fromEntries(Object.entries(n.optionInputs).map(([k, v]) => [k, Array.isArray(v) ? v.map(ref) : ref(v)])) }
            : {}),
        })),
    }));
    return {
      name: this.name,
      trainable: this.trainable,
      layers,
      inputLayers: this.inputs.map(ref),
      outputLayers: this.outputs.map(ref),
      inputsAsList: this.inputsAsList,
      outputsAsList: this.outputsAsList,
    };
  }

  /** Rebuilds a functional model from getConfig(): creates each layer, then replays its calls. */
  static fromConfig(config: Record<string, unknown>): Model {
    const where = 'Functional config';
    checkKeys(where, config, ['name', 'trainable', 'layers', 'inputLayers', 'outputLayers', 'inputsAsList', 'outputsAsList']);
    if (!Array.isArray(config.layers))
      throw new ValueError(`${where}: 'layers' must be an array; received ${JSON.stringify(config.layers)?.slice(0, 100)}`);
    const layers = new Map<string, Layer>();
    const produced = new Map<string, SymbolicTensor[][]>(); // layer name → outputs per call
    const pending: {
      layer: Layer;
      args: TensorRef[];
      listInput: boolean;
      callArgs: Record<string, unknown>;
      optionArgs: Record<string, TensorRef | TensorRef[]>;
    }[] = [];
    (config.layers as unknown[]).forEach((entry, i) => {
      const at = `${where}: layers[${i}]`;
      if (typeof entry !== 'object' || entry === null) throw new ValueError(`${at} must be an object; received ${JSON.stringify(entry)}`);
      const { name, inboundNodes = [], ...spec } = entry as { name?: unknown; inboundNodes?: unknown } & SerializedLayer;
      const layer = deserializeLayer(spec, `layer '${String(name)}'`);
      if (name !== layer.name) throw new ValueError(`${at}: entry name ${JSON.stringify(name)} differs from its config name '${layer.name}'`);
      if (layers.has(layer.name)) throw new ValueError(`${at}: a second layer named '${layer.name}'`);
      layers.set(layer.name, layer);
      if (layer instanceof InputLayer) produced.set(layer.name, [[layer.output]]);
      if (!Array.isArray(inboundNodes)) throw new ValueError(`${at}: inboundNodes must be an array`);
      for (const node of inboundNodes as Record<string, unknown>[]) {
        checkKeys(`${at} inbound node`, node, ['args', 'listInput', 'callArgs', 'optionArgs']);
        if (!Array.isArray(node.args) || !node.args.every(isTensorRef))
          throw new ValueError(
            `${at}: inbound node args must be [layerName, callIndex, outputIndex] triples; received ${JSON.stringify(node.args)?.slice(0, 100)}`,
          );
        const callArgs = node.callArgs ?? {};
        if (typeof callArgs !== 'object' || callArgs === null || Array.isArray(callArgs)) throw new ValueError(`${at}: callArgs must be an object`);
        const optionArgs = (node.optionArgs ?? {}) as Record<string, unknown>;
        const validOption = (v: unknown) => isTensorRef(v) || (Array.isArray(v) && v.length > 0 && v.every(isTensorRef));
        if (typeof optionArgs !== 'object' || optionArgs === null || !Object.values(optionArgs).every(validOption))
          throw new ValueError(`${at}: optionArgs must map option names to tensor references`);
        pending.push({
          layer,
          args: node.args,
          listInput: node.listInput === true,
          callArgs: callArgs as Record<string, unknown>,
          optionArgs: optionArgs as Record<string, TensorRef | TensorRef[]>,
        });
      }
    });
    const lookup = ([name, call, index]: TensorRef): SymbolicTensor | undefined =>
      produced.has(name) ? produced.get(name)![call]?.[index] : undefined;
    // Calls are replayed when their inputs exist; a shared layer may wait for a later layer's output.
    while (pending.length) {
      const refsOf = (p: (typeof pending)[number]) => [...p.args, ...Object.values(p.optionArgs).flatMap((v) => (isTensorRef(v) ? [v] : v))];
      const ready = pending.findIndex((p) => refsOf(p).every((r) => lookup(r)));
      if (ready < 0)
        throw new ValueError(
          `${where}: cannot connect layer '${pending[0].layer.name}': its inputs ${JSON.stringify(pending[0].args)} are never produced`,
        );
      const [p] = pending.splice(ready, 1);
      const args = p.args.map((r) => lookup(r)!);
      const optionTensors = Object.fromEntries(
        Object.entries(p.optionArgs).map(([k, v]) => [k, isTensorRef(v) ? lookup(v)! : v.map((r) => lookup(r)!)]),
      );
      const out = p.layer.apply(p.listInput ? args : args[0], { ...p.callArgs, ...optionTensors }) as SymbolicTensor | SymbolicTensor[];
      const list = produced.get(p.layer.name) ?? [];
      list.push(Array.isArray(out) ? out : [out]);
      produced.set(p.layer.name, list);
    }
    const resolve = (refs: unknown, what: string) => {
      if (!Array.isArray(refs) || !refs.every(isTensorRef))
        throw new ValueError(`${where}: '${what}' must be an array of [layerName, callIndex, outputIndex] triples`);
      return refs.map((r) => {
        const t = lookup(r);
        if (!t) throw new ValueError(`${where}: ${what} refers to ${JSON.stringify(r)}, which no layer produces`);
        return t;
      });
    };
    const inputs = resolve(config.inputLayers, 'inputLayers');
    const outputs = resolve(config.outputLayers, 'outputLayers');
    const model = new Model({ name: config.name as string | undefined });
    model.initGraph(inputs, outputs, Boolean(config.inputsAsList), Boolean(config.outputsAsList));
    if (config.trainable === false) model.trainable = false;
    return model;
  }

  // ---- training (the one trainer in trainer.ts) ----

  /** The optimizer compile chose, or null before compile. */
  get optimizer(): Optimizer | null {
    return this.trainer?.optimizer ?? null;
  }

  /** Where the last fit stopped (epoch, batch, random state): saved by checkpoints to resume exactly. */
  get trainingPosition(): TrainingPosition | null {
    return this.trainer?.position ?? null;
  }

  /** Whether compile() has been called. */
  get isCompiled(): boolean {
    return this.trainer !== null;
  }

  /**
   * Chooses the optimizer, loss(es) and metrics for fit and evaluate (Keras's compile). Names
   * take Keras's defaults: `optimizer: 'rmsprop'`, `loss: 'sparseCategoricalCrossentropy'`,
   * `metrics: ['accuracy']`. Compiling again replaces the optimizer and its state.
   * @throws ValueError for an unknown optimizer, loss or metric name, or losses and metrics that
   * do not match the outputs.
   * @example
   * ```ts
   * const model = st.sequential({ layers: [st.layers.dense({ units: 10, inputShape: [784] })] });
   * model.compile({
   *   optimizer: st.optimizers.adam({ learningRate: 1e-3 }),
   *   loss: (t, p) => st.losses.sparseCategoricalCrossentropy(t, p, { fromLogits: true }),
   *   metrics: ['accuracy'],
   * });
   * ```
   */
  compile(args: CompileArgs): void {
    this.trainer = new Trainer(this, args);
  }

  /** The compile arguments in serializable form (stored in model.json), or null before compile. */
  getCompileConfig(): Record<string, unknown> | null {
    return this.trainer?.getConfig() ?? null;
  }

  private compiled(op: string): Trainer {
    if (!this.trainer) throw new ValueError(`${this.name}.${op}: the model must be compiled first: model.compile({optimizer, loss, metrics})`);
    return this.trainer;
  }

  /**
   * Trains on arrays (`fit(x, y, options)`) or on a Dataset of `{xs, ys}` batches (`fit(dataset,
   * options)`), as Keras's fit: `epochs` (1) passes over the data in batches of `batchSize` (32),
   * shuffled each epoch, with validation, callbacks and a progress display (`verbose`). Resolves
   * to the History of per-epoch logs.
   * @throws ValueError before compile, for mismatched sample counts, bad options, or (by default)
   * a loss that becomes NaN or infinite.
   * @example
   * ```ts
   * const model = st.sequential({ layers: [st.layers.dense({ units: 1, inputShape: [1] })] });
   * model.compile({ optimizer: st.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
   * const x = st.tensor([[0], [1], [2], [3]]), y = st.tensor([[1], [3], [5], [7]]);
   * const history = await model.fit(x, y, { epochs: 50, verbose: 0 });
   * console.log(history.history.loss.at(-1));
   * ```
   */
  fit(x: XInput, y: YInput, args?: FitArgs): Promise<History>;
  fit(dataset: Dataset<unknown>, args?: FitArgs): Promise<History>;
  fit(x: XInput | Dataset<unknown>, yOrArgs?: YInput | FitArgs, args: FitArgs = {}): Promise<History> {
    if (isDataset(x)) return this.compiled('fit').fit(x, undefined, (yOrArgs ?? {}) as FitArgs);
    return this.compiled('fit').fit(x, yOrArgs as YInput, args);
  }

  /** tfjs's name for fit on a Dataset. */
  fitDataset(dataset: Dataset<unknown>, args: FitArgs = {}): Promise<History> {
    return this.fit(dataset, args);
  }

  /**
   * Loss and metrics in inference mode, on arrays or on a Dataset of batches (Keras's evaluate):
   * resolves to `{loss, ...metrics}` averaged over the samples.
   * @throws ValueError before compile or for mismatched inputs.
   */
  evaluate(x: XInput, y: YInput, args?: EvaluateArgs): Promise<Logs>;
  evaluate(dataset: Dataset<unknown>, args?: EvaluateArgs): Promise<Logs>;
  evaluate(x: XInput | Dataset<unknown>, yOrArgs?: YInput | EvaluateArgs, args: EvaluateArgs = {}): Promise<Logs> {
    if (isDataset(x)) return this.compiled('evaluate').evaluate(x, undefined, (yOrArgs ?? {}) as EvaluateArgs);
    return this.compiled('evaluate').evaluate(x, yOrArgs as YInput, args);
  }

  /** tfjs's name for evaluate on a Dataset. */
  evaluateDataset(dataset: Dataset<unknown>, args: EvaluateArgs = {}): Promise<Logs> {
    return this.evaluate(dataset, args);
  }

  /**
   * Outputs for x, computed in batches (`batchSize`, 32) in inference mode (no compile needed); one
   * tensor, or a list for a model with several outputs.
   * @throws ShapeError for inputs of another shape than the model was built for.
   */
  predict(x: XInput, args: PredictArgs = {}): Tensor | Tensor[] {
    return Trainer.predict(this, x, args);
  }

  /** The outputs for one batch in inference mode (predict without batching). */
  predictOnBatch(x: XInput): Tensor | Tensor[] {
    return Trainer.predict(this, x, { batchSize: Number.MAX_SAFE_INTEGER });
  }

  /** One optimizer step on one batch; returns the loss and metrics of that batch. */
  trainOnBatch(x: XInput, y: YInput, args: TrainOnBatchArgs = {}): Promise<Logs> {
    return this.compiled('trainOnBatch').trainOnBatch(x, y, args);
  }

  /** Loss and metrics of one batch in inference mode; `sampleWeight` weights them as in evaluate. */
  testOnBatch(x: XInput, y: YInput, args: TestOnBatchArgs = {}): Promise<Logs> {
    return this.compiled('testOnBatch').testOnBatch(x, y, args);
  }

  /** Keras's table of layers, output shapes and parameter counts; printed unless printFn is given, and returned. */
  summary(options: SummaryOptions = {}): string {
    return summary(this, options);
  }

  /**
   * Saves the model: model.json, the weights and (when compiled) the optimizer state. In Node,
   * `location` is a folder, written as one atomic step (Note [Atomic model saves]): a save that
   * fails or is killed leaves the previous model whole. In a page, 'indexeddb://name' stores it
   * in the browser and 'downloads://name' downloads the files. `st.loadModel(location)` reads it
   * back, on either platform. Weights are safetensors files, so other tools can read them.
   * @example
   * ```ts
   * const model = st.sequential({ layers: [st.layers.dense({ units: 2, inputShape: [3] })] });
   * model.setUserDefinedMetadata({ trainedOn: 'example' });
   * await model.save('runs/example');
   * const again = await st.loadModel('runs/example');
   * console.log(again.getUserDefinedMetadata()); // { trainedOn: 'example' }
   * ```
   */
  save(location: string | ModelStore, options: SaveOptions = {}): Promise<void> {
    return saveModel(this, location, options);
  }

  /**
   * Attaches JSON data to the model, saved in model.json with it and restored by loadModel (tfjs's
   * name). A plain object of JSON values; `undefined` removes it. Saved atomically with the weights,
   * so it can describe them (the command line keeps its resume point here).
   */
  setUserDefinedMetadata(metadata: Record<string, unknown> | undefined): void {
    if (metadata !== undefined) {
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
        throw new ValueError(
          `${this.name}.setUserDefinedMetadata: expected a plain object or undefined; received ${Array.isArray(metadata) ? 'an array' : String(metadata)}`,
        );
      }
      let json: string;
      try {
        json = JSON.stringify(metadata);
      } catch (e) {
        throw new ValueError(`${this.name}.setUserDefinedMetadata: the object cannot be written as JSON (${(e as Error).message})`);
      }
      metadata = JSON.parse(json) as Record<string, unknown>; // a copy: later changes to the caller's object are not saved
    }
    this.userDefinedMetadata = metadata;
  }

  /** The metadata set with setUserDefinedMetadata or loaded with the model (a copy), or undefined. */
  getUserDefinedMetadata(): Record<string, unknown> | undefined {
    return this.userDefinedMetadata === undefined ? undefined : structuredClone(this.userDefinedMetadata);
  }
}

function isTensorRef(r: unknown): r is TensorRef {
  return Array.isArray(r) && r.length === 3 && typeof r[0] === 'string' && Number.isInteger(r[1]) && r[1] >= 0 && Number.isInteger(r[2]) && r[2] >= 0;
}

function toList(x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor[] {
  return Array.isArray(x) ? x : [x];
}

registerLayer('Functional', (c) => Model.fromConfig(c));
registerLayer('Model', (c) => Model.fromConfig(c));
