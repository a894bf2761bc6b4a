import { noGrad } from '../../tensor/tape.js';
import { ValueError, fmtValue } from '../../core/errors.js';
import { add, mul } from '../../ops/elementwise.js';
import { batchNorm, batchNormTraining, normalize } from '../../ops/normalization.js';
import { moments } from '../../ops/reduction.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { InitializerIdentifier } from '../initializers.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Regularizer } from '../regularizers.js';
import { formatShape, type Shape } from '../symbolic.js';
import { weightConfig } from './dense.js';

/** Options every normalization layer takes. */
export interface CommonNormArgs extends LayerArgs {
  /** Added to the variance before the square root, > 0. Default 1e-3 (Keras's). */
  epsilon?: number;
  /** Whether to add a learned offset (beta). Default true. */
  center?: boolean;
  /** Whether to multiply by a learned scale (gamma). Default true. */
  scale?: boolean;
  /** How beta starts. Default 'zeros'. */
  betaInitializer?: InitializerIdentifier;
  /** How gamma starts. Default 'ones'. */
  gammaInitializer?: InitializerIdentifier;
  /** A penalty on beta added to the loss. Default none. */
  betaRegularizer?: Regularizer | string | null;
  /** A penalty on gamma added to the loss. Default none. */
  gammaRegularizer?: Regularizer | string | null;
}

const COMMON_KEYS = ['epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer', 'betaRegularizer', 'gammaRegularizer'];

/** Normalized axes as non-negative indices for a rank, with a clear error when out of range. */
function resolveAxes(layer: string, axis: number | readonly number[], shape: Shape): number[] {
  const list = typeof axis === 'number' ? [axis] : [...axis];
  if (list.length === 0) throw new ValueError(`${layer}: axis must name at least one axis; received []`);
  if (!list.every(Number.isInteger)) throw new ValueError(`${layer}: axis must be integers; received ${fmtValue(axis)}`);
  const resolved = list
    .map((a) => {
      const r = a < 0 ? a + shape.length : a;
      if (r < 1 || r >= shape.length) {
        throw new ValueError(
          `${layer}: axis ${a} is out of range for inputs of shape ${formatShape(shape)} (the batch axis 0 cannot be normalized over)`,
        );
      }
      return r;
    })
    .sort((x, y) => x - y);
  if (new Set(resolved).size !== resolved.length)
    throw new ValueError(`${layer}: axis names an axis twice; received ${fmtValue(axis)} for inputs of rank ${shape.length}`);
  return resolved;
}

/** gamma/beta shaped to broadcast against x: the sizes of `axes`, 1 elsewhere (batch included). */
function broadcastShape(rank: number, axes: number[], sizes: number[]): number[] {
  const shape = new Array<number>(rank).fill(1);
  axes.forEach((a, i) => (shape[a] = sizes[i]));
  return shape;
}

/** Epsilon, center and scale with their gamma/beta weights: the part every normalization layer shares. */
export abstract class Normalization extends Layer {
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Whether the layer has beta. */
  readonly center: boolean;
  /** Whether the layer has gamma. */
  readonly scale: boolean;
  protected readonly common: CommonNormArgs;
  /** The learned scale; null until built or with `scale: false`. */
  gamma: Tensor | null = null;
  /** The learned offset; null until built or with `center: false`. */
  beta: Tensor | null = null;

