// Keras's 3-D convolution and pooling layers over NDHWC volumes [batch, depth, height, width,
// channels], on st.conv3d, st.conv3dTranspose, st.maxPool3d and st.avgPool3d (Note [3-D
// convolution and pooling as gathers] in ops/conv3d.ts). Weights in Keras's layout: Conv3D
// kernel [kd, kh, kw, in, filters], Conv3DTranspose kernel [kd, kh, kw, filters, in], bias [filters].
import { ShapeError, ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { add } from '../../ops/elementwise.js';
import { avgPool3d, conv3d, conv3dTranspose, maxPool3d, type Padding3d, type Triple } from '../../ops/conv3d.js';
import { max, mean } from '../../ops/reduction.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { convOutputSize } from './conv.js';
import { checkStridesWithDilation, floatingLike, requireRank } from './conv-options.js';
import { convTransposeOutputSize } from './conv-transpose.js';
import { positiveInt, weightConfig, type KernelBiasArgs } from './dense.js';

/**
 * One number per spatial axis (depth, height, width).
 * @inline
 */
type Three = [number, number, number];
const LAYOUT = '[batch, depth, height, width, channels]';

/** A Triple option as three integers at least `min` (a ValueError naming the option otherwise). */
export function triple(layer: string, name: string, v: Triple | undefined | null, fallback: number, min = 1): Three {
  const t = v === undefined || v === null ? [fallback, fallback, fallback] : typeof v === 'number' ? [v, v, v] : Array.isArray(v) ? [...v] : [];
  if (t.length !== 3 || t.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ValueError(
      `${layer}: ${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer or three of them; received ${fmtValue(v)}`,
    );
  }
  return t as Three;
}

const rank5 = (layer: string, inputShape: Shape | Shape[]) => requireRank(layer, singleShape(layer, inputShape), 5, LAYOUT);

/** Options of `st.layers.conv3d`; the kernel and bias options are those of {@link DenseArgs}. */
export interface Conv3dArgs extends LayerArgs, KernelBiasArgs {
  /** The number of output channels (a positive integer). */
  filters: number;
  /** The window's depth, height and width. */
  kernelSize: Triple;
  /** The step between windows. Default 1. */
  strides?: Triple;
  /** 'valid' (default) or 'same'. */
  padding?: Padding3d;
  /** Spacing between the kernel's taps. Default 1; strides and dilation cannot both exceed 1. */
  dilationRate?: Triple;
  /** Applied to the output. Default: none (linear). */
  activation?: ActivationIdentifier;
  /** Whether to add a bias per filter. Default true. */
  useBias?: boolean;
  /** Only 'channelsLast' (NDHWC), Keras's default. */
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

/** What Conv3D and Conv3DTranspose share: options, weights, bias and activation. */
abstract class Conv3dBase extends Layer {
  /** The number of output channels. */
  readonly filters: number;
  /** The window's [depth, height, width]. */
  readonly kernelSize: Three;
  /** The step between windows. */
  readonly strides: Three;
  /** The spacing between kernel taps. */
  readonly dilationRate: Three;
  /** 'valid' or 'same'. */
  readonly padding: Padding3d;
  /** The activation applied to the output. */
  readonly activation: Activation;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  protected readonly args: Conv3dArgs;
  /** The kernel (Keras's layout); null until built. */
  kernel: Tensor | null = null;
  /** The bias [filters]; null until built or without a bias. */
  bias: Tensor | null = null;

  protected constructor(args: Conv3dArgs, ownKeys: readonly string[]) {
    super(args as Conv3dArgs & Record<string, unknown>, [...CONV_KEYS, ...ownKeys]);
    this.filters = positiveInt(this.name, 'filters', args.filters);
    if (args.kernelSize === undefined) throw new ValueError(`${this.name}: kernelSize is required (a number or [kd, kh, kw])`);
    this.kernelSize = triple(this.name, 'kernelSize', args.kernelSize, 1);
    this.strides = triple(this.name, 'strides', args.strides, 1);
    this.dilationRate = triple(this.name, 'dilationRate', args.dilationRate, 1);
    this.padding = checkOneOf(this.name, 'padding', args.padding ?? 'valid', ['valid', 'same'] as const);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
    checkStridesWithDilation(this.name, this.strides, this.dilationRate);
    this.activation = getActivation(args.activation);
    this.useBias = args.useBias ?? true;
    this.args = args;
  }

  /** The kernel's shape for this many input channels. */
  protected abstract kernelShape(inChannels: number): number[];

  override build(inputShape: Shape | Shape[]): void {
    const inChannels = knownDim(this.name, rank5(this.name, inputShape), 4, 'channel dimension (last axis)');
    this.kernel = this.addWeight('kernel', this.kernelShape(inChannels), {
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

  protected finishOutput(y: Tensor): Tensor {
    return this.activation.apply(this.bias ? add(y, this.bias) : y);
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
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

/** 3-D convolution over NDHWC volumes with a [kd, kh, kw, in, filters] kernel (Keras's Conv3D). */
export class Conv3D extends Conv3dBase {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Conv3D';
  constructor(args: Conv3dArgs) {
    super(args, []);
  }
  protected kernelShape(inChannels: number): number[] {
    return [...this.kernelSize, inChannels, this.filters];
  }
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.kernel!.dtype);
    return this.finishOutput(conv3d(x, this.kernel!, { strides: this.strides, padding: this.padding, dilation: this.dilationRate }));
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = rank5(this.name, inputShape);
    const out = [0, 1, 2].map((i) => convOutputSize(shape[i + 1], this.kernelSize[i], this.strides[i], this.dilationRate[i], this.padding));
    if (out.some((d) => d === 0)) {
      throw new ShapeError(
        `${this.name}: with 'valid' padding the input ${formatShape(shape)} is smaller than the ${this.kernelSize.join('x')} kernel`,
      );
    }
    return [shape[0], ...out, this.filters];
  }
}

/** Options of `st.layers.conv3dTranspose`. */
export interface Conv3dTransposeArgs extends Conv3dArgs {
  /** Extra outputs at the end of each spatial axis, each less than the stride (Keras). */
  outputPadding?: Triple | null;
}

/**
 * The transposed 3-D convolution (Keras's Conv3DTranspose), kernel [kd, kh, kw, filters, in]:
 * the gradient of a conv3d whose input is this layer's output (TensorFlow's padding rule on the
 * output size). Dilation is not offered (st.conv3dTranspose has none): dilationRate must be 1.
 */
export class Conv3DTranspose extends Conv3dBase {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Conv3DTranspose';
  /** Extra outputs per spatial axis, or null. */
  readonly outputPadding: Three | null;

  constructor(args: Conv3dTransposeArgs) {
    super(args, ['outputPadding']);
    if (this.dilationRate.some((d) => d !== 1)) {
      throw new ValueError(`${this.name}: dilationRate must be 1 (st.conv3dTranspose has no dilation); received ${fmtValue(args.dilationRate)}`);
    }
    this.outputPadding =
      args.outputPadding === undefined || args.outputPadding === null ? null : triple(this.name, 'outputPadding', args.outputPadding, 0, 0);
    if (this.outputPadding?.some((p, i) => p >= this.strides[i])) {
      throw new ValueError(
        `${this.name}: outputPadding must be smaller than strides on each axis (as in Keras); received outputPadding ${fmtValue(args.outputPadding)}, strides ${fmtValue(this.strides)}`,
      );
    }
  }
  protected kernelShape(inChannels: number): number[] {
    return [...this.kernelSize, this.filters, inChannels];
  }
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.kernel!.dtype);
    const outShape = this.computeOutputShape(x.shape) as number[];
    return this.finishOutput(conv3dTranspose(x, this.kernel!, outShape, { strides: this.strides, padding: this.padding }));
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = rank5(this.name, inputShape);
    const out = [0, 1, 2].map((i) => {
      const n = shape[i + 1],
        [k, s] = [this.kernelSize[i], this.strides[i]];
      const size = convTransposeOutputSize(n, k, s, 1, this.padding, this.outputPadding ? this.outputPadding[i] : null);
      if (n !== null && (size! < 1 || convOutputSize(size!, k, s, 1, this.padding) !== n)) {
        throw new ShapeError(
          `${this.name}: outputPadding ${fmtValue(this.outputPadding)} gives an output size ${size} on axis ${i + 1} that a stride-${s} '${this.padding}' convolution does not map back to ${n}; input shape ${formatShape(shape)}`,
        );
      }
      return size;
    });
    return [shape[0], ...out, this.filters];
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), outputPadding: this.outputPadding };
  }
}

/** Options of `st.layers.maxPooling3d` and `averagePooling3d`. */
export interface Pooling3dArgs extends LayerArgs {
  /** The window's depth, height and width. Default 2. */
  poolSize?: Triple;
  /** Defaults to poolSize, as in Keras. */
  strides?: Triple | null;
  /** 'valid' (default) or 'same'. Average pooling divides by the real (unpadded) voxels of a window. */
  padding?: Padding3d;
  /** Only 'channelsLast' (NDHWC), Keras's default. */
  dataFormat?: 'channelsLast';
}

/** Max or average pooling over NDHWC windows. */
abstract class Pooling3D extends Layer {
  /** The window's [depth, height, width]. */
  readonly poolSize: Three;
  /** The step between windows. */
  readonly strides: Three;
  /** 'valid' or 'same'. */
  readonly padding: Padding3d;

  constructor(args: Pooling3dArgs) {
    super(args as Pooling3dArgs & Record<string, unknown>, ['poolSize', 'strides', 'padding', 'dataFormat']);
    this.poolSize = triple(this.name, 'poolSize', args.poolSize, 2);
    this.strides = triple(this.name, 'strides', args.strides ?? this.poolSize, 1);
    this.padding = checkOneOf(this.name, 'padding', args.padding ?? 'valid', ['valid', 'same'] as const);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }

  protected poolOptions() {
    return { poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = rank5(this.name, inputShape);
    const out = [0, 1, 2].map((i) => convOutputSize(shape[i + 1], this.poolSize[i], this.strides[i], 1, this.padding));
    if (out.some((d) => d === 0)) {
      throw new ShapeError(
        `${this.name}: with 'valid' padding the input ${formatShape(shape)} is smaller than the ${this.poolSize.join('x')} window`,
      );
    }
    return [shape[0], ...out, shape[4]];
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/** The largest value of each 3-D window, per channel (Keras's MaxPooling3D). */
export class MaxPooling3D extends Pooling3D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'MaxPooling3D';
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return maxPool3d(inputs as Tensor, this.poolOptions());
  }
}

/** The mean of each 3-D window, per channel (Keras's AveragePooling3D). */
export class AveragePooling3D extends Pooling3D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AveragePooling3D';
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return avgPool3d(inputs as Tensor, this.poolOptions());
  }
}

