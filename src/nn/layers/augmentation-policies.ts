// Keras 3's augmentation policies RandAugment and AugMix: compositions of Strata's own
// augmentation layers (each checked against its Keras definition), built with Keras's factors
// from one strength and applied in Keras's op lists while training.
import { ValueError, fmtValue } from '../../core/errors.js';
import { checkOneOf } from '../../core/options.js';
import { add, clip, mul } from '../../ops/elementwise.js';
import { randomGamma } from '../../ops/random-extra.js';
import type { Tensor } from '../../tensor/tensor.js';
import { INTERPOLATIONS, type Interpolation } from '../image-sampling.js';
import type { CallOptions, Layer, LayerArgs } from '../layer.js';
import { registerLayer } from '../registry.js';
import { AutoContrast, RandomBrightness, RandomColorDegeneration, RandomPosterization, RandomSharpness, Solarization } from './color-augmentation.js';
import { Equalization } from './equalization.js';
import { RandomImageLayer, type Bounds } from './image-layer.js';
import { RandomContrast } from './random-intensity.js';
import { RandomRotation, RandomTranslation } from './random-geometric.js';
import { RandomShear } from './random-shear.js';

/** Keras's op list of RandAugment and of AugMix with allOps (AugMix's basic list is the first seven). */
export const POLICY_OPS = [
  'randomShear',
  'randomTranslation',
  'randomRotation',
  'randomPosterization',
  'solarization',
  'autoContrast',
  'equalization',
  'randomBrightness',
  'randomColorDegeneration',
  'randomContrast',
  'randomSharpness',
] as const;

/** RandAugment's order of the same ops (Keras's _AUGMENT_LAYERS), as indices into POLICY_OPS. */
export const RAND_AUGMENT_ORDER = [0, 1, 2, 7, 8, 9, 10, 3, 4, 5, 6];

/** A seed for the op at `index` of a policy seeded `seed` (null: the global stream). */
const opSeed = (seed: number | null, index: number) => (seed === null ? null : seed + 7919 * (index + 1));

/**
 * The augmentation layers of Keras's policies for a strength [0, hi] (factor pair `f`), in
 * POLICY_OPS order: shear, translation and rotation with factor f, posterization with
 * max(1, trunc(8·hi)) bits, solarization with f for addition and threshold, brightness, colour
 * degeneration, contrast and sharpness with f (Keras's constructions). Exported for the tests.
 */
export function policyLayers(f: Bounds, valueRange: Bounds, interpolation: Interpolation, seed: number | null): Layer[] {
  const s = (i: number) => opSeed(seed, i);
  return [
    new RandomShear({ xFactor: f, yFactor: f, interpolation, seed: s(0) }),
    new RandomTranslation({ heightFactor: f, widthFactor: f, interpolation, seed: s(1) }),
    new RandomRotation({ factor: f, interpolation, seed: s(2) }),
    new RandomPosterization({ factor: Math.max(1, Math.trunc(8 * f[1])), valueRange, seed: s(3) }),
    new Solarization({ additionFactor: f, thresholdFactor: f, valueRange, seed: s(4) }),
    new AutoContrast({ valueRange }),
    new Equalization({ valueRange }),
    new RandomBrightness({ factor: f, valueRange, seed: s(7) }),
    new RandomColorDegeneration({ factor: f, valueRange, seed: s(8) }),
    new RandomContrast({ factor: f, valueRange, seed: s(9) }),
    new RandomSharpness({ factor: f, valueRange, seed: s(10) }),
  ];
}

/** A strength: f in [0, 1] means [0, f]; a pair must lie in [0, 1] (Keras's bounds for both policies). */
function strength(layer: string, f: unknown): Bounds {
  let r: Bounds | null = null;
  if (typeof f === 'number' && Number.isFinite(f)) r = [0, Math.abs(f)];
  else if (Array.isArray(f) && f.length === 2 && f.every((x) => typeof x === 'number' && Number.isFinite(x)))
    r = f[0] <= f[1] ? [f[0], f[1]] : [f[1], f[0]];
  if (!r || r[0] < 0 || r[1] > 1) throw new ValueError(`${layer}: factor must be a number or a pair of numbers in [0, 1]; received ${fmtValue(f)}`);
  return r;
}

