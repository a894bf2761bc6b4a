// Keras's recurrent cells as layers of their own (SimpleRNNCell, LSTMCell, GRUCell): one time
// step, run by the rnn layer (rnn.ts) or applied alone to [input, ...states]. Their weights have
// the layers' layout and names (kernel [in, g·units], recurrent_kernel [units, g·units], bias),
// and each step is the same function the built-in layers use (simpleRnnStep, lstmStep and
// gruStep in recurrent.ts), so rnn({cell: lstmCell(...)}) computes what lstm(...) does with the
// same weights; the layers keep their whole-sequence kernels, the cells step one op at a time.
import { ValueError, fmtValue } from '../../core/errors.js';
import { add, mul } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Activation, ActivationIdentifier } from '../activations.js';
import { getInitializer, type InitializerIdentifier } from '../initializers.js';
import { Layer, isShapeList, knownDim, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { positiveInt, weightConfig } from './dense.js';
import { dropoutMask, flag, rate, recurrentUnitConfig, type RecurrentUnitArgs, type StepFn } from './recurrent-base.js';
import { UnitForgetBias, activationOr, gruInputBias, gruStep, lstmStep, simpleRnnStep } from './recurrent.js';
import type { StepResult } from './rnn-base.js';

/**
 * What the rnn layer asks of a cell: a layer with a `stateSize` (one number per state, each state
 * [batch, size]; Keras's state_size) and a `call([input, ...states], {training})` that returns
 * `[output, ...newStates]` (tfjs's convention). Its `build` receives the step input's shape
 * [batch, features] and creates its weights; `outputSize` defaults to the first state's size.
 */
export interface RnnCellLike {
  /** The size of each state (a number for one state). */
  readonly stateSize: number | readonly number[];
  /** The size of the step's output; the first state's size when absent. */
  readonly outputSize?: number;
}

/** A cell: a Layer with Keras's cell members. */
export type RnnCell = Layer & RnnCellLike;

/**
 * The faster paths a built-in cell offers the rnn layer: dropout masks drawn once per sequence
 * (Keras's DropoutRNNCell), the input's projection for every step at once, and state shapes of
 * any rank (the convolutional LSTM cells). The rnn layer uses them for any cell that has
 * resetDropoutMasks, projectInputs and stepProjected.
 */
export interface SteppingCell {
  /** Forgets the dropout masks, so the next step draws new ones (once per sequence). */
  resetDropoutMasks(): void;
  /** The projected input of every step: x [T, N, ...features] → [T, N, ...]. */
  projectInputs(x: Tensor, training: boolean): Tensor;
  /** One step from a projected input. */
  stepProjected(xp: Tensor, states: Tensor[], training: boolean): StepResult;
  /** The states' shapes for a step input of this shape [batch, ...features]. */
  stateShapes?(stepShape: readonly number[]): number[][];
  /** The step output's shape and the states' shapes, symbolically. */
  stepShapes?(stepShape: Shape): {
    /** The shape of one step's output. */
    output: Shape;
    /** The shapes of the states, in the order the cell carries them. */
    states: Shape[];
  };
  /** The rank of a step's input with its batch axis (2 unless a convolutional cell). */
  readonly stepRank?: number;
}

/** Whether a cell has the built-in cells' faster paths. */
export function isSteppingCell(cell: Layer): cell is RnnCell & SteppingCell {
  const c = cell as Partial<SteppingCell>;
  return typeof c.projectInputs === 'function' && typeof c.stepProjected === 'function' && typeof c.resetDropoutMasks === 'function';
}

/** A cell's state sizes as a list, checked. */
export function stateSizes(owner: string, cell: Layer): number[] {
  const size = (cell as Partial<RnnCellLike>).stateSize;
  const list = typeof size === 'number' ? [size] : Array.isArray(size) ? [...size] : null;
  if (!list || list.length === 0 || list.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new ValueError(`${owner}: a cell needs stateSize, a positive integer or a list of them; ${cell.className} has ${fmtValue(size)}`);
  }
  return list;
}

/** One step of any cell: a built-in cell's own path, or the cell's call([x, ...states]). */
export function cellStep(cell: Layer, x: Tensor, states: Tensor[], training: boolean): StepResult {
  if (isSteppingCell(cell)) return cell.stepProjected(cell.projectInputs(x, training), states, training);
  const out = cell.call([x, ...states], { training });
  if (!Array.isArray(out) || out.length !== states.length + 1) {
    throw new ValueError(
      `${cell.name}: a cell's call([input, ...states]) must return [output, ...newStates] (${states.length + 1} tensors); received ${Array.isArray(out) ? `${out.length} tensors` : 'one tensor'}`,
    );
  }
  return { output: out[0], states: out.slice(1) };
}

/** Options shared by simpleRNNCell, lstmCell and gruCell (those of the layers without the sequence options). */
export interface RecurrentCellArgs extends LayerArgs, RecurrentUnitArgs {}

const CELL_KEYS = [
  'units',
  'useBias',
  'kernelInitializer',
  'recurrentInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'recurrentRegularizer',
  'biasRegularizer',
  'dropout',
  'recurrentDropout',
  'seed',
];

/** The fully connected cells: weights, dropout masks, projection and the step function. */
abstract class DenseRecurrentCell extends Layer implements SteppingCell {
  /** The size of the output and of each state. */
  readonly units: number;
  /** Whether the gates have biases. */
  readonly useBias: boolean;
  /** The input dropout rate while training. */
  readonly dropout: number;
  /** The recurrent-state dropout rate while training. */
  readonly recurrentDropout: number;
  /** The dropout masks' seed, or null for the global stream. */
  readonly seed: number | null;
  /** The input kernel [in, gates · units]; null until built. */
  kernel: Tensor | null = null;
  /** The recurrent kernel [units, gates · units]; null until built. */
  recurrentKernel: Tensor | null = null;
  /** The bias; null until built or without one. */
  bias: Tensor | null = null;
  /** The size of each state (Keras's state_size). */
  abstract readonly stateSize: number | readonly number[];
  protected abstract readonly gates: number;
  protected readonly args: RecurrentCellArgs;
  private masks: { input?: Tensor; recurrent?: Tensor } = {};
  private sequences = 0;

  protected constructor(args: RecurrentCellArgs, ownKeys: readonly string[]) {
    super(args as RecurrentCellArgs & Record<string, unknown>, [...CELL_KEYS, ...ownKeys]);
    this.units = positiveInt(this.name, 'units', args.units);
    this.useBias = flag(this.name, 'useBias', args.useBias, true);
    this.dropout = rate(this.name, 'dropout', args.dropout);
    this.recurrentDropout = rate(this.name, 'recurrentDropout', args.recurrentDropout);
    if (args.seed !== undefined && args.seed !== null && !Number.isInteger(args.seed)) {
      throw new ValueError(`${this.name}: seed must be an integer or null; received ${fmtValue(args.seed)}`);
    }
    this.seed = args.seed ?? null;
    this.args = args;
  }

  /** The size of a step's output. */
  get outputSize(): number {
    return this.units;
  }

  /** The bias's shape and initializer. */
  protected abstract biasSpec(): { shape: number[]; initializer: InitializerIdentifier | ReturnType<typeof getInitializer> };
  /** The bias added to the projected input (null when there is none). */
  protected abstract inputBias(): Tensor | null;
  /** The step function on projected inputs. */
  protected abstract makeStep(): StepFn;

  /** Builds from the step input's shape [batch, features] (or the list [input, ...states]). */
  override build(inputShape: Shape | Shape[]): void {
    const shape = isShapeList(inputShape) ? inputShape[0] : inputShape;
    const inputDim = knownDim(this.name, shape, -1, 'feature dimension (last axis)');
    const width = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [inputDim, width], {
      initializer: this.args.kernelInitializer ?? 'glorotUniform',
      regularizer: this.args.kernelRegularizer,
    });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, width], {
      initializer: this.args.recurrentInitializer ?? 'orthogonal',
      regularizer: this.args.recurrentRegularizer,
    });
    if (this.useBias) {
      const { shape: biasShape, initializer } = this.biasSpec();
      this.bias = this.addWeight('bias', biasShape, { initializer, regularizer: this.args.biasRegularizer });
    }
  }

  /** Only the feature size is fixed by the weights (the cell sees a step alone or with its states). */
  protected override checkInput(shapes: Shape[]): void {
    const features = this.kernel?.shape[0];
    const f = shapes[0]?.[shapes[0].length - 1];
    if (features !== undefined && f !== null && f !== undefined && f !== features) {
      throw new ValueError(
        `${this.name} (${this.className}): was built for inputs with ${features} features; received shape ${formatShape(shapes[0])}`,
      );
    }
  }

  resetDropoutMasks(): void {
    this.masks = {};
    this.sequences++;
  }

  private seedFor(offset: number): number | undefined {
    return this.seed === null ? undefined : this.seed + 2 * this.sequences + offset;
  }

  projectInputs(x: Tensor, training: boolean): Tensor {
    let input = x;
    if (training && this.dropout > 0) {
      const [batch, features] = x.shape.slice(-2);
      this.masks.input ??= dropoutMask([batch, features], this.dropout, this.dtype, this.seedFor(0));
      input = mul(x, this.masks.input);
    }
    const rows = reshape(input, [-1, input.shape[input.rank - 1]]);
    let projected = matmul(rows, this.kernel!);
    const b = this.inputBias();
    if (b) projected = add(projected, b);
    return reshape(projected, [...x.shape.slice(0, -1), projected.shape[1]]);
  }

  stepProjected(xp: Tensor, states: Tensor[], training: boolean): StepResult {
    let h = states[0];
    if (training && this.recurrentDropout > 0) {
      this.masks.recurrent ??= dropoutMask(h.shape, this.recurrentDropout, this.dtype, this.seedFor(1));
      h = mul(h, this.masks.recurrent);
    }
    const next = this.makeStep()(xp, states, h);
    return { output: next[0], states: next };
  }

  /** One step on [input, ...states]: returns [output, ...new states] (dropout masks drawn anew). */
  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor[] {
    const [x, ...states] = Array.isArray(inputs) ? inputs : [inputs];
    const count = stateSizes(this.name, this).length;
    if (states.length !== count) {
      throw new ValueError(`${this.name}: a cell is applied to [input, ...states] with ${count} state(s); received ${states.length} state(s)`);
    }
    this.resetDropoutMasks();
    const { output, states: next } = this.stepProjected(this.projectInputs(x, options.training === true), states, options.training === true);
    return [output, ...next];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape[] {
    const shape = isShapeList(inputShape) ? inputShape[0] : inputShape;
    const one: Shape = [shape[0], this.units];
    return [one, ...stateSizes(this.name, this).map(() => one)];
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...recurrentUnitConfig(this, this.args) };
  }
}

