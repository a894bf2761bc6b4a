// Keras's 1-D transposed, depthwise and separable convolutions over [batch, steps, channels].
// Each is its 2-D counterpart on a height-1 image: the input is viewed as [N, 1, T, C] and the
// kernel gains a leading 1, so the backends' 2-D kernels (conv2dBackpropInput, depthwiseConv2d,
// conv2d) do the work and give the gradients. Weights are in Keras's 1-D layout:
//   Conv1DTranspose  kernel [k, filters, in], bias [filters]
//   DepthwiseConv1D  kernel [k, in, depthMultiplier], bias [in · depthMultiplier]
//   SeparableConv1D  depthwise_kernel [k, in, dm], pointwise_kernel [1, in · dm, filters], bias [filters]
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { conv2d, conv2dBackpropInput } from '../../ops/conv.js';
import { depthwiseConv2d } from '../../ops/depthwise-conv.js';
import { add } from '../../ops/elementwise.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import type { InitializerIdentifier } from '../initializers.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Regularizer } from '../regularizers.js';
import { formatShape, type Shape } from '../symbolic.js';
import { convOutputSize } from './conv.js';
import { checkStridesWithDilation, floatingLike, requireRank, singleInt, type IntOne } from './conv-options.js';
import { convTransposeOutputSize } from './conv-transpose.js';
import { positiveInt, weightConfig, type KernelBiasArgs } from './dense.js';

const LAYOUT = '[batch, steps, channels]';

/** Options every 1-D variant has. */
interface Window1dArgs extends LayerArgs {
  /** The window's length. */
  kernelSize: IntOne;
  /** The step between windows. Default 1. */
  strides?: IntOne;
  /** 'valid' (default) or 'same'. */
  padding?: 'valid' | 'same';
  /** Spacing between the kernel's taps. Default 1; strides and dilation cannot both exceed 1. */
  dilationRate?: IntOne;
  /** Applied to the output. Default: none (linear). */
  activation?: ActivationIdentifier;
  /** Whether to add a bias. Default true. */
  useBias?: boolean;
  /** Only 'channelsLast' (NWC), Keras's default. */
  dataFormat?: 'channelsLast';
}

const WINDOW_KEYS = ['kernelSize', 'strides', 'padding', 'dilationRate', 'activation', 'useBias', 'dataFormat'];

/** The window, bias and activation the three layers share. */
abstract class Window1D extends Layer {
  /** The window's length. */
  readonly kernelSize: number;
  /** The step between windows. */
  readonly strides: number;
  /** 'valid' or 'same'. */
  readonly padding: 'valid' | 'same';
  /** The spacing between kernel taps. */
  readonly dilationRate: number;
  /** The activation applied to the output. */
  readonly activation: Activation;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  /** The bias; null until built or without one. */
  bias: Tensor | null = null;

  protected constructor(args: Window1dArgs, ownKeys: readonly string[]) {
    super(args as Window1dArgs & Record<string, unknown>, [...WINDOW_KEYS, ...ownKeys]);
    if (args.kernelSize === undefined) throw new ValueError(`${this.name}: kernelSize is required (a number or [k])`);
    this.kernelSize = singleInt(this.name, 'kernelSize', args.kernelSize, 1);
    this.strides = singleInt(this.name, 'strides', args.strides, 1);
    this.dilationRate = singleInt(this.name, 'dilationRate', args.dilationRate, 1);
    this.padding = checkOneOf(this.name, 'padding', args.padding ?? 'valid', ['valid', 'same'] as const);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
    checkStridesWithDilation(this.name, [this.strides], [this.dilationRate]);
    this.activation = getActivation(args.activation);
    this.useBias = args.useBias ?? true;
  }

  protected inChannels(inputShape: Shape | Shape[]): number {
    return knownDim(this.name, requireRank(this.name, singleShape(this.name, inputShape), 3, LAYOUT), 2, 'channel dimension (last axis)');
  }

  /** The 2-D options of the height-1 view. */
  protected options2d() {
    return { strides: [1, this.strides] as [number, number], padding: this.padding, dilation: [1, this.dilationRate] as [number, number] };
  }

  /** y [N, 1, T', C'] back to [N, T', C'] with the bias and activation. */
  protected finish(y: Tensor): Tensor {
    const out = reshape(y, [y.shape[0], y.shape[2], y.shape[3]]);
    return this.activation.apply(this.bias ? add(out, this.bias) : out);
  }

  /** The convolution's output length (forward layers), checked against a too large window. */
  protected forwardLength(shape: Shape): number | null {
    const n = convOutputSize(shape[1], this.kernelSize, this.strides, this.dilationRate, this.padding);
    if (n === 0)
      throw new ShapeError(
        `${this.name}: with 'valid' padding the input ${formatShape(shape)} is shorter than the kernel (${this.kernelSize}, dilation ${this.dilationRate})`,
      );
    return n;
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      kernelSize: [this.kernelSize],
      strides: [this.strides],
      padding: this.padding,
      dilationRate: [this.dilationRate],
      activation: weightConfig.activation(this.activation),
      useBias: this.useBias,
    };
  }
}

