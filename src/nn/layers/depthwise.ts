import { conv2d } from '../../ops/conv.js';
import type { Padding } from '../../ops/conv-geometry.js';
import { add } from '../../ops/elementwise.js';
import { fusedConv2d, isConvActivation } from '../../ops/fused.js';
import { fusedDepthwiseConv2d } from '../../ops/fused-depthwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { depthwiseConv2d } from '../../ops/depthwise-conv.js';
import type { InitializerIdentifier } from '../initializers.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Regularizer } from '../regularizers.js';
import type { Shape } from '../symbolic.js';
import { convOutputSize, type IntPair } from './conv.js';
import { checkStridesWithDilation, floatingLike, requireRank, window2d, windowTooLarge } from './conv-options.js';
import { positiveInt, weightConfig } from './dense.js';

/** Options shared by depthwise and separable convolutions. */
export interface DepthwiseCommonArgs extends LayerArgs {
  /** The window's height and width. */
  kernelSize: IntPair;
  /** The step between windows. Default 1. */
  strides?: IntPair;
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
  /** Filters per input channel. Default 1. */
  depthMultiplier?: number;
  /** Spacing between the kernel's taps. Default 1. */
  dilationRate?: IntPair;
  /** Applied to the output. Default: none (linear). */
  activation?: ActivationIdentifier;
  /** Whether to add a bias. Default true. */
  useBias?: boolean;
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
  /** How the depthwise kernel starts. Default 'glorotUniform'. */
  depthwiseInitializer?: InitializerIdentifier;
  /** How the bias starts. Default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  /** A penalty on the depthwise kernel added to the loss. Default none. */
  depthwiseRegularizer?: Regularizer | string | null;
  /** A penalty on the bias added to the loss. Default none. */
  biasRegularizer?: Regularizer | string | null;
}

/** Options of `st.layers.depthwiseConv2d`. */
export type DepthwiseConv2dArgs = DepthwiseCommonArgs;

/** Options of `st.layers.separableConv2d`. */
export interface SeparableConv2dArgs extends DepthwiseCommonArgs {
  /** The number of output channels of the pointwise (1x1) stage. */
  filters: number;
  /** How the pointwise kernel starts. Default 'glorotUniform'. */
  pointwiseInitializer?: InitializerIdentifier;
  /** A penalty on the pointwise kernel added to the loss. Default none. */
  pointwiseRegularizer?: Regularizer | string | null;
}

const COMMON_KEYS = [
  'kernelSize',
  'strides',
  'padding',
  'depthMultiplier',
  'dilationRate',
  'activation',
  'useBias',
  'dataFormat',
  'depthwiseInitializer',
  'biasInitializer',
  'depthwiseRegularizer',
  'biasRegularizer',
];
const LAYOUT = '[batch, height, width, channels]';

/** The depthwise stage both layers share: options, the depthwise kernel, geometry and config. */
abstract class DepthwiseBase extends Layer {
  /** The window's [height, width]. */
  readonly kernelSize: [number, number];
  /** The step between windows. */
  readonly strides: [number, number];
  /** The spacing between kernel taps. */
  readonly dilationRate: [number, number];
  /** 'valid' or 'same'. */
  readonly padding: Padding;
  /** Filters per input channel. */
  readonly depthMultiplier: number;
  /** The activation applied to the output. */
  readonly activation: Activation;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  protected readonly commonArgs: DepthwiseCommonArgs;

  constructor(args: DepthwiseCommonArgs, extraKeys: readonly string[]) {
    super(args as DepthwiseCommonArgs & Record<string, unknown>, [...COMMON_KEYS, ...extraKeys]);
    ({ kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate, padding: this.padding } = window2d(this.name, args));
    checkStridesWithDilation(this.name, this.strides, this.dilationRate);
    this.depthMultiplier = positiveInt(this.name, 'depthMultiplier', args.depthMultiplier ?? 1);
    this.activation = getActivation(args.activation);
    this.useBias = args.useBias ?? true;
    this.commonArgs = args;
  }

