import { ValueError } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { conv2d } from '../../ops/conv.js';
import { add } from '../../ops/elementwise.js';
import { fusedConv2d } from '../../ops/fused.js';
import { pad, reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';
import { convOutputSize } from './conv.js';
import { checkStridesWithDilation, floatingLike, requireRank, singleInt, windowTooLarge, type IntOne } from './conv-options.js';
import { positiveInt, weightConfig, type KernelBiasArgs } from './dense.js';

/**
 * 'valid', 'same', or 'causal' (pads only the start, so output step t sees inputs up to t).
 * @inline
 */
export type Conv1dPadding = 'valid' | 'same' | 'causal';

/** Options of `st.layers.conv1d`; the kernel and bias options are those of {@link DenseArgs}. */
export interface Conv1dArgs extends LayerArgs, KernelBiasArgs {
  /** The number of output channels. */
  filters: number;
  /** The window length in steps. */
  kernelSize: IntOne;
  /** The step between windows. Default 1. */
  strides?: IntOne;
  /** 'causal' pads (kernelSize - 1) * dilationRate steps on the left only: output t sees inputs <= t. */
  padding?: Conv1dPadding;
  /** Spacing between the kernel's taps. Default 1. */
  dilationRate?: IntOne;
  /** Applied to the output. Default: none (linear). */
  activation?: ActivationIdentifier;
  /** Whether to add a bias per filter. Default true. */
  useBias?: boolean;
  /** Only 'channelsLast' ([batch, steps, channels]). */
  dataFormat?: 'channelsLast';
}

const CONV1D_KEYS = [
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

/** Output length of a 1-D convolution or pooling window (null when the input length is unknown). */
export function conv1dOutputLength(n: number | null, k: number, s: number, d: number, padding: Conv1dPadding): number | null {
  if (n === null) return null;
  return padding === 'causal' ? convOutputSize(n + (k - 1) * d, k, s, d, 'valid') : convOutputSize(n, k, s, d, padding);
}

/**
 * 1-D convolution over [batch, steps, channels] with a [kernelSize, in, filters] kernel.
 * It runs as a conv2d of height 1 ([N, 1, T, C] with a [1, k, in, out] kernel), so every backend's
 * fast (and fused bias + ReLU) convolution serves it; 'causal' is a left pad then 'valid'.
 */
export class Conv1D extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Conv1D';
  /** The number of output channels. */
  readonly filters: number;
  /** The window length. */
  readonly kernelSize: number;
  /** The step between windows. */
  readonly strides: number;
  /** The spacing between kernel taps. */
  readonly dilationRate: number;
  /** 'valid', 'same' or 'causal'. */
  readonly padding: Conv1dPadding;
  /** The activation applied to the output. */
  readonly activation: Activation;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  private readonly args: Conv1dArgs;
  /** The kernel, [kernelSize, inChannels, filters]; null until built. */
  kernel: Tensor | null = null;
  /** The bias, [filters]; null until built or without a bias. */
  bias: Tensor | null = null;

  constructor(args: Conv1dArgs) {
    super(args as Conv1dArgs & Record<string, unknown>, CONV1D_KEYS);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    if (args.kernelSize === undefined) throw new ValueError(`${this.name}: kernelSize is required (a number or [k])`);
    this.kernelSize = singleInt(this.name, 'kernelSize', args.kernelSize, 1);
    this.strides = singleInt(this.name, 'strides', args.strides, 1);
    this.dilationRate = singleInt(this.name, 'dilationRate', args.dilationRate, 1);
    this.padding = checkOneOf(this.name, 'padding', args.padding ?? 'valid', ['valid', 'same', 'causal'] as const);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
    checkStridesWithDilation(this.name, [this.strides], [this.dilationRate]);
    this.activation = getActivation(args.activation);
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), 3, '[batch, steps, channels]');
    const inChannels = knownDim(this.name, shape, 2, 'channel dimension (last axis)');
    this.kernel = this.addWeight('kernel', [this.kernelSize, inChannels, this.filters], {
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

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.kernel!.dtype);
    const [n, steps, channels] = x.shape;
    let image = reshape(x, [n, 1, steps, channels]);
    if (this.padding === 'causal')
      image = pad(image, [
        [0, 0],
        [0, 0],
        [(this.kernelSize - 1) * this.dilationRate, 0],
        [0, 0],
      ]);
    const filter = reshape(this.kernel!, [1, this.kernelSize, channels, this.filters]);
    const options = {
      strides: [1, this.strides] as const,
      padding: this.padding === 'same' ? ('same' as const) : ('valid' as const),
      dilation: [1, this.dilationRate] as const,
    };
    const act = this.activation.name;
    let y: Tensor;
    if (this.bias && (act === 'relu' || act === 'linear')) {
      y = fusedConv2d({ x: image, filter, bias: this.bias, activation: act, ...options });
    } else {
      y = conv2d(image, filter, options);
      if (this.bias) y = add(y, this.bias);
      y = this.activation.apply(y);
    }
    return reshape(y, [n, y.shape[2], this.filters]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, steps] = requireRank(this.name, singleShape(this.name, inputShape), 3, '[batch, steps, channels]');
    const out = conv1dOutputLength(steps, this.kernelSize, this.strides, this.dilationRate, this.padding);
    if (out === 0)
      throw windowTooLarge(this.name, singleShape(this.name, inputShape), `${this.kernelSize}-step kernel (dilation ${this.dilationRate})`);
    return [n, out, this.filters];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: [this.kernelSize],
      strides: [this.strides],
      padding: this.padding,
      dilationRate: [this.dilationRate],
      activation: weightConfig.activation(this.activation),
      useBias: this.useBias,
      ...weightConfig.kernelAndBias(this.args),
    };
  }
}

registerLayer('Conv1D', (c) => new Conv1D(c as unknown as Conv1dArgs));