/** Options of `st.layers.simpleRNNCell`. */
export interface SimpleRnnCellArgs extends RecurrentCellArgs {
  /** The activation of the state. Default 'tanh'; null means linear. */
  activation?: ActivationIdentifier;
}

/** Keras's SimpleRNNCell: h_t = activation(x_t W + h_{t-1} U + b); state [batch, units]. */
export class SimpleRNNCell extends DenseRecurrentCell {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'SimpleRNNCell';
  protected readonly gates = 1;
  /** One state, h. */
  readonly stateSize: number;
  /** The activation of the state. */
  readonly activation: Activation;

  constructor(args: SimpleRnnCellArgs) {
    super(args, ['activation']);
    this.stateSize = this.units;
    this.activation = activationOr(args.activation, 'tanh');
  }

  protected biasSpec() {
    return { shape: [this.units], initializer: this.args.biasInitializer ?? 'zeros' };
  }
  protected inputBias(): Tensor | null {
    return this.bias;
  }
  protected makeStep(): StepFn {
    return simpleRnnStep(this.recurrentKernel!, this.activation);
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: weightConfig.activation(this.activation) };
  }
}

/** Options of `st.layers.lstmCell`. */
export interface LstmCellArgs extends RecurrentCellArgs {
  /** The activation of the cell input and output. Default 'tanh'; null means linear. */
  activation?: ActivationIdentifier;
  /** The activation of the gates. Default 'sigmoid'. */
  recurrentActivation?: ActivationIdentifier;
  /** Start the forget gate's bias at 1, as Keras does by default. */
  unitForgetBias?: boolean;
}