/** Options of `st.layers.globalAveragePooling3d` and `globalMaxPooling3d`. */
export interface GlobalPooling3dArgs extends LayerArgs {
  /** Keep the spatial axes as size 1: [N, 1, 1, 1, C] instead of [N, C]. Default false. */
  keepdims?: boolean;
  /** Only 'channelsLast' (NDHWC), Keras's default. */
  dataFormat?: 'channelsLast';
}

/** Pools each channel over the whole volume: [N, D, H, W, C] → [N, C]. */
abstract class GlobalPooling3D extends Layer {
  /** Whether the output keeps the spatial axes (as size 1). */
  readonly keepdims: boolean;
  constructor(args: GlobalPooling3dArgs = {}) {
    super(args as GlobalPooling3dArgs & Record<string, unknown>, ['keepdims', 'dataFormat']);
    if (args.keepdims !== undefined && typeof args.keepdims !== 'boolean')
      throw new ValueError(`${this.name}: keepdims must be a boolean; received ${fmtValue(args.keepdims)}`);
    this.keepdims = args.keepdims ?? false;
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, , , , c] = rank5(this.name, inputShape);
    return this.keepdims ? [n, 1, 1, 1, c] : [n, c];
  }
  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), keepdims: this.keepdims };
  }
}

/** Each channel's mean over the whole volume (Keras's GlobalAveragePooling3D). */
export class GlobalAveragePooling3D extends GlobalPooling3D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GlobalAveragePooling3D';
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return mean(inputs as Tensor, [1, 2, 3], this.keepdims);
  }
}

