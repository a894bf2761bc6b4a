// Keras's convolutional LSTMs (ConvLSTM1D, ConvLSTM2D, ConvLSTM3D) and their cell: an LSTM
// whose input and recurrent transforms are convolutions, over sequences of images
// [batch, time, ...spatial, channels] (channels last). Keras 3's equations, gates i, f, c, o:
//   x_g = conv(x_t, W_g; strides, padding, dilation) + b_g,  h_g = conv(h_{t-1}, U_g; 'same', 1)
//   i, f, o = σ(x + h)  c_t = f c_{t-1} + i tanh(x_c + h_c)  h_t = o tanh(c_t)
// Weights: kernel [...k, in, 4·filters], recurrent_kernel [...k, filters, 4·filters], bias
// [4·filters] (forget slice at 1 with unitForgetBias). The layers are the rnn layer over the cell
// (the same loop, masks and states); the input convolution runs once for the whole sequence
// (st.fused.conv2d with its bias for 2-D), and the gates are the LSTM's pointwise cell over every
// pixel (one fused op with the default activations, Note [Fused recurrent cells]).
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { conv2d } from '../../ops/conv.js';
import { conv1d } from '../../ops/conv-extra.js';
import { conv3d } from '../../ops/conv3d.js';
import { add, mul } from '../../ops/elementwise.js';
import { fusedConv2d } from '../../ops/fused.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Activation, ActivationIdentifier } from '../activations.js';
import { getInitializer } from '../initializers.js';
import { Layer, isShapeList, knownDim, uniqueName, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { convOutputSize } from './conv.js';
import { checkStridesWithDilation } from './conv-options.js';
import { positiveInt, weightConfig } from './dense.js';
import { dropoutMask, flag, rate, type RecurrentWeightArgs } from './recurrent-base.js';
import { UnitForgetBias, activationOr, lstmGates } from './recurrent.js';
import type { SequenceArgs, StepResult } from './rnn-base.js';
import type { SteppingCell } from './rnn-cells.js';
import { RNN } from './rnn.js';

/**
 * 1, 2 or 3 spatial axes.
 * @inline
 */
type Rank = 1 | 2 | 3;
/**
 * One integer for every spatial axis, or one per axis.
 * @inline
 */
type Ints = number | readonly number[];

/** Options of the convolutional LSTM cells (convLstm2dCell) and of the layers' cells. */
export interface ConvLstmCellArgs extends LayerArgs, RecurrentWeightArgs {
  /** The number of output channels of the state (a positive integer). */
  filters: number;
  /** The window of the input and recurrent convolutions. */
  kernelSize: Ints;
  /** The input convolution's step. Default 1 (the recurrent one always steps by 1). */
  strides?: Ints;
  /** The input convolution's padding, 'valid' (default) or 'same' (the recurrent one is always 'same'). */
  padding?: 'valid' | 'same';
  /** Spacing between the input kernel's taps. Default 1. */
  dilationRate?: Ints;
  /** Only 'channelsLast', Keras's default. */
  dataFormat?: 'channelsLast';
  /** The activation of the cell input and output. Default 'tanh'. */
  activation?: ActivationIdentifier;
  /** The activation of the gates. Default 'sigmoid'. */
  recurrentActivation?: ActivationIdentifier;
  /** Start the forget gate's bias at 1, as Keras does by default. */
  unitForgetBias?: boolean;
}

const CELL_KEYS = [
  'filters',
  'kernelSize',
  'strides',
  'padding',
  'dilationRate',
  'dataFormat',
  'activation',
  'recurrentActivation',
  'useBias',
  'kernelInitializer',
  'recurrentInitializer',
  'biasInitializer',
  'unitForgetBias',
  'kernelRegularizer',
  'recurrentRegularizer',
  'biasRegularizer',
  'dropout',
  'recurrentDropout',
  'seed',
];

function ints(layer: string, name: string, v: Ints | undefined, rank: Rank, fallback: number): number[] {
  const list = v === undefined ? new Array<number>(rank).fill(fallback) : typeof v === 'number' ? new Array<number>(rank).fill(v) : [...v];
  if (list.length !== rank || list.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(`${layer}: ${name} must be a positive integer or ${rank} of them; received ${fmtValue(v)}`);
  }
  return list;
}

/** A convolution of rank 1, 2 or 3 (channels last), with the bias added (fused for rank 2). */
function convolve(x: Tensor, w: Tensor, bias: Tensor | null, strides: number[], padding: 'valid' | 'same', dilation: number[]): Tensor {
  const rank = w.rank - 2;
  if (rank === 2) {
    const options = { strides: strides as [number, number], padding, dilation: dilation as [number, number] };
    return bias ? fusedConv2d({ x, filter: w, bias, ...options }) : conv2d(x, w, options);
  }
  const y =
    rank === 1
      ? conv1d(x, w, { stride: strides[0], padding, dilation: dilation[0] })
      : conv3d(x, w, { strides: strides as [number, number, number], padding, dilation: dilation as [number, number, number] });
  return bias ? add(y, bias) : y;
}

/** The convolutional LSTM cell of rank 1, 2 or 3 (Keras's ConvLSTMCell); see the file's comment. */
export class ConvLSTMCell extends Layer implements SteppingCell {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className: string = 'ConvLSTMCell';
  /** The number of spatial axes. */
  readonly rank: Rank;
  /** The number of state channels. */
  readonly filters: number;
  /** The convolution window per spatial axis. */
  readonly kernelSize: number[];
  /** The input convolution's step per spatial axis. */
  readonly strides: number[];
  /** The input convolution's padding. */
  readonly padding: 'valid' | 'same';
  /** The input kernel's tap spacing per spatial axis. */
  readonly dilationRate: number[];
  /** The activation of the cell input and output. */
  readonly activation: Activation;
  /** The activation of the gates. */
  readonly recurrentActivation: Activation;
  /** Whether the gates have biases. */
  readonly useBias: boolean;
  /** Whether the forget gate's bias starts at 1. */
  readonly unitForgetBias: boolean;
  /** The input dropout rate while training. */
  readonly dropout: number;
  /** The recurrent dropout rate while training. */
  readonly recurrentDropout: number;
  /** The dropout masks' seed, or null. */
  readonly seed: number | null;
  /** Two states, h and c, each with `filters` channels. */
  readonly stateSize: readonly [number, number];
  /** The input kernel [...k, in, 4·filters]; null until built. */
  kernel: Tensor | null = null;
  /** The recurrent kernel [...k, filters, 4·filters]; null until built. */
  recurrentKernel: Tensor | null = null;
  /** The bias [4·filters]; null until built or without one. */
  bias: Tensor | null = null;
  private readonly args: ConvLstmCellArgs;
  private masks: { input?: Tensor; recurrent?: Tensor } = {};
  private sequences = 0;

  constructor(args: ConvLstmCellArgs & { rank?: Rank }, ownKeys: readonly string[] = ['rank']) {
    super(args as ConvLstmCellArgs & Record<string, unknown>, [...CELL_KEYS, ...ownKeys]);
    const rank = args.rank ?? 2;
    if (rank !== 1 && rank !== 2 && rank !== 3) throw new ValueError(`${this.name}: rank must be 1, 2 or 3; received ${fmtValue(rank)}`);
    this.rank = rank;
    this.filters = positiveInt(this.name, 'filters', args.filters);
    if (args.kernelSize === undefined) throw new ValueError(`${this.name}: kernelSize is required`);
    this.kernelSize = ints(this.name, 'kernelSize', args.kernelSize, this.rank, 1);
    this.strides = ints(this.name, 'strides', args.strides, this.rank, 1);
    this.dilationRate = ints(this.name, 'dilationRate', args.dilationRate, this.rank, 1);
    this.padding = checkOneOf(this.name, 'padding', args.padding ?? 'valid', ['valid', 'same'] as const);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
    checkStridesWithDilation(this.name, this.strides, this.dilationRate);
    this.activation = activationOr(args.activation, 'tanh');
    this.recurrentActivation = activationOr(args.recurrentActivation, 'sigmoid');
    this.useBias = flag(this.name, 'useBias', args.useBias, true);
    this.unitForgetBias = flag(this.name, 'unitForgetBias', args.unitForgetBias, true);
    this.dropout = rate(this.name, 'dropout', args.dropout);
    this.recurrentDropout = rate(this.name, 'recurrentDropout', args.recurrentDropout);
    if (args.seed !== undefined && args.seed !== null && !Number.isInteger(args.seed))
      throw new ValueError(`${this.name}: seed must be an integer or null; received ${fmtValue(args.seed)}`);
    this.seed = args.seed ?? null;
    this.stateSize = [this.filters, this.filters];
    this.args = args;
  }

  /** The rank of a step's input with its batch axis. */
  get stepRank(): number {
    return this.rank + 2;
  }

  private stepShape(inputShape: Shape | Shape[]): Shape {
    const shape = isShapeList(inputShape) ? inputShape[0] : inputShape;
    if (shape.length !== this.rank + 2) {
      throw new ValueError(
        `${this.name}: a step's input must have rank ${this.rank + 2} [batch, ...${this.rank} spatial, channels]; received ${formatShape(shape)}`,
      );
    }
    return shape;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = this.stepShape(inputShape);
    const inChannels = knownDim(this.name, shape, -1, 'channel dimension (last axis)');
    const width = 4 * this.filters;
    this.kernel = this.addWeight('kernel', [...this.kernelSize, inChannels, width], {
      initializer: this.args.kernelInitializer ?? 'glorotUniform',
      regularizer: this.args.kernelRegularizer,
    });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [...this.kernelSize, this.filters, width], {
      initializer: this.args.recurrentInitializer ?? 'orthogonal',
      regularizer: this.args.recurrentRegularizer,
    });
    if (this.useBias) {
      const base = getInitializer(this.args.biasInitializer ?? 'zeros');
      this.bias = this.addWeight('bias', [width], {
        initializer: this.unitForgetBias ? new UnitForgetBias(base, this.filters) : base,
        regularizer: this.args.biasRegularizer,
      });
    }
  }

  /** The input convolution's output size per spatial axis (null where unknown). */
  private outSpatial(shape: Shape): (number | null)[] {
    return this.kernelSize.map((k, i) => convOutputSize(shape[i + 1], k, this.strides[i], this.dilationRate[i], this.padding));
  }

  stateShapes(stepShape: readonly number[]): number[][] {
    const one = [stepShape[0], ...(this.outSpatial([...stepShape]) as number[]), this.filters];
    return [one, [...one]];
  }

  stepShapes(stepShape: Shape): {
    /** The shape of one step's output. */
    output: Shape;
    /** The shapes of the states, in the order the cell carries them. */
    states: Shape[];
  } {
    const one: Shape = [stepShape[0], ...this.outSpatial(this.stepShape(stepShape)), this.filters];
    return { output: one, states: [one, one] };
  }

  resetDropoutMasks(): void {
    this.masks = {};
    this.sequences++;
  }

  private seedFor(offset: number): number | undefined {
    return this.seed === null ? undefined : this.seed + 2 * this.sequences + offset;
  }

  /** The input convolution of every step at once: x [T, N, ...spatial, C] → [T, N, ...out, 4·filters]. */
  projectInputs(x: Tensor, training: boolean): Tensor {
    const steps = x.rank === this.rank + 3 ? x.shape[0] : 1;
    const stepShape = x.shape.slice(x.rank - this.rank - 2);
    let input = x;
    if (training && this.dropout > 0) {
      this.masks.input ??= dropoutMask(stepShape, this.dropout, this.dtype, this.seedFor(0));
      input = mul(x, this.masks.input);
    }
    const flat = reshape(input, [steps * stepShape[0], ...stepShape.slice(1)]);
    const y = convolve(flat, this.kernel!, this.bias, this.strides, this.padding, this.dilationRate);
    return reshape(y, [...x.shape.slice(0, x.rank - this.rank - 2), stepShape[0], ...y.shape.slice(1)]);
  }

  stepProjected(xp: Tensor, [h, c]: Tensor[], training: boolean): StepResult {
    let hIn = h;
    if (training && this.recurrentDropout > 0) {
      this.masks.recurrent ??= dropoutMask(h.shape, this.recurrentDropout, this.dtype, this.seedFor(1));
      hIn = mul(h, this.masks.recurrent);
    }
    const ones = new Array<number>(this.rank).fill(1);
    const z = add(xp, convolve(hIn, this.recurrentKernel!, null, ones, 'same', ones));
    // The LSTM's pointwise step over every pixel: rows of [pixels, 4·filters].
    const f = this.filters;
    const [hNext, cNext] = lstmGates(reshape(z, [-1, 4 * f]), reshape(c, [-1, f]), f, this.activation, this.recurrentActivation);
    return { output: reshape(hNext, h.shape), states: [reshape(hNext, h.shape), reshape(cNext, c.shape)] };
  }

  /** One step on [input, h, c]: returns [h, h, c]. */
  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== 3) throw new ValueError(`${this.name}: the cell is applied to [input, h, c]; received ${list.length} tensor(s)`);
    const training = options.training === true;
    this.resetDropoutMasks();
    const r = this.stepProjected(this.projectInputs(list[0], training), list.slice(1), training);
    return [r.output, ...r.states];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape[] {
    const { output, states } = this.stepShapes(this.stepShape(inputShape));
    return [output, ...states];
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...this.ownConfig() };
  }

  /** The cell's options (also the layers' own). */
  ownConfig(): Record<string, unknown> {
    return {
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      activation: weightConfig.activation(this.activation),
      recurrentActivation: weightConfig.activation(this.recurrentActivation),
      useBias: this.useBias,
      kernelInitializer: weightConfig.initializer(this.args.kernelInitializer ?? 'glorotUniform'),
      recurrentInitializer: weightConfig.initializer(this.args.recurrentInitializer ?? 'orthogonal'),
      biasInitializer: weightConfig.initializer(this.args.biasInitializer ?? 'zeros'),
      unitForgetBias: this.unitForgetBias,
      kernelRegularizer: weightConfig.regularizer(this.args.kernelRegularizer),
      recurrentRegularizer: weightConfig.regularizer(this.args.recurrentRegularizer),
      biasRegularizer: weightConfig.regularizer(this.args.biasRegularizer),
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      seed: this.seed,
    };
  }
}