  /** The number of input channels, checked; the subclass then creates its weights. */
  protected inChannels(inputShape: Shape | Shape[]): number {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), 4, LAYOUT);
    return knownDim(this.name, shape, 3, 'channel dimension (last axis)');
  }

  protected addDepthwiseKernel(name: string, inChannels: number): Tensor {
    return this.addWeight(name, [...this.kernelSize, inChannels, this.depthMultiplier], {
      initializer: this.commonArgs.depthwiseInitializer ?? 'glorotUniform',
      regularizer: this.commonArgs.depthwiseRegularizer,
    });
  }

  protected addBias(size: number): Tensor {
    return this.addWeight('bias', [size], { initializer: this.commonArgs.biasInitializer ?? 'zeros', regularizer: this.commonArgs.biasRegularizer });
  }

  protected depthwise(x: Tensor, kernel: Tensor): Tensor {
    return depthwiseConv2d(floatingLike(x, kernel.dtype), kernel, { strides: this.strides, padding: this.padding, dilation: this.dilationRate });
  }

  /** The output shape with `channels` output channels (null while the input's are unknown). */
  protected outputShape(inputShape: Shape | Shape[], channels: (inChannels: number | null) => number | null): Shape {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), 4, LAYOUT);
    const [n, h, w, c] = shape;
    const size = (axis: 0 | 1, len: number | null) =>
      convOutputSize(len, this.kernelSize[axis], this.strides[axis], this.dilationRate[axis], this.padding);
    const oh = size(0, h),
      ow = size(1, w);
    if (oh === 0 || ow === 0) throw windowTooLarge(this.name, shape, `${this.kernelSize.join('x')} kernel (dilation ${this.dilationRate.join('x')})`);
    return [n, oh, ow, channels(c)];
  }

  override getConfig(): Record<string, unknown> {
    const a = this.commonArgs;
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      depthMultiplier: this.depthMultiplier,
      dilationRate: this.dilationRate,
      activation: weightConfig.activation(this.activation),
      useBias: this.useBias,
      depthwiseInitializer: weightConfig.initializer(a.depthwiseInitializer ?? 'glorotUniform'),
      biasInitializer: weightConfig.initializer(a.biasInitializer ?? 'zeros'),
      depthwiseRegularizer: weightConfig.regularizer(a.depthwiseRegularizer),
      biasRegularizer: weightConfig.regularizer(a.biasRegularizer),
    };
  }
}

/**
 * Depthwise 2-D convolution: each input channel is filtered on its own by depthMultiplier
 * kernels, kernel [kh, kw, in, depthMultiplier], output channels in * depthMultiplier
 * (channel c*dm + m), bias [in * depthMultiplier]. See Note [Depthwise convolution] in ops/depthwise-conv.ts.
 */
export class DepthwiseConv2D extends DepthwiseBase {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'DepthwiseConv2D';
  /** The depthwise kernel, [kh, kw, inChannels, depthMultiplier]; null until built. */
  kernel: Tensor | null = null;
  /** The bias, [inChannels · depthMultiplier]; null until built or without a bias. */
  bias: Tensor | null = null;

  constructor(args: DepthwiseConv2dArgs) {
    super(args, []);
  }

  override build(inputShape: Shape | Shape[]): void {
    const c = this.inChannels(inputShape);
    this.kernel = this.addDepthwiseKernel('kernel', c);
    if (this.useBias) this.bias = this.addBias(c * this.depthMultiplier);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const act = this.activation.name;
    if (this.bias && isConvActivation(act)) {
      const x = floatingLike(inputs as Tensor, this.kernel!.dtype);
      const options = { strides: this.strides, padding: this.padding, dilation: this.dilationRate };
      return fusedDepthwiseConv2d({ x, filter: this.kernel!, bias: this.bias, activation: act, ...options });
    }
    let y = this.depthwise(inputs as Tensor, this.kernel!);
    if (this.bias) y = add(y, this.bias);
    return this.activation.apply(y);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return this.outputShape(inputShape, (c) => (c === null ? null : c * this.depthMultiplier));
  }
}

/**
 * Separable 2-D convolution: a depthwise convolution (no bias) then a 1x1 convolution to
 * `filters` channels with the bias and activation. Weights in Keras order: depthwise_kernel
 * [kh, kw, in, dm], pointwise_kernel [1, 1, in * dm, filters], bias [filters].
 */
export class SeparableConv2D extends DepthwiseBase {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'SeparableConv2D';
  /** The number of output channels. */
  readonly filters: number;
  private readonly args: SeparableConv2dArgs;
  /** The depthwise kernel, [kh, kw, inChannels, depthMultiplier]; null until built. */
  depthwiseKernel: Tensor | null = null;
  /** The pointwise kernel, [1, 1, inChannels · depthMultiplier, filters]; null until built. */
  pointwiseKernel: Tensor | null = null;
  /** The bias, [filters]; null until built or without a bias. */
  bias: Tensor | null = null;

  constructor(args: SeparableConv2dArgs) {
    super(args, ['filters', 'pointwiseInitializer', 'pointwiseRegularizer']);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const c = this.inChannels(inputShape);
    this.depthwiseKernel = this.addDepthwiseKernel('depthwise_kernel', c);
    this.pointwiseKernel = this.addWeight('pointwise_kernel', [1, 1, c * this.depthMultiplier, this.filters], {
      initializer: this.args.pointwiseInitializer ?? 'glorotUniform',
      regularizer: this.args.pointwiseRegularizer,
    });
    if (this.useBias) this.bias = this.addBias(this.filters);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const depth = this.depthwise(inputs as Tensor, this.depthwiseKernel!);
    const act = this.activation.name;
    if (this.bias && isConvActivation(act)) {
      return fusedConv2d({ x: depth, filter: this.pointwiseKernel!, bias: this.bias, activation: act });
    }
    let y = conv2d(depth, this.pointwiseKernel!);
    if (this.bias) y = add(y, this.bias);
    return this.activation.apply(y);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return this.outputShape(inputShape, () => this.filters);
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

registerLayer('DepthwiseConv2D', (c) => new DepthwiseConv2D(c as unknown as DepthwiseConv2dArgs));
registerLayer('SeparableConv2D', (c) => new SeparableConv2D(c as unknown as SeparableConv2dArgs));
