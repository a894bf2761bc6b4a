import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { conv2dBackpropInput } from '../../ops/conv.js';
import type { Padding } from '../../ops/conv-geometry.js';
import { add } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { convOutputSize, type IntPair } from './conv.js';
import { floatingLike, requireRank, window2d } from './conv-options.js';
import { positiveInt, weightConfig, type KernelBiasArgs } from './dense.js';

/** Options of `st.layers.conv2dTranspose`; the kernel and bias options are those of {@link DenseArgs}. */
export interface Conv2dTransposeArgs extends LayerArgs, KernelBiasArgs {
  /** The number of output channels. */
  filters: number;
  /** The window's height and width. */
  kernelSize: IntPair;
  /** The upsampling step. Default 1. */
  strides?: IntPair;
  /** 'valid' (default) or 'same' (output = input · stride). */
  padding?: Padding;
  /** Extra rows/columns on the bottom/right of the output, each less than the stride (Keras). */
  outputPadding?: IntPair | null;
  /** Spacing between the kernel's taps. Default 1. */
  dilationRate?: IntPair;
  /** Applied to the output. Default: none (linear). */
  activation?: ActivationIdentifier;
  /** Whether to add a bias per filter. Default true. */
  useBias?: boolean;
  /** Only 'channelsLast' (NHWC). */
  dataFormat?: 'channelsLast';
}

const KEYS = [
  'filters',
  'kernelSize',
  'strides',
  'padding',
  'outputPadding',
  'dilationRate',
  'activation',
  'useBias',
  'dataFormat',
  'kernelInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'biasRegularizer',
];

/**
 * Keras's output length of a transposed convolution along one axis (deconv_output_length):
 * without outputPadding, 'valid' gives n*s + max(k_eff - s, 0) and 'same' gives n*s; with it,
 * (n - 1)*s + k_eff - 2*pad + outputPadding where pad is k_eff // 2 for 'same', 0 for 'valid'.
 */
export function convTransposeOutputSize(
  n: number | null,
  k: number,
  s: number,
  d: number,
  padding: Padding,
  outputPadding: number | null,
): number | null {
  if (n === null) return null;
  const kEff = (k - 1) * d + 1;
  if (outputPadding === null) return padding === 'valid' ? n * s + Math.max(kEff - s, 0) : n * s;
  const pad = padding === 'same' ? Math.floor(kEff / 2) : 0;
  return (n - 1) * s + kEff - 2 * pad + outputPadding;
}

/**
 * Transposed convolution ("deconvolution") over NHWC inputs, kernel [kh, kw, filters, in] as in
 * Keras. It is the gradient of a conv2d whose input is this layer's output, so it runs as
 * conv2dBackpropInput with TensorFlow's padding rule on the output size: the same numbers as
 * Keras on TensorFlow, and every backend's fast kernel.
 */
export class Conv2DTranspose extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Conv2DTranspose';
  /** The number of output channels. */
  readonly filters: number;
  /** The window's [height, width]. */
  readonly kernelSize: [number, number];
  /** The upsampling step, [height, width]. */
  readonly strides: [number, number];
  /** The spacing between kernel taps. */
  readonly dilationRate: [number, number];
  /** 'valid' or 'same'. */
  readonly padding: Padding;
  /** Extra output rows and columns, or null. */
  readonly outputPadding: [number, number] | null;
  /** The activation applied to the output. */
  readonly activation: Activation;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  private readonly args: Conv2dTransposeArgs;
  /** The kernel, [kh, kw, filters, inChannels] (Keras's layout); null until built. */
  kernel: Tensor | null = null;
  /** The bias, [filters]; null until built or without a bias. */
  bias: Tensor | null = null;

  constructor(args: Conv2dTransposeArgs) {
    super(args as Conv2dTransposeArgs & Record<string, unknown>, KEYS);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    ({ kernelSize: this.kernelSize, strides: this.strides, dilationRate: this.dilationRate, padding: this.padding } = window2d(this.name, args));
    this.outputPadding = args.outputPadding === undefined || args.outputPadding === null ? null : outputPaddingPair(this.name, args.outputPadding);
    if (this.outputPadding?.some((p, i) => p >= this.strides[i])) {
      throw new ValueError(
        `${this.name}: outputPadding must be smaller than strides on each axis (as in Keras); received outputPadding ${fmtValue(args.outputPadding)}, strides ${fmtValue(this.strides)}`,
      );
    }
    this.activation = getActivation(args.activation);
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), 4, '[batch, height, width, channels]');
    const inChannels = knownDim(this.name, shape, 3, 'channel dimension (last axis)');
    this.kernel = this.addWeight('kernel', [...this.kernelSize, this.filters, inChannels], {
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
    const outShape = this.computeOutputShape(x.shape) as number[];
    let y = conv2dBackpropInput(x, this.kernel!, outShape, { strides: this.strides, padding: this.padding, dilation: this.dilationRate });
    if (this.bias) y = add(y, this.bias);
    return this.activation.apply(y);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), 4, '[batch, height, width, channels]');
    const out = [1, 2].map((axis) => {
      const i = axis - 1,
        n = shape[axis];
      const [k, s, d] = [this.kernelSize[i], this.strides[i], this.dilationRate[i]];
      const size = convTransposeOutputSize(n, k, s, d, this.padding, this.outputPadding ? this.outputPadding[i] : null);
      // The convolution this one transposes must map the output back to the input size.
      if (n !== null && (size! < 1 || convOutputSize(size!, k, s, d, this.padding) !== n)) {
        throw new ShapeError(
          `${this.name}: outputPadding ${fmtValue(this.outputPadding)} gives an output size ${size} on axis ${axis} that a stride-${s} '${this.padding}' convolution does not map back to ${n}; input shape ${formatShape(shape)}`,
        );
      }
      return size;
    });
    return [shape[0], out[0], out[1], this.filters];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilationRate: this.dilationRate,
      activation: weightConfig.activation(this.activation),
      useBias: this.useBias,
      ...weightConfig.kernelAndBias(this.args),
    };
  }
}

/** outputPadding accepts 0 (pair() wants positive values). */
function outputPaddingPair(layer: string, v: IntPair): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : [NaN, NaN];
  if (p.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new ValueError(`${layer}: outputPadding must be a non-negative integer or a pair of them; received ${fmtValue(v)}`);
  }
  return p;
}

registerLayer('Conv2DTranspose', (c) => new Conv2DTranspose(c as unknown as Conv2dTransposeArgs));