/** Each channel's maximum over the whole volume (Keras's GlobalMaxPooling3D). */
export class GlobalMaxPooling3D extends GlobalPooling3D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GlobalMaxPooling3D';
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return max(inputs as Tensor, [1, 2, 3], this.keepdims);
  }
}

registerLayer('Conv3D', (c) => new Conv3D(c as unknown as Conv3dArgs));
registerLayer('Conv3DTranspose', (c) => new Conv3DTranspose(c as unknown as Conv3dTransposeArgs));
registerLayer('MaxPooling3D', (c) => new MaxPooling3D(c as Pooling3dArgs));
registerLayer('AveragePooling3D', (c) => new AveragePooling3D(c as Pooling3dArgs));
registerLayer('GlobalAveragePooling3D', (c) => new GlobalAveragePooling3D(c as GlobalPooling3dArgs));
registerLayer('GlobalMaxPooling3D', (c) => new GlobalMaxPooling3D(c as GlobalPooling3dArgs));

/** The 3-D family's factories, spread into `st.layers` (Keras's names in camelCase, as tfjs). */
export const conv3dFamilyLayers = {
  /** A 3-D convolution over [batch, depth, height, width, channels] (Keras's Conv3D). */
  conv3d: (args: Conv3dArgs) => new Conv3D(args),
  /** A transposed 3-D convolution (Keras's Conv3DTranspose), the upsampling counterpart of conv3d. */
  conv3dTranspose: (args: Conv3dTransposeArgs) => new Conv3DTranspose(args),
  /** Max pooling over 3-D windows of NDHWC inputs (Keras's MaxPooling3D; default 2x2x2). */
  maxPooling3d: (args: Pooling3dArgs = {}) => new MaxPooling3D(args),
  /** Average pooling over 3-D windows of NDHWC inputs (Keras's AveragePooling3D). */
  averagePooling3d: (args: Pooling3dArgs = {}) => new AveragePooling3D(args),
  /** Each channel's mean over depth, height and width (Keras's GlobalAveragePooling3D). */
  globalAveragePooling3d: (args: GlobalPooling3dArgs = {}) => new GlobalAveragePooling3D(args),
  /** Each channel's maximum over depth, height and width (Keras's GlobalMaxPooling3D). */
  globalMaxPooling3d: (args: GlobalPooling3dArgs = {}) => new GlobalMaxPooling3D(args),
};