/** tfjs's ConvLSTM2DCell: the rank-2 cell, under its own class name. */
export class ConvLSTM2DCell extends ConvLSTMCell {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static override readonly className: string = 'ConvLSTM2DCell';
  constructor(args: ConvLstmCellArgs) {
    if ('rank' in args) throw new ValueError(`ConvLSTM2DCell: unknown option 'rank' (the cell is 2-D)`);
    super({ ...args, name: args.name ?? uniqueName('ConvLstm2DCell'), rank: 2 });
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    const { rank: _rank, ...rest } = super.getConfig();
    return rest;
  }
}

/** Options of `st.layers.convLstm1d`, `convLstm2d` and `convLstm3d`: the cell's and the rnn layer's. */
export interface ConvLstmArgs extends ConvLstmCellArgs, SequenceArgs {}

/** The rnn layer over a ConvLSTMCell of one rank, configured flat as in Keras. */
abstract class ConvLSTM extends RNN {
  constructor(args: ConvLstmArgs, rank: Rank) {
    if ('cell' in args) throw new ValueError(`ConvLSTM${rank}D: makes its own cell; the option 'cell' is not accepted`);
    const cellArgs = Object.fromEntries(Object.entries(args).filter(([k]) => CELL_KEYS.includes(k))) as unknown as ConvLstmCellArgs;
    // Keras's name (conv_lstm2d): uniqueName would split the class name's 'M2D'. The cell is
    // named after the layer, so that saved weight names survive a reload.
    const name = args.name ?? uniqueName(`ConvLstm${rank}D`);
    const cell = new ConvLSTMCell({ ...cellArgs, rank, dtype: args.dtype, name: `${name}_cell` });
    const rest = Object.fromEntries(Object.entries(args).filter(([k]) => !CELL_KEYS.includes(k)));
    // Unknown option names are in `rest`, which the layer's key check refuses.
    super({ ...rest, name, cell } as never, CELL_KEYS);
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    const { cell: _cell, ...rest } = super.getConfig();
    return { ...rest, ...(this.cell as ConvLSTMCell).ownConfig() };
  }
}

