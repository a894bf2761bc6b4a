// Keras 3's GroupNormalization and UnitNormalization, composites of moments/batchNorm and
// reductions (gradients come from the primitives' rules).

import { ValueError, fmtValue } from '../../core/errors.js';
import { normalizeAxes } from '../../core/shape.js';
import { cast, maximum, mul, rsqrt, square } from '../../ops/elementwise.js';
import { batchNorm } from '../../ops/normalization.js';
import { moments, sum } from '../../ops/reduction.js';
import { reshape } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Layer, knownDim, singleShape, type CallOptions, type LayerArgs } from '../layer.js';
import { Normalization, type CommonNormArgs } from './normalization.js';
import { registerLayer } from '../registry.js';
import { formatShape, type Shape } from '../symbolic.js';

/** Options of `st.layers.groupNormalization`. */
export interface GroupNormalizationArgs extends CommonNormArgs {
  /** Number of channel groups (default 32); it must divide the channels. -1 means one group per channel (instance normalization). */
  groups?: number;
  /** The channels axis (default -1). */
  axis?: number;
}

const GROUP_KEYS = ['groups', 'axis'];

/**
 * Splits the channels into `groups` contiguous groups and normalizes each sample's group over
 * the group's channels and every other non-batch axis, then applies per-channel gamma and beta
 * (weights [channels], gamma first). groups = channels is instance normalization; groups = 1
 * normalizes each sample over everything, like layer normalization over all its axes.
 */
export class GroupNormalization extends Normalization {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'GroupNormalization';
  override supportsMasking = true;
  /** The number of channel groups (-1: one per channel). */
  readonly groups: number;
  /** The channels axis. */
  readonly axis: number;

  constructor(args: GroupNormalizationArgs = {}) {
    super(args, GROUP_KEYS, 1e-3);
    this.groups = args.groups ?? 32;
    if (!Number.isInteger(this.groups) || !(this.groups >= 1 || this.groups === -1)) {
      throw new ValueError(`${this.name}: groups must be a positive integer or -1 (one group per channel); received ${fmtValue(args.groups)}`);
    }
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new ValueError(`${this.name}: axis must be an integer; received ${fmtValue(args.axis)}`);
  }

  /** The channels axis as a non-negative index (never the batch axis). */
  private channelAxis(shape: Shape): number {
    const a = this.axis < 0 ? this.axis + shape.length : this.axis;
    if (a < 1 || a >= shape.length) {
      throw new ValueError(
        `${this.name}: axis ${this.axis} is out of range for inputs of shape ${formatShape(shape)} (the batch axis 0 cannot be the channels axis)`,
      );
    }
    return a;
  }

  /** The number of groups for this many channels, checked. */
  private groupCount(channels: number): number {
    const g = this.groups === -1 ? channels : this.groups;
    if (g > channels) throw new ValueError(`${this.name}: the number of groups (${g}) cannot be more than the number of channels (${channels})`);
    if (channels % g !== 0)
      throw new ValueError(`${this.name}: the number of channels (${channels}) must be a multiple of the number of groups (${g})`);
    return g;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const a = this.channelAxis(shape);
    const channels = knownDim(this.name, shape, a, `channels axis ${a}`);
    this.groupCount(channels);
    this.addScaleAndCenter([channels]);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const a = this.channelAxis(x.shape);
    const channels = x.shape[a];
    const g = this.groupCount(channels);
    // [..., C, ...] → [..., G, C/G, ...]: statistics over every axis but the batch and the group.
    const grouped = [...x.shape.slice(0, a), g, channels / g, ...x.shape.slice(a + 1)];
    const reduceAxes = grouped.map((_, i) => i).filter((i) => i !== 0 && i !== a);
    const xg = reshape(x, grouped);
    const { mean, variance } = moments(xg, reduceAxes, true);
    const perChannel = grouped.map((d, i) => (i === a || i === a + 1 ? d : 1));
    const view = (t: Tensor | null) => (t ? reshape(t, perChannel) : undefined);
    return reshape(batchNorm(xg, mean, variance, view(this.beta), view(this.gamma), this.epsilon), x.shape);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), groups: this.groups, axis: this.axis };
  }
}

/** Options of `st.layers.unitNormalization`. */
export interface UnitNormalizationArgs extends LayerArgs {
  /** The axis or axes whose L2 norm becomes 1 (default -1). */
  axis?: number | readonly number[];
}

/**
 * Scales each vector along `axis` to unit L2 norm: x · rsqrt(max(Σx², 1e-12)), Keras 3's form
 * (the epsilon bounds the squared norm, so an all-zero vector stays zero).
 */
export class UnitNormalization extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'UnitNormalization';
  override supportsMasking = true;
  /** The axis or axes each vector spans. */
  readonly axis: number | readonly number[];

  constructor(args: UnitNormalizationArgs = {}) {
    super(args as UnitNormalizationArgs & Record<string, unknown>, ['axis']);
    const axis = args.axis ?? -1;
    const ok = (v: unknown) => Number.isInteger(v);
    if (!(ok(axis) || (Array.isArray(axis) && axis.length > 0 && axis.every(ok)))) {
      throw new ValueError(`${this.name}: axis must be an integer or a non-empty list of integers; received ${fmtValue(args.axis)}`);
    }
    this.axis = typeof axis === 'number' ? axis : [...axis];
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = cast(inputs as Tensor, this.dtype);
    const axes = normalizeAxes(this.name, this.axis, x.rank);
    return mul(x, rsqrt(maximum(sum(square(x), axes, true), 1e-12)));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}

registerLayer('GroupNormalization', (c) => new GroupNormalization(c as GroupNormalizationArgs));
registerLayer('UnitNormalization', (c) => new UnitNormalization(c as UnitNormalizationArgs));