function valueRangeOf(layer: string, v: unknown): Bounds {
  const r = v ?? [0, 255];
  if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'number' && Number.isFinite(x)) || r[0] === r[1])
    throw new ValueError(`${layer}: valueRange must be two different finite numbers [low, high]; received ${fmtValue(v)}`);
  return r[0] < r[1] ? [r[0], r[1]] : [r[1], r[0]];
}

function count(layer: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new ValueError(`${layer}: ${name} must be an integer >= ${min}; received ${fmtValue(v)}`);
  return v;
}

/** Options of `st.layers.randAugment`. */
export interface RandAugmentArgs extends LayerArgs {
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** How many ops are applied in turn. Default 2. */
  numOps?: number;
  /** The strength, f in [0, 1] (meaning [0, f]) or a pair: every op's factor. Default 0.5. */
  factor?: number | readonly [number, number];
  /** 'bilinear' (default) or 'nearest', for the geometric ops. */
  interpolation?: Interpolation;
  /** A seed for reproducible draws (the ops get seeds derived from it); default: the global stream. */
  seed?: number | null;
}

/**
 * RandAugment (Keras 3.16's RandAugment): while training, `numOps` ops drawn uniformly (with
 * replacement, one choice for the whole batch) from Keras's eleven — shear, translation,
 * rotation, brightness, colour degeneration, contrast, sharpness, posterization, solarization,
 * auto-contrast, equalization — and applied in turn, each with its own per-image draws. (Keras
 * draws each op's transformation once per call, so an op chosen twice repeats its draws; here it
 * draws again.)
 */
export class RandAugment extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'RandAugment';
  /** The range of the values. */
  readonly valueRange: Bounds;
  /** How many ops are applied. */
  readonly numOps: number;
  /** The strength range. */
  readonly factor: Bounds;
  /** The geometric ops' interpolation. */
  readonly interpolation: Interpolation;
  private readonly ops: Layer[];

  constructor(args: RandAugmentArgs = {}) {
    super(args as RandAugmentArgs & Record<string, unknown>, ['valueRange', 'numOps', 'factor', 'interpolation']);
    this.valueRange = valueRangeOf(this.name, args.valueRange);
    this.numOps = count(this.name, 'numOps', args.numOps ?? 2, 0);
    this.factor = strength(this.name, args.factor ?? 0.5);
    this.interpolation = checkOneOf(this.name, 'interpolation', args.interpolation ?? 'bilinear', INTERPOLATIONS);
    this.ops = policyLayers(this.factor, this.valueRange, this.interpolation, this.seed);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training || this.numOps === 0) return this.fromBatch(images, single);
    let x = images;
    for (const u of this.uniforms(1, this.numOps)) {
      const op = this.ops[RAND_AUGMENT_ORDER[Math.min(Math.floor(u * 11), 10)]];
      x = op.apply(x, { training: true }) as Tensor;
    }
    return this.fromBatch(x, single);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      valueRange: this.valueRange,
      numOps: this.numOps,
      factor: this.factor,
      interpolation: this.interpolation,
      seed: this.seed,
    };
  }
}

/** Options of `st.layers.augMix`. */
export interface AugMixArgs extends LayerArgs {
  /** The range of the values. Default [0, 255]. */
  valueRange?: readonly [number, number];
  /** How many chains are mixed. Default 3. */
  numChains?: number;
  /** The most ops per chain (each step may pick no op). Default 3. */
  chainDepth?: number;
  /** The strength, f in [0, 1] (meaning [0, f]) or a pair. Default 0.3. */
  factor?: number | readonly [number, number];
  /** The Dirichlet and Beta concentration. Default 1. */
  alpha?: number;
  /** All eleven ops (default) or only the seven that do not overlap ImageNet-C's corruptions. */
  allOps?: boolean;
  /** 'bilinear' (default) or 'nearest', for the geometric ops. */
  interpolation?: Interpolation;
  /** A seed for reproducible draws (the ops get seeds derived from it); default: the global stream. */
  seed?: number | null;
}