/** [N, T, C] as a height-1 image [N, 1, T, C]. */
const asImage = (x: Tensor) => reshape(x, [x.shape[0], 1, x.shape[1], x.shape[2]]);
/** A 1-D kernel [k, ...] with a leading height axis [1, k, ...]. */
const asKernel2d = (w: Tensor) => reshape(w, [1, ...w.shape]);

/** Options of `st.layers.conv1dTranspose`; the kernel and bias options are those of {@link DenseArgs}. */
export interface Conv1dTransposeArgs extends Window1dArgs, KernelBiasArgs {
  /** The number of output channels. */
  filters: number;
  /** Extra steps at the end of the output, less than the stride (Keras). */
  outputPadding?: IntOne | null;
}

/** The transposed 1-D convolution (Keras's Conv1DTranspose), kernel [k, filters, in]. */
export class Conv1DTranspose extends Window1D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Conv1DTranspose';
  /** The number of output channels. */
  readonly filters: number;
  /** Extra output steps, or null. */
  readonly outputPadding: number | null;
  private readonly args: Conv1dTransposeArgs;
  /** The kernel [k, filters, in]; null until built. */
  kernel: Tensor | null = null;

  constructor(args: Conv1dTransposeArgs) {
    super(args, ['filters', 'outputPadding', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer']);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    const op = args.outputPadding;
    const p = op === undefined || op === null ? null : Array.isArray(op) && op.length === 1 ? op[0] : op;
    if (p !== null && (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= this.strides)) {
      throw new ValueError(
        `${this.name}: outputPadding must be a non-negative integer smaller than strides (${this.strides}); received ${fmtValue(op)}`,
      );
    }
    this.outputPadding = p as number | null;
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const c = this.inChannels(inputShape);
    this.kernel = this.addWeight('kernel', [this.kernelSize, this.filters, c], {
      initializer: this.args.kernelInitializer ?? 'glorotUniform',
      regularizer: this.args.kernelRegularizer,
    });
    if (this.useBias)
      this.bias = this.addWeight('bias', [this.filters], {
        initializer: this.args.biasInitializer ?? 'zeros',
        regularizer: this.args.biasRegularizer,
      });
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.kernel!.dtype);
    const [n, length] = this.computeOutputShape(x.shape) as number[];
    return this.finish(conv2dBackpropInput(asImage(x), asKernel2d(this.kernel!), [n, 1, length, this.filters], this.options2d()));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), 3, LAYOUT);
    const [k, s, d] = [this.kernelSize, this.strides, this.dilationRate];
    const size = convTransposeOutputSize(shape[1], k, s, d, this.padding, this.outputPadding);
    if (shape[1] !== null && (size! < 1 || convOutputSize(size!, k, s, d, this.padding) !== shape[1])) {
      throw new ShapeError(
        `${this.name}: outputPadding ${this.outputPadding} gives ${size} steps, which a stride-${s} '${this.padding}' convolution does not map back to ${shape[1]}`,
      );
    }
    return [shape[0], size, this.filters];
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      outputPadding: this.outputPadding === null ? null : [this.outputPadding],
      ...weightConfig.kernelAndBias(this.args),
    };
  }
}

/** Options of `st.layers.depthwiseConv1d`. */
export interface DepthwiseConv1dArgs extends Window1dArgs {
  /** Filters per input channel. Default 1. */
  depthMultiplier?: number;
  /** How the depthwise kernel starts. Default 'glorotUniform'. */
  depthwiseInitializer?: InitializerIdentifier;
  /** How the bias starts. Default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  /** A penalty on the depthwise kernel. */
  depthwiseRegularizer?: Regularizer | string | null;
  /** A penalty on the bias. */
  biasRegularizer?: Regularizer | string | null;
}

const DEPTHWISE_KEYS = ['depthMultiplier', 'depthwiseInitializer', 'biasInitializer', 'depthwiseRegularizer', 'biasRegularizer'];

/** The depthwise stage of DepthwiseConv1D and SeparableConv1D. */
abstract class Depthwise1D extends Window1D {
  /** Filters per input channel. */
  readonly depthMultiplier: number;
  protected readonly depthwiseArgs: DepthwiseConv1dArgs;

  protected constructor(args: DepthwiseConv1dArgs, ownKeys: readonly string[]) {
    super(args, [...DEPTHWISE_KEYS, ...ownKeys]);
    this.depthMultiplier = positiveInt(this.name, 'depthMultiplier', args.depthMultiplier ?? 1);
    this.depthwiseArgs = args;
  }

  protected addDepthwiseKernel(name: string, inChannels: number): Tensor {
    return this.addWeight(name, [this.kernelSize, inChannels, this.depthMultiplier], {
      initializer: this.depthwiseArgs.depthwiseInitializer ?? 'glorotUniform',
      regularizer: this.depthwiseArgs.depthwiseRegularizer,
    });
  }

  protected addBias(size: number): Tensor {
    const a = this.depthwiseArgs;
    return this.addWeight('bias', [size], { initializer: a.biasInitializer ?? 'zeros', regularizer: a.biasRegularizer });
  }

