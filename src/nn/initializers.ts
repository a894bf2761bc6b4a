import type { DType } from '../core/dtype.js';
import { ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { fillRandom, nextStream } from '../core/rng.js';
import { sizeOf } from '../core/shape.js';
import { full, randomNormal, randomUniform, tensor, truncatedNormal } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

// Initializers with Keras 3's names, formulas and defaults (option names in camelCase).
//
// Note [Seeds of initializers]
// With a `seed`, an initializer gives the same values at every call, as a Keras 3 initializer
// seeded with an integer does. Without one, each call draws from the global stream, so
// `st.setSeed` makes a whole model's initialization reproducible and two layers sharing one
// initializer object still get different weights. Keras 3 differs here: an unseeded initializer
// picks a random seed when it is constructed and then repeats its values at every call.

/** A weight initializer (Keras's `keras.initializers.Initializer`), from `st.initializers`. */
export interface Initializer {
  /** The Keras class name, e.g. 'GlorotUniform'; `getInitializer` accepts it back. */
  readonly className: string;
  /** New values of `shape` and `dtype` (float32 by default). */
  init(shape: readonly number[], dtype?: DType): Tensor;
  /** The options that rebuild it, as model.json stores them. */
  getConfig(): Record<string, unknown>;
}

/**
 * What layers take as an initializer: a name ('glorotUniform', 'he_normal', 'zeros', ...), an
 * initializer, or its serialized `{className, config}` form.
 */
export type InitializerIdentifier =
  | string
  | Initializer
  | {
      /** The Keras class name. */
      className: string;
      /** Its options. */
      config?: Record<string, unknown>;
    };

/**
 * A seed makes the initializer draw the same values every time; none draws from the global
 * stream (st.setSeed).
 * @inline
 */
type Seed = number | null | undefined;

function checkSeed(op: string, seed: Seed): number | undefined {
  if (seed === undefined || seed === null) return undefined;
  if (!Number.isInteger(seed)) throw new ValueError(`${op}: seed must be an integer or null; received ${seed}`);
  return seed;
}

function checkNumber(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ValueError(`${op}: ${name} must be a finite number; received ${fmtValue(value)}`);
  }
  return value;
}

/**
 * Keras's fans: a scalar counts 1; a vector its length for both; a matrix [fanIn, fanOut]; a
 * convolution kernel [...spatial, in, out] multiplies in and out by the receptive field size.
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const rank = shape.length;
  if (rank === 0) return { fanIn: 1, fanOut: 1 };
  if (rank === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = sizeOf(shape.slice(0, rank - 2));
  return { fanIn: shape[rank - 2] * receptive, fanOut: shape[rank - 1] * receptive };
}

// ---- constant initializers ---------------------------------------------------------------------

class Constant implements Initializer {
  constructor(
    readonly className: string,
    readonly value: number,
    private readonly withConfig: boolean,
  ) {}
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return full(shape, this.value, dtype);
  }
  getConfig(): Record<string, unknown> {
    return this.withConfig ? { value: this.value } : {};
  }
}

export const zeros = (options: Record<string, never> = {}): Initializer => {
  checkKeys('zeros', options, []);
  return new Constant('Zeros', 0, false);
};
export const ones = (options: Record<string, never> = {}): Initializer => {
  checkKeys('ones', options, []);
  return new Constant('Ones', 1, false);
};
/** Options of `st.initializers.constant`. */
export interface ConstantOptions {
  /** The value of every element. Default 0. */
  value?: number;
}
export function constant(options: ConstantOptions = {}): Initializer {
  checkKeys('constant', options, ['value']);
  return new Constant('Constant', checkNumber('constant', 'value', options.value ?? 0), true);
}

// ---- plain random initializers -----------------------------------------------------------------