  constructor(args: CommonNormArgs, ownKeys: string[], defaultEpsilon: number) {
    super(args as CommonNormArgs & Record<string, unknown>, [...COMMON_KEYS, ...ownKeys]);
    this.epsilon = args.epsilon ?? defaultEpsilon;
    if (typeof this.epsilon !== 'number' || !(this.epsilon > 0))
      throw new ValueError(`${this.name}: epsilon must be a number > 0; received ${fmtValue(args.epsilon)}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.common = args;
  }

  protected addScaleAndCenter(shape: number[]): void {
    if (this.scale)
      this.gamma = this.addWeight('gamma', shape, { initializer: this.common.gammaInitializer ?? 'ones', regularizer: this.common.gammaRegularizer });
    if (this.center)
      this.beta = this.addWeight('beta', shape, { initializer: this.common.betaInitializer ?? 'zeros', regularizer: this.common.betaRegularizer });
  }

  /** The layer's options, as its factory accepts them (Keras's get_config). */
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: weightConfig.initializer(this.common.betaInitializer ?? 'zeros'),
      gammaInitializer: weightConfig.initializer(this.common.gammaInitializer ?? 'ones'),
      betaRegularizer: weightConfig.regularizer(this.common.betaRegularizer),
      gammaRegularizer: weightConfig.regularizer(this.common.gammaRegularizer),
    };
  }
}

/** Options of `st.layers.batchNormalization`. */
export interface BatchNormalizationArgs extends CommonNormArgs {
  /**
   * The features axis, kept (one mean and variance per entry); every other axis is reduced. Default
   * -1 (channels last).
   */
  axis?: number;
  /** How much of the moving statistics each training step keeps, in [0, 1]. Default 0.99. */
  momentum?: number;
  /** How the moving mean starts. Default 'zeros'. */
  movingMeanInitializer?: InitializerIdentifier;
  /** How the moving variance starts. Default 'ones'. */
  movingVarianceInitializer?: InitializerIdentifier;
}

/**
 * Batch normalization over every axis but `axis` (the channels, last by default). Training
 * normalizes with the batch's mean and (population) variance and moves the running statistics
 * toward them (moving = moving·momentum + batch·(1 − momentum)); inference, and a frozen layer
 * (trainable = false, as in Keras fine-tuning), use the running statistics.
 */
export class BatchNormalization extends Normalization {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'BatchNormalization';
  override supportsMasking = true;
  /** The features axis. */
  readonly axis: number;
  /** How much of the moving statistics each training step keeps. */
  readonly momentum: number;
  private readonly own: BatchNormalizationArgs;
  /** The running mean used at inference (not trainable); null until built. */
  movingMean: Tensor | null = null;
  /** The running variance used at inference (not trainable); null until built. */
  movingVariance: Tensor | null = null;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, ['axis', 'momentum', 'movingMeanInitializer', 'movingVarianceInitializer'], 1e-3);
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    if (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new ValueError(`${this.name}: momentum must be a number in [0, 1]; received ${fmtValue(args.momentum)}`);
    }
    this.own = args;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const [a] = resolveAxes(this.name, this.axis, shape);
    const size = [knownDim(this.name, shape, a, `size of axis ${a}`)];
    this.addScaleAndCenter(size);
    this.movingMean = this.addWeight('moving_mean', size, { initializer: this.own.movingMeanInitializer ?? 'zeros', trainable: false });
    this.movingVariance = this.addWeight('moving_variance', size, { initializer: this.own.movingVarianceInitializer ?? 'ones', trainable: false });
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const [a] = resolveAxes(this.name, this.axis, x.shape);
    const bshape = broadcastShape(x.rank, [a], [x.shape[a]]);
    const view = (t: Tensor | null) => (t ? reshape(t, bshape) : undefined);
    if (options.training && this.trainable && a === x.rank - 1) {
      // Channels last: statistics and normalization as fused kernels where the backend has them.
      const { y, mean, variance } = batchNormTraining(x, { scale: this.gamma ?? undefined, offset: this.beta ?? undefined, epsilon: this.epsilon });
      this.updateMovingStatistics(mean, variance);
      return y;
    }
    if (options.training && this.trainable) {
      const reduceAxes = x.shape.map((_, i) => i).filter((i) => i !== a);
      const { mean, variance } = moments(x, reduceAxes, true);
      this.updateMovingStatistics(reshape(mean, [x.shape[a]]), reshape(variance, [x.shape[a]]));
      return batchNorm(x, mean, variance, view(this.beta), view(this.gamma), this.epsilon);
    }
    return batchNorm(x, view(this.movingMean)!, view(this.movingVariance)!, view(this.beta), view(this.gamma), this.epsilon);
  }

  private updateMovingStatistics(mean: Tensor, variance: Tensor): void {
    const m = this.momentum;
    noGrad(() => {
      this.movingMean!.assign(add(mul(this.movingMean!, m), mul(mean, 1 - m)));
      this.movingVariance!.assign(add(mul(this.movingVariance!, m), mul(variance, 1 - m)));
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      movingMeanInitializer: weightConfig.initializer(this.own.movingMeanInitializer ?? 'zeros'),
      movingVarianceInitializer: weightConfig.initializer(this.own.movingVarianceInitializer ?? 'ones'),
    };
  }
}

/** Options of `st.layers.layerNormalization`. */
export interface LayerNormalizationArgs extends CommonNormArgs {
  /** The axis or axes each sample is normalized over (not the batch axis). Default -1. */
  axis?: number | readonly number[];
}

/** Normalizes each sample over `axis` (the last by default) with its own mean and variance. */
export class LayerNormalization extends Normalization {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'LayerNormalization';
  override supportsMasking = true;
  /** The axis or axes each sample is normalized over. */
  readonly axis: number | readonly number[];

  constructor(args: LayerNormalizationArgs = {}) {
    super(args, ['axis'], 1e-3);
    this.axis = args.axis ?? -1;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const axes = resolveAxes(this.name, this.axis, shape);
    this.addScaleAndCenter(axes.map((a) => knownDim(this.name, shape, a, `size of axis ${a}`)));
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const axes = resolveAxes(this.name, this.axis, x.shape);
    const bshape = broadcastShape(
      x.rank,
      axes,
      axes.map((a) => x.shape[a]),
    );
    // normalize runs the fused layer-norm kernel when axes is just the last one.
    const view = (t: Tensor | null) => (t ? reshape(t, bshape) : undefined);
    return normalize(x, { axis: axes, scale: view(this.gamma), offset: view(this.beta), epsilon: this.epsilon });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

registerLayer('BatchNormalization', (c) => new BatchNormalization(c as BatchNormalizationArgs));
registerLayer('LayerNormalization', (c) => new LayerNormalization(c as LayerNormalizationArgs));