/** Keras's LSTMCell (gates i, f, c, o): states [h, c], each [batch, units]. */
export class LSTMCell extends DenseRecurrentCell {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'LSTMCell';
  protected readonly gates = 4;
  /** Two states, h and c. */
  readonly stateSize: readonly [number, number];
  /** The activation of the cell input and output. */
  readonly activation: Activation;
  /** The activation of the gates. */
  readonly recurrentActivation: Activation;
  /** Whether the forget gate's bias starts at 1. */
  readonly unitForgetBias: boolean;

  constructor(args: LstmCellArgs) {
    super(args, ['activation', 'recurrentActivation', 'unitForgetBias']);
    this.stateSize = [this.units, this.units];
    this.activation = activationOr(args.activation, 'tanh');
    this.recurrentActivation = activationOr(args.recurrentActivation, 'sigmoid');
    this.unitForgetBias = flag(this.name, 'unitForgetBias', args.unitForgetBias, true);
  }

  protected biasSpec() {
    const base = getInitializer(this.args.biasInitializer ?? 'zeros');
    return { shape: [4 * this.units], initializer: this.unitForgetBias ? new UnitForgetBias(base, this.units) : base };
  }
  protected inputBias(): Tensor | null {
    return this.bias;
  }
  protected makeStep(): StepFn {
    return lstmStep(this.recurrentKernel!, this.units, this.activation, this.recurrentActivation);
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      activation: weightConfig.activation(this.activation),
      recurrentActivation: weightConfig.activation(this.recurrentActivation),
      unitForgetBias: this.unitForgetBias,
    };
  }
}