/** Options of `st.initializers.randomNormal` and `truncatedNormal`. */
export interface RandomNormalOptions {
  /** Default 0. */
  mean?: number;
  /** Default 0.05. */
  stddev?: number;
  /** Fixes the values; default: the global stream. */
  seed?: Seed;
}
/** Options of `st.initializers.randomUniform`. */
export interface RandomUniformOptions {
  /** The lower bound. Default -0.05. */
  minval?: number;
  /** The upper bound. Default 0.05. */
  maxval?: number;
  /** Fixes the values; default: the global stream. */
  seed?: Seed;
}

class RandomNormal implements Initializer {
  constructor(
    readonly className: 'RandomNormal' | 'TruncatedNormal',
    readonly mean: number,
    readonly stddev: number,
    readonly seed?: number,
  ) {}
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const sample = this.className === 'TruncatedNormal' ? truncatedNormal : randomNormal;
    return sample(shape, { mean: this.mean, stddev: this.stddev, seed: this.seed, dtype });
  }
  getConfig(): Record<string, unknown> {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed ?? null };
  }
}

function normalFactory(op: string, className: 'RandomNormal' | 'TruncatedNormal') {
  return (options: RandomNormalOptions = {}): Initializer => {
    checkKeys(op, options, ['mean', 'stddev', 'seed']);
    const mean = checkNumber(op, 'mean', options.mean ?? 0);
    const stddev = checkNumber(op, 'stddev', options.stddev ?? 0.05);
    if (stddev < 0) throw new ValueError(`${op}: stddev must be >= 0; received ${stddev}`);
    return new RandomNormal(className, mean, stddev, checkSeed(op, options.seed));
  };
}
/** Normal values, mean 0 and stddev 0.05 by default. */
export const randomNormalInitializer = normalFactory('randomNormal', 'RandomNormal');
/** Normal values redrawn beyond two standard deviations (mean 0, stddev 0.05 by default). */
export const truncatedNormalInitializer = normalFactory('truncatedNormal', 'TruncatedNormal');

class RandomUniform implements Initializer {
  readonly className = 'RandomUniform';
  constructor(
    readonly minval: number,
    readonly maxval: number,
    readonly seed?: number,
  ) {}
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return randomUniform(shape, { min: this.minval, max: this.maxval, seed: this.seed, dtype });
  }
  getConfig(): Record<string, unknown> {
    return { minval: this.minval, maxval: this.maxval, seed: this.seed ?? null };
  }
}

/** Uniform values in [minval, maxval), [-0.05, 0.05) by default. */
export function randomUniformInitializer(options: RandomUniformOptions = {}): Initializer {
  checkKeys('randomUniform', options, ['minval', 'maxval', 'seed']);
  const minval = checkNumber('randomUniform', 'minval', options.minval ?? -0.05);
  const maxval = checkNumber('randomUniform', 'maxval', options.maxval ?? 0.05);
  if (!(maxval >= minval)) throw new ValueError(`randomUniform: maxval must be >= minval; received minval ${minval}, maxval ${maxval}`);
  return new RandomUniform(minval, maxval, checkSeed('randomUniform', options.seed));
}

// ---- variance scaling --------------------------------------------------------------------------

/** Which size scales the variance: the inputs per unit, the outputs, or their mean. */
export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
/** The distribution varianceScaling samples (snake_case spellings are accepted too). */
export type ScalingDistribution = 'truncatedNormal' | 'untruncatedNormal' | 'uniform';
/** Options of `st.initializers.varianceScaling`. */
export interface VarianceScalingOptions {
  /** The variance's numerator. Default 1. */
  scale?: number;
  /** Default 'fanIn'. */
  mode?: FanMode;
  /** Default 'truncatedNormal'. */
  distribution?: ScalingDistribution;
  /** Fixes the values; default: the global stream. */
  seed?: Seed;
}

const MODES: readonly FanMode[] = ['fanIn', 'fanOut', 'fanAvg'];
const DISTRIBUTIONS: readonly ScalingDistribution[] = ['truncatedNormal', 'untruncatedNormal', 'uniform'];
// The standard deviation of a unit normal truncated to [-2, 2]: dividing by it makes the
// truncated samples' stddev the one asked for.
const TRUNCATED_STDDEV = 0.87962566103423978;

