import { ValueError } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { isGradEnabled } from '../tensor/tape.js';
import { nextTensorId, type Tensor } from '../tensor/tensor.js';
import { Layer, isShapeList, type CallOptions, type LayerOutput } from '../nn/layer.js';
import { applyConvPool, fusesWithPool } from '../nn/layers/conv-pool-pair.js';
import { InputLayer, input } from '../nn/layers/input.js';
import { deserializeLayer, registerLayer, serializeLayer, type SerializedLayer } from '../nn/registry.js';
import { SymbolicTensor, type Shape } from '../nn/symbolic.js';
import { Model } from './model.js';

/** Options of `st.sequential`. */
export interface SequentialArgs {
  /** The layers, applied in order; more can be added with `add()`. */
  layers?: Layer[];
  /** The model's name (default `sequential`, `sequential_1`, ...). */
  name?: string;
}

/**
 * A chain of single-input, single-output layers. When the input shape is known (an inputShape
 * option on the first layer, or an input added first) each add() connects the layer at once, so
 * shape errors surface there and summary() works before any data; otherwise the chain is
 * built on the first call, from the shape of the data.
 */
export class Sequential extends Model {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static override readonly className = 'Sequential';
  private chain: Layer[] = [];
  private inputTensor: SymbolicTensor | null = null;
  private outputTensor: SymbolicTensor | null = null;

  constructor(args: SequentialArgs = {}) {
    super({ name: args.name }, []);
    if (args.layers !== undefined && !Array.isArray(args.layers))
      throw new ValueError(`${this.name}: layers must be an array of layers; received ${typeof args.layers}`);
    this.built = false;
    for (const layer of args.layers ?? []) this.add(layer);
  }

  /** Appends a layer (or an st.layers.input() tensor as the first entry). */
  add(layer: Layer | SymbolicTensor): void {
    if (layer instanceof SymbolicTensor) {
      if (this.chain.length || this.inputTensor) throw new ValueError(`${this.name}.add: an input can only be added first`);
      if (!(layer.sourceLayer instanceof InputLayer))
        throw new ValueError(`${this.name}.add: only an st.layers.input() tensor can be added, not the output of '${layer.sourceLayer.name}'`);
      this.inputTensor = this.outputTensor = layer;
      return;
    }
    if (!(layer instanceof Layer)) throw new ValueError(`${this.name}.add: expected a layer; received ${String(layer)}`);
    if (layer instanceof InputLayer) {
      this.add(layer.output);
      return;
    }
    if (this.chain.some((l) => l.name === layer.name))
      throw new ValueError(`${this.name}.add: a layer named '${layer.name}' is already in the model; names must be unique`);
    if (!this.outputTensor && this.chain.length === 0 && layer.batchInputShape) {
      this.inputTensor = this.outputTensor = input({ batchShape: layer.batchInputShape, dtype: layer.dtype === 'float32' ? undefined : layer.dtype });
    }
    this.chain.push(layer);
    if (this.outputTensor) this.connect(layer);
  }

  /** Removes the last layer. */
  pop(): void {
    if (!this.chain.length) throw new ValueError(`${this.name}.pop: the model has no layers`);
    this.chain.pop();
    if (this.inputTensor) {
      this.outputTensor = this.inputTensor;
      // With no layers left the graph is the input alone (not the popped layer's stale output).
      if (!this.chain.length) this.initGraph([this.inputTensor], [this.inputTensor]);
      for (const l of this.chain) this.connect(l);
    }
  }

  private connect(layer: Layer): void {
    const out = layer.apply(this.outputTensor!);
    if (Array.isArray(out))
      throw new ValueError(`${this.name}: layer '${layer.name}' has several outputs; a Sequential model needs one output per layer (use st.model)`);
    this.outputTensor = out;
    this.initGraph([this.inputTensor!], [out]);
  }

  override get layers(): Layer[] {
    return [...this.chain];
  }

  override build(inputShape: Shape | Shape[]): void {
    if (isShapeList(inputShape)) throw new ValueError(`${this.name}: a Sequential model takes one input; received ${inputShape.length}`);
    if (!this.chain.length) throw new ValueError(`${this.name}: cannot build a model with no layers; add layers first`);
    if (this.inputTensor) return;
    this.inputTensor = this.outputTensor = input({ batchShape: [null, ...inputShape.slice(1)] });
    for (const l of this.chain) this.connect(l);
  }

  override ensureBuilt(inputShape: Shape | Shape[]): void {
    if (!this.built) this.build(inputShape);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], options: CallOptions): LayerOutput {
    if (Array.isArray(inputs)) {
      if (inputs.length !== 1) throw new ValueError(`${this.name}: a Sequential model takes one input; received ${inputs.length}`);
      inputs = inputs[0];
    }
    let x: Tensor = inputs;
    const chain = this.chain;
    // Note [Intermediates freed as the graph runs] (models/graph.ts): without a tape, a value made
    // here goes as soon as the next layer has read it.
    const firstNew = isGradEnabled() ? Number.POSITIVE_INFINITY : nextTensorId();
    for (let i = 0; i < chain.length; i++) {
      const before = x;
      // Note [Fused layer pairs]: nothing outside the model reads a layer's output here.
      if (i + 1 < chain.length && fusesWithPool(chain[i], chain[i + 1])) x = applyConvPool(chain[i], chain[++i], x);
      else x = chain[i].apply(x, options);
      if (before !== x && before.id >= firstNew) before.dispose();
    }
    return x;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    let s = inputShape;
    for (const layer of this.chain) s = layer.computeOutputShape(s);
    return s;
  }

  override getConfig(): Record<string, unknown> {
    const layers: SerializedLayer[] = this.chain.map(serializeLayer);
    if (this.inputTensor) layers.unshift(serializeLayer(this.inputTensor.sourceLayer));
    return { name: this.name, trainable: this.trainable, layers };
  }

  static override fromConfig(config: Record<string, unknown>): Sequential {
    const specs = config.layers;
    if (!Array.isArray(specs)) throw new ValueError(`Sequential config: 'layers' must be an array; received ${JSON.stringify(specs)?.slice(0, 100)}`);
    checkKeys('Sequential config', config, ['name', 'trainable', 'layers']);
    const model = new Sequential({ name: config.name as string | undefined });
    specs.forEach((spec: SerializedLayer, i) => model.add(deserializeLayer(spec, `Sequential layer ${i}`)));
    if (config.trainable === false) model.trainable = false;
    return model;
  }
}

registerLayer('Sequential', (c) => Sequential.fromConfig(c));
