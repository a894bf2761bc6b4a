import { ShapeError, ValueError } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { pair, type Padding } from '../../ops/conv-geometry.js';
import { avgPool2d, maxPool2d } from '../../ops/pool.js';
import { max, mean } from '../../ops/reduction.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';
import { convOutputSize, type IntPair } from './conv.js';

/** Options of `st.layers.maxPooling2d` and `averagePooling2d`. */
export interface Pooling2dArgs extends LayerArgs {
  /** The window's height and width. Default 2. */
  poolSize?: IntPair;
  /** Defaults to poolSize, as in Keras. */
  strides?: IntPair | null;
  /** 'valid' (default) or 'same'. Average pooling divides by the real (unpadded) pixels of a window. */
  padding?: Padding;
  /** Only 'channelsLast' (NHWC), Keras's default. */
  dataFormat?: 'channelsLast';
}

const POOL_KEYS = ['poolSize', 'strides', 'padding', 'dataFormat'];

function rank4(layer: string, shape: Shape): Shape {
  if (shape.length !== 4)
    throw new ValueError(`${layer}: expects inputs of rank 4 [batch, height, width, channels]; received shape ${formatShape(shape)}`);
  return shape;
}

/** Max or average pooling over NHWC windows; 'same' padding as TensorFlow. */
abstract class Pooling2D extends Layer {
  /** The window's [height, width]. */
  readonly poolSize: [number, number];
  /** The step between windows, [height, width]. */
  readonly strides: [number, number];
  /** 'valid' or 'same'. */
  readonly padding: Padding;

  constructor(args: Pooling2dArgs) {
    super(args as Pooling2dArgs & Record<string, unknown>, POOL_KEYS);
    this.poolSize = pair(this.name, 'poolSize', args.poolSize, 2);
    this.strides = pair(this.name, 'strides', args.strides ?? this.poolSize, 1);
    this.padding = checkOneOf(this.name, 'padding', args.padding ?? 'valid', ['valid', 'same'] as const);
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }

  /**
   * The options of this layer's pooling op.
   * @internal
   */
  poolOptions(): { poolSize: [number, number]; strides: [number, number]; padding: Padding } {
    return { poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = rank4(this.name, singleShape(this.name, inputShape));
    const oh = convOutputSize(h, this.poolSize[0], this.strides[0], 1, this.padding);
    const ow = convOutputSize(w, this.poolSize[1], this.strides[1], 1, this.padding);
    if (oh === 0 || ow === 0)
      throw new ShapeError(
        `${this.name}: with 'valid' padding the input ${formatShape([n, h, w, c])} is smaller than the ${this.poolSize.join('x')} window`,
      );
    return [n, oh, ow, c];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/** The layer `st.layers.maxPooling2d` makes: the largest value of each window, per channel. */
export class MaxPooling2D extends Pooling2D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'MaxPooling2D';
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return maxPool2d(inputs as Tensor, this.poolOptions());
  }
}

/** The layer `st.layers.averagePooling2d` makes: the mean of each window, per channel. */
export class AveragePooling2D extends Pooling2D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AveragePooling2D';
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return avgPool2d(inputs as Tensor, this.poolOptions());
  }
}

/** Options of `st.layers.globalAveragePooling2d` and `globalMaxPooling2d`. */
export interface GlobalPooling2dArgs extends LayerArgs {
  /** Keep the spatial axes as size 1: [N, 1, 1, C] instead of [N, C]. Default false. */
  keepdims?: boolean;
  /** Only 'channelsLast' (NHWC), Keras's default. */
  dataFormat?: 'channelsLast';
}

/** Pools each channel over the whole image: [N, H, W, C] → [N, C] (or [N, 1, 1, C] with keepdims). */
abstract class GlobalPooling2D extends Layer {
  /** Whether the output keeps the spatial axes (as size 1). */
  readonly keepdims: boolean;
  constructor(args: GlobalPooling2dArgs = {}) {
    super(args as GlobalPooling2dArgs & Record<string, unknown>, ['keepdims', 'dataFormat']);
    this.keepdims = args.keepdims ?? false;
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, , , c] = rank4(this.name, singleShape(this.name, inputShape));
    return this.keepdims ? [n, 1, 1, c] : [n, c];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), keepdims: this.keepdims };
  }
}

/** The layer `st.layers.globalAveragePooling2d` makes: each channel's mean over the whole image. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GlobalAveragePooling2D';
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return mean(inputs as Tensor, [1, 2], this.keepdims);
  }
}

/** The layer `st.layers.globalMaxPooling2d` makes: each channel's maximum over the whole image. */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GlobalMaxPooling2D';
  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    return max(inputs as Tensor, [1, 2], this.keepdims);
  }
}

registerLayer('MaxPooling2D', (c) => new MaxPooling2D(c as Pooling2dArgs));
registerLayer('AveragePooling2D', (c) => new AveragePooling2D(c as Pooling2dArgs));
registerLayer('GlobalAveragePooling2D', (c) => new GlobalAveragePooling2D(c as GlobalPooling2dArgs));
registerLayer('GlobalMaxPooling2D', (c) => new GlobalMaxPooling2D(c as GlobalPooling2dArgs));
