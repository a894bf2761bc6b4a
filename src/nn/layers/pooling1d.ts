// 1-D pooling over [batch, steps, channels]: windowed max/average (as 2-D pooling of height 1,
// so the fast pooling kernels serve them) and global pooling over the steps.
import { checkOneOf } from '../../core/options.js';
import type { Padding } from '../../ops/conv-geometry.js';
import { cast, div, mul } from '../../ops/elementwise.js';
import { avgPool2d, maxPool2d } from '../../ops/pool.js';
import { max, mean, sum } from '../../ops/reduction.js';
import { expandDims, reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';
import { conv1dOutputLength } from './conv1d.js';
import { floatingLike, requireRank, singleInt, windowTooLarge, type IntOne } from './conv-options.js';

const LAYOUT = '[batch, steps, channels]';
const rank3 = (layer: string, s: Shape | Shape[]) => requireRank(layer, singleShape(layer, s), 3, LAYOUT);

/** Options of `st.layers.maxPooling1d` and `averagePooling1d`. */
export interface Pooling1dArgs extends LayerArgs {
  /** The window length in steps. Default 2. */
  poolSize?: IntOne;
  /** Defaults to poolSize, as in Keras. */
  strides?: IntOne | null;
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
  /** Only 'channelsLast' ([batch, steps, channels]). */
  dataFormat?: 'channelsLast';
}

/** Max or average pooling over windows of steps; 'same' padding as TensorFlow. */
abstract class Pooling1D extends Layer {
  /** The window length. */
  readonly poolSize: number;
  /** The step between windows. */
  readonly strides: number;
  /** 'valid' or 'same'. */
  readonly padding: Padding;

  constructor(args: Pooling1dArgs) {
    super(args as Pooling1dArgs & Record<string, unknown>, ['poolSize', 'strides', 'padding', 'dataFormat']);
    this.poolSize = singleInt(this.name, 'poolSize', args.poolSize, 2);
    this.strides = singleInt(this.name, 'strides', args.strides, this.poolSize);
    this.padding = checkOneOf(this.name, 'padding', args.padding ?? 'valid', ['valid', 'same'] as const);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }

  /** The 2-D pooling op this layer runs on a [N, 1, T, C] view. */
  protected abstract pool2d(image: Tensor, options: { poolSize: [number, number]; strides: [number, number]; padding: Padding }): Tensor;

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.dtype);
    const [n, steps, c] = x.shape;
    const y = this.pool2d(reshape(x, [n, 1, steps, c]), { poolSize: [1, this.poolSize], strides: [1, this.strides], padding: this.padding });
    return reshape(y, [n, y.shape[2], c]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = rank3(this.name, inputShape);
    const out = conv1dOutputLength(shape[1], this.poolSize, this.strides, 1, this.padding);
    if (out === 0) throw windowTooLarge(this.name, shape, `${this.poolSize}-step`);
    return [shape[0], out, shape[2]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: [this.poolSize], strides: [this.strides], padding: this.padding };
  }
}

/** The layer `st.layers.maxPooling1d` makes: the largest value of each window of steps. */
export class MaxPooling1D extends Pooling1D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'MaxPooling1D';
  protected pool2d(image: Tensor, options: Parameters<typeof maxPool2d>[1]): Tensor {
    return maxPool2d(image, options);
  }
}

/** Average pooling; with 'same' padding each window is divided by its number of real steps. */
export class AveragePooling1D extends Pooling1D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AveragePooling1D';
  protected pool2d(image: Tensor, options: Parameters<typeof avgPool2d>[1]): Tensor {
    return avgPool2d(image, options);
  }
}

/** Options of `st.layers.globalAveragePooling1d` and `globalMaxPooling1d`. */
export interface GlobalPooling1dArgs extends LayerArgs {
  /** Keep the steps axis as size 1: [N, 1, C] instead of [N, C]. Default false. */
  keepdims?: boolean;
  /** Only 'channelsLast' ([batch, steps, channels]). */
  dataFormat?: 'channelsLast';
}

/** Pools each channel over all steps: [N, T, C] → [N, C] (or [N, 1, C] with keepdims). */
abstract class GlobalPooling1D extends Layer {
  /** Whether the output keeps the steps axis (as size 1). */
  readonly keepdims: boolean;

  constructor(args: GlobalPooling1dArgs = {}) {
    super(args as GlobalPooling1dArgs & Record<string, unknown>, ['keepdims', 'dataFormat']);
    this.keepdims = args.keepdims ?? false;
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, , c] = rank3(this.name, inputShape);
    return this.keepdims ? [n, 1, c] : [n, c];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), keepdims: this.keepdims };
  }
}

/**
 * The mean over steps. With a mask (Note [Masks]) only unmasked steps count, as in Keras:
 * sum(x * mask) / sum(mask); the mask stops here (the output has no time axis).
 */
export class GlobalAveragePooling1D extends GlobalPooling1D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GlobalAveragePooling1D';
  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = floatingLike(inputs as Tensor, this.dtype);
    const mask = options.mask as Tensor | null | undefined;
    if (!mask) return mean(x, 1, this.keepdims);
    const weights = expandDims(cast(mask, x.dtype), 2); // [N, T, 1]
    return div(sum(mul(x, weights), 1, this.keepdims), sum(weights, 1, this.keepdims));
  }
}

/** The maximum over steps (a mask is ignored, as in Keras). */
export class GlobalMaxPooling1D extends GlobalPooling1D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GlobalMaxPooling1D';
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return max(floatingLike(inputs as Tensor, this.dtype), 1, this.keepdims);
  }
}

registerLayer('MaxPooling1D', (c) => new MaxPooling1D(c as Pooling1dArgs));
registerLayer('AveragePooling1D', (c) => new AveragePooling1D(c as Pooling1dArgs));
registerLayer('GlobalAveragePooling1D', (c) => new GlobalAveragePooling1D(c as GlobalPooling1dArgs));
registerLayer('GlobalMaxPooling1D', (c) => new GlobalMaxPooling1D(c as GlobalPooling1dArgs));
