import { ShapeError } from '../../core/errors.js';
import { conv2d } from '../../ops/conv.js';
import type { Padding } from '../../ops/conv-geometry.js';
import { add } from '../../ops/elementwise.js';
import { fusedConv2d, isConvActivation } from '../../ops/fused.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { checkStridesWithDilation, requireRank, window2d } from './conv-options.js';
import { positiveInt, weightConfig, type KernelBiasArgs } from './dense.js';

/**
 * One integer for both spatial axes, or [height, width].
 * @inline
 */
export type IntPair = number | readonly [number, number];

/** Options of `st.layers.conv2d`; the kernel and bias options are those of {@link DenseArgs}. */
export interface Conv2dArgs extends LayerArgs, KernelBiasArgs {
  /** The number of output channels (a positive integer). */
  filters: number;
  /** The window's height and width. */
  kernelSize: IntPair;
  /** The step between windows. Default 1. */
  strides?: IntPair;
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
  /**
   * Spacing between the kernel's taps (atrous convolution). Default 1; strides and dilation cannot
   * both exceed 1.
   */
  dilationRate?: IntPair;
  /** Applied to the output. Default: none (linear). */
  activation?: ActivationIdentifier;
  /** Whether to add a bias per filter. Default true. */
  useBias?: boolean;
  /** Only 'channelsLast' (NHWC), Keras's default. */
  dataFormat?: 'channelsLast';
}

const CONV_KEYS = [
  'filters',
  'kernelSize',
  'strides',
  'padding',
  'dilationRate',
  'activation',
  'useBias',
  'dataFormat',
  'kernelInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'biasRegularizer',
];

/** Output size of one spatial axis (TensorFlow's rule), null when the input size is unknown. */
export function convOutputSize(n: number | null, k: number, s: number, d: number, padding: Padding): number | null {
  if (n === null) return null;
  const kEff = (k - 1) * d + 1;
  return padding === 'same' ? Math.ceil(n / s) : Math.max(Math.floor((n - kEff) / s) + 1, 0);
}

/**
 * 2-D convolution over NHWC inputs with a [kh, kw, in, filters] kernel. With a bias and a ReLU
 * or linear activation it runs as one fused kernel (st.fused.conv2d) where the backend has it.
 */
export class Conv2D extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Conv2D';
  /** The number of output channels. */
  readonly filters: number;
  /** The window's [height, width]. */
  readonly kernelSize: [number, number];
  /** The step between windows, [height, width]. */
  readonly strides: [number, number];
  /** The spacing between kernel taps, [height, width]. */
  readonly dilationRate: [number, number];
  /** 'valid' or 'same'. */
  readonly padding: Padding;
  /** The activation applied to the output. */
  readonly activation: Activation;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  private readonly args: Conv2dArgs;
  /** The kernel variable, [kh, kw, inChannels, filters]; null until built. */
  kernel: Tensor | null = null;
  /** The bias variable, [filters]; null until built or without a bias. */
  bias: Tensor | null = null;

  constructor(args: Conv2dArgs) {
    super(args as Conv2dArgs & Record<string, unknown>, CONV_KEYS);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    ({ kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate, padding: this.padding } = window2d(this.name, args));
    checkStridesWithDilation(this.name, this.strides, this.dilationRate);
    this.activation = getActivation(args.activation);
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), 4, '[batch, height, width, channels]');
    const inChannels = knownDim(this.name, shape, 3, 'channel dimension (last axis)');
    this.kernel = this.addWeight('kernel', [...this.kernelSize, inChannels, this.filters], {
      initializer: this.args.kernelInitializer ?? 'glorotUniform',
      regularizer: this.args.kernelRegularizer,
    });
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.filters], {
        initializer: this.args.biasInitializer ?? 'zeros',
        regularizer: this.args.biasRegularizer,
      });
    }
  }

  /** Whether call() is one fused convolution with its bias and ReLU (Note [Fused layer pairs]). */
  fusesReluAndBias(): boolean {
    return this.useBias && this.activation.name === 'relu';
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const options = { strides: this.strides, padding: this.padding, dilation: this.dilationRate };
    const act = this.activation.name;
    if (this.bias && isConvActivation(act)) {
      return fusedConv2d({ x, filter: this.kernel!, bias: this.bias, activation: act, ...options });
    }
    let y = conv2d(x, this.kernel!, options);
    if (this.bias) y = add(y, this.bias);
    return this.activation.apply(y);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w] = singleShape(this.name, inputShape);
    const [kh, kw] = this.kernelSize,
      [sh, sw] = this.strides,
      [dh, dw] = this.dilationRate;
    const oh = convOutputSize(h, kh, sh, dh, this.padding),
      ow = convOutputSize(w, kw, sw, dw, this.padding);
    if (oh === 0 || ow === 0) {
      throw new ShapeError(
        `${this.name}: with 'valid' padding the input ${formatShape([n, h, w])} is smaller than the ${kh}x${kw} kernel (dilation ${dh}x${dw})`,
      );
    }
    return [n, oh, ow, this.filters];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      activation: weightConfig.activation(this.activation),
      useBias: this.useBias,
      ...weightConfig.kernelAndBias(this.args),
    };
  }
}

registerLayer('Conv2D', (c) => new Conv2D(c as unknown as Conv2dArgs));