// Keras configs spell these in snake_case; accepting both lets such configs load.
const camel = (s: unknown) => (typeof s === 'string' ? s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : s);

class VarianceScaling implements Initializer {
  constructor(
    readonly className: string,
    readonly scale: number,
    readonly mode: FanMode,
    readonly distribution: ScalingDistribution,
    readonly seed?: number,
    private readonly preset = false,
  ) {}

  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const { fanIn, fanOut } = computeFans(shape);
    const n = this.mode === 'fanIn' ? fanIn : this.mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2;
    const variance = this.scale / Math.max(1, n);
    switch (this.distribution) {
      case 'truncatedNormal':
        return truncatedNormal(shape, { stddev: Math.sqrt(variance) / TRUNCATED_STDDEV, seed: this.seed, dtype });
      case 'untruncatedNormal':
        return randomNormal(shape, { stddev: Math.sqrt(variance), seed: this.seed, dtype });
      case 'uniform': {
        const limit = Math.sqrt(3 * variance);
        return randomUniform(shape, { min: -limit, max: limit, seed: this.seed, dtype });
      }
    }
  }

  getConfig(): Record<string, unknown> {
    // The named presets (GlorotUniform, HeNormal, ...) fix everything but the seed, as in Keras.
    if (this.preset) return { seed: this.seed ?? null };
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed ?? null };
  }
}

/** Samples with variance scale / n, n the fan chosen by `mode` (Keras defaults: 1, fanIn, truncatedNormal). */
export function varianceScaling(options: VarianceScalingOptions = {}): Initializer {
  const op = 'varianceScaling';
  checkKeys(op, options, ['scale', 'mode', 'distribution', 'seed']);
  const scale = checkNumber(op, 'scale', options.scale ?? 1);
  if (!(scale > 0)) throw new ValueError(`${op}: scale must be positive; received ${scale}`);
  const mode = checkOneOf(op, 'mode', camel(options.mode ?? 'fanIn'), MODES);
  // Keras reads 'normal' as the truncated normal.
  const rawDistribution = camel(options.distribution ?? 'truncatedNormal');
  const distribution = checkOneOf(op, 'distribution', rawDistribution === 'normal' ? 'truncatedNormal' : rawDistribution, DISTRIBUTIONS);
  return new VarianceScaling('VarianceScaling', scale, mode, distribution, checkSeed(op, options.seed));
}

/** Options of the Glorot, He and LeCun initializers. */
export interface SeedOptions {
  /** Fixes the values; default: the global stream. */
  seed?: Seed;
}

function preset(op: string, className: string, scale: number, mode: FanMode, distribution: ScalingDistribution) {
  return (options: SeedOptions = {}): Initializer => {
    checkKeys(op, options, ['seed']);
    return new VarianceScaling(className, scale, mode, distribution, checkSeed(op, options.seed), true);
  };
}
export const glorotUniform = preset('glorotUniform', 'GlorotUniform', 1, 'fanAvg', 'uniform');
export const glorotNormal = preset('glorotNormal', 'GlorotNormal', 1, 'fanAvg', 'truncatedNormal');
export const heUniform = preset('heUniform', 'HeUniform', 2, 'fanIn', 'uniform');
export const heNormal = preset('heNormal', 'HeNormal', 2, 'fanIn', 'truncatedNormal');
export const lecunUniform = preset('lecunUniform', 'LecunUniform', 1, 'fanIn', 'uniform');
export const lecunNormal = preset('lecunNormal', 'LecunNormal', 1, 'fanIn', 'truncatedNormal');

// ---- orthogonal and identity -------------------------------------------------------------------

/**
 * The Q factor of a tall matrix (rows >= cols, row-major) with a positive diagonal in R: modified
 * Gram-Schmidt, each column orthogonalized twice ("twice is enough", Giraud et al. 2005) so Q
 * stays orthogonal to rounding even for nearly dependent columns. A positive diagonal is what
 * the QR-then-sign-correction of Keras yields, since that factorization is unique.
 */