  /** The depthwise convolution as [N, 1, T', C·dm]. */
  protected depthwise(x: Tensor, kernel: Tensor): Tensor {
    return depthwiseConv2d(asImage(floatingLike(x, kernel.dtype)), asKernel2d(kernel), this.options2d());
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    const a = this.depthwiseArgs;
    return {
      ...super.getConfig(),
      depthMultiplier: this.depthMultiplier,
      depthwiseInitializer: weightConfig.initializer(a.depthwiseInitializer ?? 'glorotUniform'),
      biasInitializer: weightConfig.initializer(a.biasInitializer ?? 'zeros'),
      depthwiseRegularizer: weightConfig.regularizer(a.depthwiseRegularizer),
      biasRegularizer: weightConfig.regularizer(a.biasRegularizer),
    };
  }
}

/** Depthwise 1-D convolution (Keras's DepthwiseConv1D): output channel c·dm + m. */
export class DepthwiseConv1D extends Depthwise1D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'DepthwiseConv1D';
  /** The kernel [k, in, depthMultiplier]; null until built. */
  kernel: Tensor | null = null;

  constructor(args: DepthwiseConv1dArgs) {
    super(args, []);
  }
  override build(inputShape: Shape | Shape[]): void {
    const c = this.inChannels(inputShape);
    this.kernel = this.addDepthwiseKernel('kernel', c);
    if (this.useBias) this.bias = this.addBias(c * this.depthMultiplier);
  }
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return this.finish(this.depthwise(inputs as Tensor, this.kernel!));
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), 3, LAYOUT);
    return [shape[0], this.forwardLength(shape), shape[2] === null ? null : shape[2] * this.depthMultiplier];
  }
}

/** Options of `st.layers.separableConv1d`. */
export interface SeparableConv1dArgs extends DepthwiseConv1dArgs {
  /** The number of output channels of the pointwise stage. */
  filters: number;
  /** How the pointwise kernel starts. Default 'glorotUniform'. */
  pointwiseInitializer?: InitializerIdentifier;
  /** A penalty on the pointwise kernel. */
  pointwiseRegularizer?: Regularizer | string | null;
}

/** A depthwise 1-D convolution then a pointwise one to `filters` channels (Keras's SeparableConv1D). */
export class SeparableConv1D extends Depthwise1D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'SeparableConv1D';
  /** The number of output channels. */
  readonly filters: number;
  private readonly args: SeparableConv1dArgs;
  /** The depthwise kernel [k, in, dm]; null until built. */
  depthwiseKernel: Tensor | null = null;
  /** The pointwise kernel [1, in · dm, filters]; null until built. */
  pointwiseKernel: Tensor | null = null;

  constructor(args: SeparableConv1dArgs) {
    super(args, ['filters', 'pointwiseInitializer', 'pointwiseRegularizer']);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    this.args = args;
  }
  override build(inputShape: Shape | Shape[]): void {
    const c = this.inChannels(inputShape);
    this.depthwiseKernel = this.addDepthwiseKernel('depthwise_kernel', c);
    this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, c * this.depthMultiplier, this.filters], {
      initializer: this.args.pointwiseInitializer ?? 'glorotUniform',
      regularizer: this.args.pointwiseRegularizer,
    });
    if (this.useBias) this.bias = this.addBias(this.filters);
  }
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const depth = this.depthwise(inputs as Tensor, this.depthwiseKernel!);
    return this.finish(conv2d(depth, asKernel2d(this.pointwiseKernel!)));
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), 3, LAYOUT);
    return [shape[0], this.forwardLength(shape), this.filters];
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      pointwiseInitializer: weightConfig.initializer(this.args.pointwiseInitializer ?? 'glorotUniform'),
      pointwiseRegularizer: weightConfig.regularizer(this.args.pointwiseRegularizer),
    };
  }
}

registerLayer('Conv1DTranspose', (c) => new Conv1DTranspose(c as unknown as Conv1dTransposeArgs));
registerLayer('DepthwiseConv1D', (c) => new DepthwiseConv1D(c as unknown as DepthwiseConv1dArgs));
registerLayer('SeparableConv1D', (c) => new SeparableConv1D(c as unknown as SeparableConv1dArgs));

/** The 1-D variants' factories, spread into `st.layers` (Keras's names in camelCase). */
export const conv1dVariantLayers = {
  /** A transposed 1-D convolution over [batch, steps, channels] (Keras's Conv1DTranspose), kernel [k, filters, in]. */
  conv1dTranspose: (args: Conv1dTransposeArgs) => new Conv1DTranspose(args),
  /** A depthwise 1-D convolution (Keras's DepthwiseConv1D): each input channel filtered on its own. */
  depthwiseConv1d: (args: DepthwiseConv1dArgs) => new DepthwiseConv1D(args),
  /** A depthwise 1-D convolution then a pointwise one to `filters` channels (Keras's SeparableConv1D). */
  separableConv1d: (args: SeparableConv1dArgs) => new SeparableConv1D(args),
};
