import { ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { add, div, mul } from '../../ops/elementwise.js';
import { concat, gather, reshape } from '../../ops/shape-ops.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, isShapeList, singleShape, type CallOptions, type LayerArgs, type LayerWeight } from '../layer.js';
import { deserializeLayer, registerLayer, serializeLayer, type SerializedLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { SequenceLayer } from './rnn-base.js';

/**
 * A layer given as an instance or in its serialized {className, config} form (as in a saved config).
 * @inline
 */
type LayerSpec = Layer | SerializedLayer;

function layerFrom(owner: string, what: string, spec: LayerSpec): Layer {
  if (spec instanceof Layer) return spec;
  if (typeof spec === 'object' && spec !== null) return deserializeLayer(spec, `${owner} ${what}`);
  throw new ValueError(`${owner}: ${what} must be a layer; received ${fmtValue(spec)}`);
}

/** A fresh copy of a layer from its config, with changes (Keras rebuilds wrapped layers this way). */
function cloneLayer(layer: Layer, changes: Record<string, unknown>): Layer {
  const { className, config } = serializeLayer(layer);
  return deserializeLayer({ className, config: { ...config, ...changes } });
}

/** Wrappers own their inner layers' weights and forward freezing to them. */
abstract class Wrapper extends Layer {
  protected abstract inner(): Layer[];
  override get weights(): LayerWeight[] {
    return this.inner().flatMap((l) => l.weights);
  }
  override get trainable(): boolean {
    return super.trainable;
  }
  override set trainable(value: boolean) {
    super.trainable = value;
    // Also reached from the Layer constructor's defaults, before the inner layers exist.
    for (const l of this.inner().filter(Boolean)) l.trainable = value;
  }
}

/**
 * How Bidirectional combines its two outputs: joined on the last axis, added, multiplied or
 * averaged.
 */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';
const MERGE_MODES = ['concat', 'sum', 'mul', 'ave'] as const;

/** Options of `st.layers.bidirectional`. */
export interface BidirectionalArgs extends LayerArgs {
  /** The recurrent layer to run forwards; a copy with goBackwards flipped runs backwards. */
  layer: LayerSpec;
  /**
   * How the two outputs combine; null returns both, [forward, backward].
   * Default 'concat'.
   */
  mergeMode?: MergeMode | null;
  /** The backward layer, when it should differ from a flipped copy of `layer`. */
  backwardLayer?: LayerSpec | null;
}

/**
 * Runs a recurrent layer over the sequence in both directions and merges the outputs (Keras's
 * Bidirectional). Weights: the forward layer's, then the backward layer's. With returnSequences
 * the backward output is flipped back to input order before merging; with returnState the
 * output is followed by the forward states, then the backward states.
 */
export class Bidirectional extends Wrapper {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Bidirectional';
  override supportsMasking = true;
  /** The layer run forwards. */
  readonly forwardLayer: SequenceLayer;
  /** The layer run backwards (a flipped copy of the forward layer unless given). */
  readonly backwardLayer: SequenceLayer;
  /** How the outputs combine; null returns both. */
  readonly mergeMode: MergeMode | null;

  constructor(args: BidirectionalArgs) {
    super(args as BidirectionalArgs & Record<string, unknown>, ['layer', 'mergeMode', 'backwardLayer']);
    const merge = args.mergeMode === undefined ? 'concat' : args.mergeMode;
    this.mergeMode = merge === null ? null : checkOneOf(this.name, 'mergeMode', merge, MERGE_MODES);
    if (args.layer === undefined) throw new ValueError(`${this.name}: the layer option is required, e.g. {layer: st.layers.lstm({units: 8})}`);
    const layer = this.recurrent('layer', layerFrom(this.name, 'layer', args.layer));
    const strip = (prefix: string) => (layer.name.startsWith(prefix) ? layer.name.slice(prefix.length) : layer.name);
    // As Keras: both directions are rebuilt from the config, so the given layer keeps no state,
    // and a masked step outputs zeros when sequences are returned (the flipped outputs line up).
    const zero = { zeroOutputForMask: layer.returnSequences };
    this.forwardLayer = this.recurrent('layer', cloneLayer(layer, { name: `forward_${strip('forward_')}`, ...zero }));
    this.backwardLayer = args.backwardLayer
      ? this.recurrent('backwardLayer', layerFrom(this.name, 'backwardLayer', args.backwardLayer))
      : this.recurrent('layer', cloneLayer(layer, { name: `backward_${strip('backward_')}`, goBackwards: !layer.goBackwards, ...zero }));
    this.backwardLayer.zeroOutputForMask = this.backwardLayer.returnSequences;
    const f = this.forwardLayer,
      b = this.backwardLayer;
    if (f.goBackwards === b.goBackwards)
      throw new ValueError(`${this.name}: the forward and backward layers must differ in goBackwards; both have ${f.goBackwards}`);
    for (const key of ['stateful', 'returnSequences', 'returnState'] as const) {
      if (f[key] !== b[key])
        throw new ValueError(`${this.name}: the forward and backward layers must agree on ${key}; received ${f[key]} and ${b[key]}`);
    }
    if (args.trainable === false) this.trainable = false;
  }

  private recurrent(what: string, l: Layer): SequenceLayer {
    if (!(l instanceof SequenceLayer))
      throw new ValueError(`${this.name}: ${what} must be a recurrent layer (simpleRNN, lstm, gru, rnn, convLstm2d, ...); received ${l.className}`);
    return l;
  }

  protected inner(): Layer[] {
    return [this.forwardLayer, this.backwardLayer];
  }

  /** The wrapped layer's returnSequences. */
  get returnSequences(): boolean {
    return this.forwardLayer.returnSequences;
  }
  /** The wrapped layer's returnState. */
  get returnState(): boolean {
    return this.forwardLayer.returnState;
  }
  /** The wrapped layer's stateful. */
  get stateful(): boolean {
    return this.forwardLayer.stateful;
  }

  override build(inputShape: Shape | Shape[]): void {
    this.forwardLayer.ensureBuilt(inputShape);
    this.backwardLayer.ensureBuilt(inputShape);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor | Tensor[] {
    const x = inputs as Tensor;
    const { initialState, ...rest } = options;
    let forwardState: unknown, backwardState: unknown;
    if (initialState !== undefined && initialState !== null) {
      const list = Array.isArray(initialState) ? initialState : [initialState];
      if (list.length % 2 !== 0)
        throw new ValueError(`${this.name}: initialState needs the forward states then the backward states (an even count); received ${list.length}`);
      forwardState = list.slice(0, list.length / 2);
      backwardState = list.slice(list.length / 2);
    }
    const run = (l: SequenceLayer, state: unknown) => {
      const y = l.apply(x, { ...rest, ...(state ? { initialState: state } : {}) }) as Tensor | Tensor[];
      return Array.isArray(y) ? y : [y];
    };
    const [y, ...forwardStates] = run(this.forwardLayer, forwardState);
    let [yRev, ...backwardStates] = run(this.backwardLayer, backwardState);
    if (this.returnSequences) {
      const steps = yRev.shape[1];
      yRev = gather(
        yRev,
        tensor(
          Array.from({ length: steps }, (_, i) => steps - 1 - i),
          [steps],
          'int32',
        ),
        1,
      );
    }
    const merged = this.merge(y, yRev);
    const outputs = Array.isArray(merged) ? merged : [merged];
    return this.returnState || this.mergeMode === null ? [...outputs, ...forwardStates, ...backwardStates] : merged;
  }

  private merge(y: Tensor, yRev: Tensor): Tensor | Tensor[] {
    switch (this.mergeMode) {
      case 'concat':
        return concat([y, yRev], -1);
      case 'sum':
        return add(y, yRev);
      case 'mul':
        return mul(y, yRev);
      case 'ave':
        return div(add(y, yRev), 2);
      default:
        return [y, yRev];
    }
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const inner = this.forwardLayer.computeOutputShape(inputShape);
    const [out, ...states] = isShapeList(inner) && this.returnState ? inner : [inner as Shape];
    const merged: Shape[] =
      this.mergeMode === 'concat' ? [[...out.slice(0, -1), out[out.length - 1]! * 2]] : this.mergeMode === null ? [out, out] : [out];
    const all = [...merged, ...states, ...states];
    return all.length === 1 ? all[0] : all;
  }

  override computeMask(_inputs: Tensor | Tensor[], mask: Tensor | (Tensor | null)[] | null): Tensor | (Tensor | null)[] | null {
    const m = (Array.isArray(mask) ? mask[0] : mask) ?? null;
    const out = this.returnSequences ? m : null;
    const outputs = this.mergeMode === null ? [out, out] : [out];
    const states = this.returnState ? new Array<null>(this.forwardLayer.stateCount + this.backwardLayer.stateCount).fill(null) : [];
    const all = [...outputs, ...states];
    return all.length === 1 ? all[0] : all;
  }

  /**
   * Resets both directions' states (stateful layers only).
   * @throws ValueError when the layers are not stateful.
   */
  resetStates(): void {
    this.forwardLayer.resetStates();
    this.backwardLayer.resetStates();
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      mergeMode: this.mergeMode,
      layer: serializeLayer(this.forwardLayer),
      backwardLayer: serializeLayer(this.backwardLayer),
    };
  }
}

/** Options of `st.layers.timeDistributed`. */
export interface TimeDistributedArgs extends LayerArgs {
  /** The layer applied to every time step (to [N·T, ...] at once). */
  layer: LayerSpec;
}

/** Applies a layer to each time step of [N, T, ...]: the steps are folded into the batch. */
export class TimeDistributed extends Wrapper {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'TimeDistributed';
  override supportsMasking = true;
  /** The layer applied to every time step. */
  readonly layer: Layer;

  constructor(args: TimeDistributedArgs) {
    super(args as TimeDistributedArgs & Record<string, unknown>, ['layer']);
    if (args.layer === undefined) throw new ValueError(`${this.name}: the layer option is required, e.g. {layer: st.layers.dense({units: 8})}`);
    this.layer = layerFrom(this.name, 'layer', args.layer);
    if (args.trainable === false) this.trainable = false;
  }

  protected inner(): Layer[] {
    return [this.layer];
  }

  private stepShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(this.name, inputShape);
    if (s.length < 3)
      throw new ShapeError(`${this.name}: expected input of rank 3 or more [batch, timesteps, ...]; received shape ${formatShape(s)}`);
    return [s[0] === null || s[1] === null ? null : s[0] * s[1], ...s.slice(2)];
  }

  override build(inputShape: Shape | Shape[]): void {
    this.layer.ensureBuilt([null, ...this.stepShape(inputShape).slice(1)]);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = inputs as Tensor;
    if (x.rank < 3)
      throw new ShapeError(`${this.name}: expected input of rank 3 or more [batch, timesteps, ...]; received shape ${fmtShape(x.shape)}`);
    const [n, t] = x.shape;
    const { mask: _mask, ...rest } = options;
    const y = this.layer.apply(reshape(x, [n * t, ...x.shape.slice(2)]), rest);
    if (Array.isArray(y)) throw new ValueError(`${this.name}: the wrapped layer must return one tensor`);
    return reshape(y, [n, t, ...y.shape.slice(1)]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = singleShape(this.name, inputShape);
    const out = this.layer.computeOutputShape(this.stepShape(s));
    if (isShapeList(out)) throw new ValueError(`${this.name}: the wrapped layer must return one tensor`);
    return [s[0], s[1], ...out.slice(1)];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: serializeLayer(this.layer) };
  }
}

registerLayer('Bidirectional', (c) => new Bidirectional(c as unknown as BidirectionalArgs));
registerLayer('TimeDistributed', (c) => new TimeDistributed(c as unknown as TimeDistributedArgs));