/** Keras's ConvLSTM1D over [batch, time, steps, channels]. */
export class ConvLSTM1D extends ConvLSTM {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static override readonly className = 'ConvLSTM1D';
  constructor(args: ConvLstmArgs) {
    super(args, 1);
  }
}

/** Keras's ConvLSTM2D over [batch, time, height, width, channels]. */
export class ConvLSTM2D extends ConvLSTM {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static override readonly className = 'ConvLSTM2D';
  constructor(args: ConvLstmArgs) {
    super(args, 2);
  }
}

/** Keras's ConvLSTM3D over [batch, time, depth, height, width, channels]. */
export class ConvLSTM3D extends ConvLSTM {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static override readonly className = 'ConvLSTM3D';
  constructor(args: ConvLstmArgs) {
    super(args, 3);
  }
}

registerLayer('ConvLSTMCell', (c) => new ConvLSTMCell(c as unknown as ConvLstmCellArgs));
registerLayer('ConvLSTM2DCell', (c) => new ConvLSTM2DCell(c as unknown as ConvLstmCellArgs));
registerLayer('ConvLSTM1D', (c) => new ConvLSTM1D(c as unknown as ConvLstmArgs));
registerLayer('ConvLSTM2D', (c) => new ConvLSTM2D(c as unknown as ConvLstmArgs));
registerLayer('ConvLSTM3D', (c) => new ConvLSTM3D(c as unknown as ConvLstmArgs));