export function orthonormalColumns(a: Float64Array, rows: number, cols: number): Float64Array {
  const q: Float64Array[] = [];
  for (let j = 0; j < cols; j++) {
    const v = new Float64Array(rows);
    for (let i = 0; i < rows; i++) v[i] = a[i * cols + j];
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let d = 0;
        for (let i = 0; i < rows; i++) d += u[i] * v[i];
        for (let i = 0; i < rows; i++) v[i] -= d * u[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    // A normal sample is full rank with probability one; a zero column would mean a broken stream.
    if (!(norm > 0)) throw new ValueError(`orthogonal: the random matrix is rank deficient at column ${j}`);
    for (let i = 0; i < rows; i++) v[i] /= norm;
    q.push(v);
  }
  const out = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) out[i * cols + j] = q[j][i];
  return out;
}

class Orthogonal implements Initializer {
  readonly className = 'Orthogonal';
  constructor(
    readonly gain: number,
    readonly seed?: number,
  ) {}

  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    if (shape.length < 2) {
      throw new ValueError(`orthogonal: expected a shape of rank 2 or more; received ${fmtShape(shape)}`);
    }
    // As Keras: a matrix [prod(shape[:-1]), shape[-1]], orthogonalized on its longer side.
    const rows = sizeOf(shape.slice(0, -1)),
      cols = shape[shape.length - 1];
    const tall = Math.max(rows, cols),
      narrow = Math.min(rows, cols);
    const a = new Float64Array(tall * narrow);
    // The same stream st.randomNormal would use, sampled on the host in float64.
    fillRandom(a, nextStream(a.length, this.seed), { kind: 'normal', mean: 0, stddev: 1 });
    const q = orthonormalColumns(a, tall, narrow);
    const values = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        // Wide matrices take Q transposed: orthonormal rows instead of columns.
        values[i * cols + j] = this.gain * (rows >= cols ? q[i * narrow + j] : q[j * narrow + i]);
      }
    }
    return tensor(values, shape, dtype);
  }

  getConfig(): Record<string, unknown> {
    return { gain: this.gain, seed: this.seed ?? null };
  }
}

/** Options of `st.initializers.orthogonal`. */
export interface OrthogonalOptions {
  /** The factor the matrix is multiplied by. Default 1. */
  gain?: number;
  /** Fixes the values; default: the global stream. */
  seed?: Seed;
}
/** A (semi-)orthogonal matrix times `gain` (default 1), from the QR of a normal matrix. */
export function orthogonal(options: OrthogonalOptions = {}): Initializer {
  checkKeys('orthogonal', options, ['gain', 'seed']);
  return new Orthogonal(checkNumber('orthogonal', 'gain', options.gain ?? 1), checkSeed('orthogonal', options.seed));
}

class Identity implements Initializer {
  readonly className = 'Identity';
  constructor(readonly gain: number) {}
  init(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    if (shape.length !== 2) {
      throw new ValueError(`identity: expected a 2D shape; received ${fmtShape(shape)}`);
    }
    const [n, m] = shape;
    const values = new Float64Array(n * m);
    for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = this.gain;
    return tensor(values, shape, dtype);
  }
  getConfig(): Record<string, unknown> {
    return { gain: this.gain };
  }
}

/** Options of `st.initializers.identity`. */
export interface IdentityOptions {
  /** The diagonal's value. Default 1. */
  gain?: number;
}
/** gain times the identity matrix (rectangular shapes get ones on the main diagonal). */
export function identity(options: IdentityOptions = {}): Initializer {
  checkKeys('identity', options, ['gain']);
  return new Identity(checkNumber('identity', 'gain', options.gain ?? 1));
}

// ---- lookup and serialization ------------------------------------------------------------------

/**
 * `st.initializers.*`: weight initializers with Keras's names (camelCase) and defaults; layers
 * take one of these, or its name, as `kernelInitializer` and the like.
 * @namespace
 */