/** Options of `st.layers.gruCell`. */
export interface GruCellArgs extends RecurrentCellArgs {
  /** The activation of the candidate state. Default 'tanh'; null means linear. */
  activation?: ActivationIdentifier;
  /** The activation of the update and reset gates. Default 'sigmoid'. */
  recurrentActivation?: ActivationIdentifier;
  /** Apply the reset gate after the recurrent matmul (Keras 3's default; bias [2, 3·units]). */
  resetAfter?: boolean;
}

/** Keras's GRUCell (gates z, r, h; resetAfter by default): state h [batch, units]. */
export class GRUCell extends DenseRecurrentCell {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GRUCell';
  protected readonly gates = 3;
  /** One state, h. */
  readonly stateSize: number;
  /** The activation of the candidate state. */
  readonly activation: Activation;
  /** The activation of the update and reset gates. */
  readonly recurrentActivation: Activation;
  /** Whether the reset gate applies after the recurrent matmul (two bias rows). */
  readonly resetAfter: boolean;

  constructor(args: GruCellArgs) {
    super(args, ['activation', 'recurrentActivation', 'resetAfter']);
    this.stateSize = this.units;
    this.activation = activationOr(args.activation, 'tanh');
    this.recurrentActivation = activationOr(args.recurrentActivation, 'sigmoid');
    this.resetAfter = flag(this.name, 'resetAfter', args.resetAfter, true);
  }

  protected biasSpec() {
    return { shape: this.resetAfter ? [2, 3 * this.units] : [3 * this.units], initializer: this.args.biasInitializer ?? 'zeros' };
  }
  protected inputBias(): Tensor | null {
    return gruInputBias(this.bias, this.resetAfter);
  }
  protected makeStep(): StepFn {
    return gruStep(this.recurrentKernel!, this.bias, this.units, this.activation, this.recurrentActivation, this.resetAfter);
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      activation: weightConfig.activation(this.activation),
      recurrentActivation: weightConfig.activation(this.recurrentActivation),
      resetAfter: this.resetAfter,
    };
  }
}

registerLayer('SimpleRNNCell', (c) => new SimpleRNNCell(c as unknown as SimpleRnnCellArgs));
registerLayer('LSTMCell', (c) => new LSTMCell(c as unknown as LstmCellArgs));
registerLayer('GRUCell', (c) => new GRUCell(c as unknown as GruCellArgs));
