// Layers that rearrange or pass values without weights: Permute, RepeatVector, Identity, and
// Masking (which marks padded time steps for the recurrent and attention layers).
import type { DType } from '../../core/dtype.js';
import { ValueError, fmtValue } from '../../core/errors.js';
import { cast, mul, notEqual } from '../../ops/elementwise.js';
import { any } from '../../ops/numpy-extra.js';
import { broadcastTo, expandDims, squeeze, transpose } from '../../ops/shape-ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type CallOptions, Layer, type LayerArgs, singleShape } from '../layer.js';
import { registerLayer } from '../registry.js';
import type { Shape } from '../symbolic.js';
import { requireRank } from './conv-options.js';

/** Options of `st.layers.permute`. */
export interface PermuteArgs extends LayerArgs {
  /** A permutation of 1..rank-1 (the batch axis 0 stays first): [2, 1] swaps the two axes of a sample. */
  dims: readonly number[];
}

/** Permutes the axes of each sample (Keras's Permute): output axis i + 1 is input axis dims[i]. */
export class Permute extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Permute';
  /** The permutation of the non-batch axes, 1-based. */
  readonly dims: number[];

  constructor(args: PermuteArgs) {
    super(args as PermuteArgs & Record<string, unknown>, ['dims']);
    const d = args.dims;
    const ok = Array.isArray(d) && d.length > 0 && [...d].sort((a, b) => a - b).every((v, i) => v === i + 1);
    if (!ok)
      throw new ValueError(
        `${this.name}: dims must be a permutation of 1..${Array.isArray(d) ? d.length : 'n'} (the batch axis is not permuted); received ${fmtValue(d)}`,
      );
    this.dims = [...d];
  }

  private check(shape: Shape): Shape {
    return requireRank(this.name, shape, this.dims.length + 1, `(batch plus the ${this.dims.length} axes that dims permutes)`);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    this.check(x.shape);
    return transpose(x, [0, ...this.dims]);
  }

  protected override computeOutputDtype(inputDtypes: DType[]): DType {
    return inputDtypes[0];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = this.check(singleShape(this.name, inputShape));
    return [s[0], ...this.dims.map((d) => s[d])];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dims: this.dims };
  }
}

/** Options of `st.layers.repeatVector`. */
export interface RepeatVectorArgs extends LayerArgs {
  /** How many times the vector is repeated: [batch, features] becomes [batch, n, features]. */
  n: number;
}

/** Repeats each sample's vector n times along a new axis 1 (Keras's RepeatVector). */
export class RepeatVector extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RepeatVector';
  /** The number of repetitions. */
  readonly n: number;

  constructor(args: RepeatVectorArgs) {
    super(args as RepeatVectorArgs & Record<string, unknown>, ['n']);
    if (!Number.isInteger(args.n) || args.n < 1) throw new ValueError(`${this.name}: n must be a positive integer; received ${fmtValue(args.n)}`);
    this.n = args.n;
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    const [batch, features] = requireRank(this.name, x.shape, 2, '[batch, features]') as number[];
    // A broadcast, whose gradient sums the n copies back.
    return broadcastTo(expandDims(x, 1), [batch, this.n, features]);
  }

  protected override computeOutputDtype(inputDtypes: DType[]): DType {
    return inputDtypes[0];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [batch, features] = requireRank(this.name, singleShape(this.name, inputShape), 2, '[batch, features]');
    return [batch, this.n, features];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), n: this.n };
  }
}

/** Returns its input unchanged, mask included (Keras's Identity): a placeholder in a model. */
export class Identity extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Identity';
  override supportsMasking = true;

  constructor(args: LayerArgs = {}) {
    super(args as LayerArgs & Record<string, unknown>, []);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor | Tensor[] {
    return inputs;
  }

  protected override computeOutputDtype(inputDtypes: DType[]): DType {
    return inputDtypes[0];
  }
}

/** Options of `st.layers.masking`. */
export interface MaskingArgs extends LayerArgs {
  /** Time steps whose features all equal it are masked. Default 0. */
  maskValue?: number;
}

/**
 * Marks padded time steps (Keras's Masking): a step of [batch, steps, features] whose features
 * all equal maskValue is masked, its output set to 0, and the [batch, steps] mask travels with
 * the output to the recurrent, attention, pooling and softmax layers that use it (Note [Masks]).
 */
export class Masking extends Layer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'Masking';
  override supportsMasking = true;
  /** The value that marks padding. */
  readonly maskValue: number;

  constructor(args: MaskingArgs = {}) {
    super(args as MaskingArgs & Record<string, unknown>, ['maskValue']);
    const v = args.maskValue ?? 0;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(`${this.name}: maskValue must be a number; received ${fmtValue(v)}`);
    this.maskValue = v;
  }

  /** True at the steps with some feature different from maskValue, keeping the last axis. */
  private kept(x: Tensor): Tensor {
    if (x.rank < 2) throw new ValueError(`${this.name}: expects inputs of rank >= 2 (the last axis holds the features); received rank ${x.rank}`);
    return any(notEqual(x, this.maskValue), -1, true);
  }

  call(inputs: Tensor | Tensor[], _options: CallOptions): Tensor {
    const x = inputs as Tensor;
    return mul(x, cast(this.kept(x), x.dtype));
  }

  override computeMask(inputs: Tensor | Tensor[], _mask: Tensor | (Tensor | null)[] | null): Tensor {
    return squeeze(this.kept(inputs as Tensor), -1);
  }

  protected override computeOutputDtype(inputDtypes: DType[]): DType {
    return inputDtypes[0];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), maskValue: this.maskValue };
  }
}

registerLayer('Permute', (c) => new Permute(c as unknown as PermuteArgs));
registerLayer('RepeatVector', (c) => new RepeatVector(c as unknown as RepeatVectorArgs));
registerLayer('Identity', (c) => new Identity(c as LayerArgs));
registerLayer('Masking', (c) => new Masking(c as MaskingArgs));