export const initializers = {
  /** Uniform in ±sqrt(6 / (fanIn + fanOut)) (Keras's GlorotUniform, the default kernel initializer). */
  glorotUniform,
  /** Truncated normal with variance 2 / (fanIn + fanOut) (Keras's GlorotNormal). */
  glorotNormal,
  /** Truncated normal with variance 2 / fanIn (Keras's HeNormal), for ReLU networks. */
  heNormal,
  /** Uniform in ±sqrt(6 / fanIn) (Keras's HeUniform). */
  heUniform,
  /** Truncated normal with variance 1 / fanIn (Keras's LecunNormal), for SELU networks. */
  lecunNormal,
  /** Uniform in ±sqrt(3 / fanIn) (Keras's LecunUniform). */
  lecunUniform,
  /** All zeros (the default bias initializer). */
  zeros,
  /** All ones. */
  ones,
  /** Every element `value`. */
  constant,
  /** Normal values, mean 0 and stddev 0.05 by default (Keras's RandomNormal). */
  randomNormal: randomNormalInitializer,
  /** Uniform values in [-0.05, 0.05) by default (Keras's RandomUniform). */
  randomUniform: randomUniformInitializer,
  /** Normal values redrawn beyond two standard deviations (Keras's TruncatedNormal). */
  truncatedNormal: truncatedNormalInitializer,
  /** A (semi-)orthogonal matrix (Keras's Orthogonal; the default recurrent initializer). */
  orthogonal,
  /** The identity matrix times `gain` (Keras's Identity). */
  identity,
  /** Samples with variance scale / fan (Keras's VarianceScaling), which the presets above are. */
  varianceScaling,
};

export type InitializerName = keyof typeof initializers;
type Factory = (config?: Record<string, unknown>) => Initializer;

// Names are matched without case or underscores, so 'glorotUniform', Keras's 'glorot_uniform'
// and the class name 'GlorotUniform' find one entry; Keras 3's class names for two of them too.
const normalize = (name: string) => name.replace(/_/g, '').toLowerCase();
const FACTORIES = new Map<string, Factory>(Object.entries(initializers).map(([name, make]) => [normalize(name), make as Factory]));
FACTORIES.set('orthogonalinitializer', orthogonal as Factory);
FACTORIES.set('identityinitializer', identity as Factory);
// Keras's short aliases: 'uniform' and 'normal' are RandomUniform(-0.05, 0.05) and RandomNormal(0, 0.05).
FACTORIES.set('uniform', randomUniformInitializer as Factory);
FACTORIES.set('normal', randomNormalInitializer as Factory);

function factoryFor(name: string): Factory {
  const make = FACTORIES.get(normalize(name));
  if (!make) {
    throw new ValueError(`getInitializer: unknown initializer ${fmtValue(name)}; expected one of: ${Object.keys(initializers).join(', ')}`);
  }
  return make;
}

function isInitializer(id: unknown): id is Initializer {
  return typeof id === 'object' && id !== null && typeof (id as Initializer).init === 'function';
}

/**
 * An initializer by name (with Keras defaults), the initializer itself, or a serialized
 * `{className, config}` (unknown config keys are a ValueError, as when building one).
 */
export function getInitializer(id: InitializerIdentifier): Initializer {
  if (typeof id === 'string') return factoryFor(id)();
  if (isInitializer(id)) return id;
  if (typeof id === 'object' && id !== null && typeof id.className === 'string') {
    return factoryFor(id.className)({ ...(id.config ?? {}) });
  }
  throw new ValueError(`getInitializer: expected a name, an initializer or {className, config}; received ${fmtValue(id)}`);
}

/** An initializer's `{className, config}` form, as model.json stores it. */
export function serializeInitializer(init: Initializer): {
  /** The Keras class name. */
  className: string;
  /** Its options. */
  config: Record<string, unknown>;
} {
  return { className: init.className, config: init.getConfig() };
}