/**
 * AugMix (Keras 3.16's AugMix): while training, `numChains` chains of up to `chainDepth` ops (each
 * step picks an op or none, uniformly, once for the batch) are mixed with Dirichlet(alpha) weights
 * w, and the result with the input by m ~ Beta(alpha, alpha): clip(m·x + (1 − m)·Σ w_k chain_k(x))
 * to valueRange. Draws per call from the layer's stream: a row of 2 + numChains·chainDepth
 * uniforms — a seed for the Gamma draws (Dirichlet from numChains Gammas, Beta from two more),
 * one not used, then the op picks.
 */
export class AugMix extends RandomImageLayer {
  /** The class name that saved configs (model.json) store and `layers.deserialize` looks up. */
  static readonly className = 'AugMix';
  /** The range of the values. */
  readonly valueRange: Bounds;
  /** How many chains. */
  readonly numChains: number;
  /** The most ops per chain. */
  readonly chainDepth: number;
  /** The strength range. */
  readonly factor: Bounds;
  /** The Dirichlet and Beta concentration. */
  readonly alpha: number;
  /** Whether all eleven ops are used. */
  readonly allOps: boolean;
  /** The geometric ops' interpolation. */
  readonly interpolation: Interpolation;
  private readonly ops: Layer[];

  constructor(args: AugMixArgs = {}) {
    super(args as AugMixArgs & Record<string, unknown>, ['valueRange', 'numChains', 'chainDepth', 'factor', 'alpha', 'allOps', 'interpolation']);
    this.valueRange = valueRangeOf(this.name, args.valueRange);
    this.numChains = count(this.name, 'numChains', args.numChains ?? 3, 1);
    this.chainDepth = count(this.name, 'chainDepth', args.chainDepth ?? 3, 1);
    this.factor = strength(this.name, args.factor ?? 0.3);
    const alpha = args.alpha ?? 1;
    if (typeof alpha !== 'number' || !(alpha > 0) || !Number.isFinite(alpha))
      throw new ValueError(`${this.name}: alpha must be a positive number; received ${fmtValue(args.alpha)}`);
    this.alpha = alpha;
    this.allOps = args.allOps ?? true;
    this.interpolation = checkOneOf(this.name, 'interpolation', args.interpolation ?? 'bilinear', INTERPOLATIONS);
    this.ops = policyLayers(this.factor, this.valueRange, this.interpolation, this.seed).slice(0, this.allOps ? 11 : 7);
  }

  call(inputs: Tensor | Tensor[], options: CallOptions): Tensor {
    const { images, single } = this.toBatch(inputs as Tensor);
    if (!options.training) return this.fromBatch(images, single);
    const steps = this.numChains * this.chainDepth;
    const u = this.uniforms(1, 2 + steps);
    const g = randomGamma([this.numChains + 2], this.alpha, 1, 'float32', Math.floor(u[0] * 2 ** 31));
    // Drawn on the host: a GPU backend keeps the host copy, so no device read.
    const gammas = Array.from((g.hostValues() ?? g.dataSync()) as ArrayLike<number>);
    g.dispose();
    const total = gammas.slice(0, this.numChains).reduce((a, b) => a + b, 0);
    const m = gammas[this.numChains] / (gammas[this.numChains] + gammas[this.numChains + 1]);
    let mixed: Tensor | null = null;
    for (let k = 0; k < this.numChains; k++) {
      let x = images;
      for (let d = 0; d < this.chainDepth; d++) {
        // Keras's py_random.choice over the ops and None (no op at this step).
        const pick = Math.min(Math.floor(u[2 + k * this.chainDepth + d] * (this.ops.length + 1)), this.ops.length);
        if (pick < this.ops.length) x = this.ops[pick].apply(x, { training: true }) as Tensor;
      }
      const weighted = mul(x, gammas[k] / total);
      mixed = mixed === null ? weighted : add(mixed, weighted);
    }
    const out = clip(add(mul(images, m), mul(mixed as Tensor, 1 - m)), this.valueRange[0], this.valueRange[1]);
    return this.fromBatch(out, single);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      valueRange: this.valueRange,
      numChains: this.numChains,
      chainDepth: this.chainDepth,
      factor: this.factor,
      alpha: this.alpha,
      allOps: this.allOps,
      interpolation: this.interpolation,
      seed: this.seed,
    };
  }
}

registerLayer('RandAugment', (c) => new RandAugment(c as RandAugmentArgs));
registerLayer('AugMix', (c) => new AugMix(c as AugMixArgs));