/** The convolutional LSTMs' factories, spread into `st.layers` (tfjs's and Keras's names). */
export const convLstmLayers = {
  /** A convolutional LSTM over [batch, time, steps, channels] (Keras's ConvLSTM1D). */
  convLstm1d: (args: ConvLstmArgs) => new ConvLSTM1D(args),
  /**
   * A convolutional LSTM over sequences of images [batch, time, height, width, channels]
   * (Keras's ConvLSTM2D, gates i, f, c, o): the input convolution runs once for the whole
   * sequence, the recurrent one ('same', stride 1) at every step.
   * @example
   * ```ts
   * const layer = st.layers.convLstm2d({ filters: 4, kernelSize: 3, padding: 'same', returnSequences: true });
   * console.log(layer.apply(st.randomNormal([2, 5, 8, 8, 1])).shape); // [2, 5, 8, 8, 4]
   * ```
   */
  convLstm2d: (args: ConvLstmArgs) => new ConvLSTM2D(args),
  /** A convolutional LSTM over [batch, time, depth, height, width, channels] (Keras's ConvLSTM3D). */
  convLstm3d: (args: ConvLstmArgs) => new ConvLSTM3D(args),
  /** One step of a ConvLSTM2D (tfjs's ConvLSTM2DCell), for st.layers.rnn or applied to [input, h, c]. */
  convLstm2dCell: (args: ConvLstmCellArgs) => new ConvLSTM2DCell(args),
};
