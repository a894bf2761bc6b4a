// Keras's adaptive pooling layers (AdaptiveAveragePooling1D/2D/3D, AdaptiveMaxPooling1D/2D/3D):
// a fixed output size per spatial axis whatever the input's, on st.adaptiveAveragePool and
// st.adaptiveMaxPool (Note [Adaptive pooling windows] in ops/adaptive-pool.ts). Channels last.
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { adaptiveAveragePool, adaptiveMaxPool } from '../../ops/adaptive-pool.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';
import { requireRank } from './conv-options.js';

/** Options of the adaptive pooling layers. */
export interface AdaptivePoolingArgs extends LayerArgs {
  /** The output size: one integer for every spatial axis, or one per axis. */
  outputSize: number | readonly number[];
  /** Only 'channelsLast', Keras's default. */
  dataFormat?: 'channelsLast';
}

const LAYOUTS = ['', '[batch, steps, channels]', '[batch, height, width, channels]', '[batch, depth, height, width, channels]'];

/** The options, shape rule and config of the six layers. */
abstract class AdaptivePooling extends Layer {
  /** The output size per spatial axis. */
  readonly outputSize: number[];
  protected abstract readonly spatial: 1 | 2 | 3;
  protected abstract readonly kind: 'average' | 'max';

  constructor(args: AdaptivePoolingArgs, spatial: number) {
    super(args as AdaptivePoolingArgs & Record<string, unknown>, ['outputSize', 'dataFormat']);
    const v = args.outputSize;
    const sizes = typeof v === 'number' ? new Array<number>(spatial).fill(v) : Array.isArray(v) ? [...v] : [];
    if (sizes.length !== spatial || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new ValueError(`${this.name}: outputSize must be a positive integer or ${spatial} of them; received ${fmtValue(v)}`);
    }
    this.outputSize = sizes;
    checkOneOf(this.name, 'dataFormat', args.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    requireRank(this.name, x.shape, this.spatial + 2, LAYOUTS[this.spatial]);
    return (this.kind === 'average' ? adaptiveAveragePool : adaptiveMaxPool)(x, this.outputSize);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = requireRank(this.name, singleShape(this.name, inputShape), this.spatial + 2, LAYOUTS[this.spatial]);
    return [shape[0], ...this.outputSize, shape[shape.length - 1]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), outputSize: this.outputSize };
  }
}

/** The layer `st.layers.adaptiveAveragePooling1d` makes. */
export class AdaptiveAveragePooling1D extends AdaptivePooling {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AdaptiveAveragePooling1D';
  protected readonly spatial = 1;
  protected readonly kind = 'average';
  constructor(args: AdaptivePoolingArgs) {
    super(args, 1);
  }
}
/** The layer `st.layers.adaptiveAveragePooling2d` makes. */
export class AdaptiveAveragePooling2D extends AdaptivePooling {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AdaptiveAveragePooling2D';
  protected readonly spatial = 2;
  protected readonly kind = 'average';
  constructor(args: AdaptivePoolingArgs) {
    super(args, 2);
  }
}
/** The layer `st.layers.adaptiveAveragePooling3d` makes. */
export class AdaptiveAveragePooling3D extends AdaptivePooling {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AdaptiveAveragePooling3D';
  protected readonly spatial = 3;
  protected readonly kind = 'average';
  constructor(args: AdaptivePoolingArgs) {
    super(args, 3);
  }
}
/** The layer `st.layers.adaptiveMaxPooling1d` makes. */
export class AdaptiveMaxPooling1D extends AdaptivePooling {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AdaptiveMaxPooling1D';
  protected readonly spatial = 1;
  protected readonly kind = 'max';
  constructor(args: AdaptivePoolingArgs) {
    super(args, 1);
  }
}
/** The layer `st.layers.adaptiveMaxPooling2d` makes. */
export class AdaptiveMaxPooling2D extends AdaptivePooling {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AdaptiveMaxPooling2D';
  protected readonly spatial = 2;
  protected readonly kind = 'max';
  constructor(args: AdaptivePoolingArgs) {
    super(args, 2);
  }
}
/** The layer `st.layers.adaptiveMaxPooling3d` makes. */
export class AdaptiveMaxPooling3D extends AdaptivePooling {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AdaptiveMaxPooling3D';
  protected readonly spatial = 3;
  protected readonly kind = 'max';
  constructor(args: AdaptivePoolingArgs) {
    super(args, 3);
  }
}

for (const cls of [
  AdaptiveAveragePooling1D,
  AdaptiveAveragePooling2D,
  AdaptiveAveragePooling3D,
  AdaptiveMaxPooling1D,
  AdaptiveMaxPooling2D,
  AdaptiveMaxPooling3D,
]) {
  registerLayer(cls.className, (c) => new cls(c as unknown as AdaptivePoolingArgs));
}

/** The adaptive pooling factories, spread into `st.layers` (Keras's names in camelCase). */
export const adaptivePoolingLayers = {
  /** Average pooling of [batch, steps, channels] to `outputSize` steps (Keras's AdaptiveAveragePooling1D). */
  adaptiveAveragePooling1d: (args: AdaptivePoolingArgs) => new AdaptiveAveragePooling1D(args),
  /** Average pooling of NHWC images to `outputSize` (Keras's AdaptiveAveragePooling2D). */
  adaptiveAveragePooling2d: (args: AdaptivePoolingArgs) => new AdaptiveAveragePooling2D(args),
  /** Average pooling of NDHWC volumes to `outputSize` (Keras's AdaptiveAveragePooling3D). */
  adaptiveAveragePooling3d: (args: AdaptivePoolingArgs) => new AdaptiveAveragePooling3D(args),
  /** Max pooling of [batch, steps, channels] to `outputSize` steps (Keras's AdaptiveMaxPooling1D). */
  adaptiveMaxPooling1d: (args: AdaptivePoolingArgs) => new AdaptiveMaxPooling1D(args),
  /** Max pooling of NHWC images to `outputSize` (Keras's AdaptiveMaxPooling2D). */
  adaptiveMaxPooling2d: (args: AdaptivePoolingArgs) => new AdaptiveMaxPooling2D(args),
  /** Max pooling of NDHWC volumes to `outputSize` (Keras's AdaptiveMaxPooling3D). */
  adaptiveMaxPooling3d: (args: AdaptivePoolingArgs) => new AdaptiveMaxPooling3D(args),
};
