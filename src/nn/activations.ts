import { isFloat } from '../core/dtype.js';
import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  abs,
  add,
  cast,
  div,
  exp,
  greater,
  greaterEqual,
  minimum,
  mul,
  neg,
  relu as reluOp,
  sigmoid as sigmoidOp,
  softplus as softplusOp,
  sub,
  tanh as tanhOp,
  where,
} from '../ops/elementwise.js';
import { logSoftmax as logSoftmaxOp, softmax as softmaxOp } from '../ops/nn.js';
import { celu, glu, hardShrink, hardTanh, softShrink, sparsePlus, sparseSigmoid, sparsemax, squareplus, tanhShrink } from './activations-more.js';

// Activations by their Keras 3 names and definitions, written with public ops so autograd
// differentiates them with no gradient code of their own. Integer and bool inputs are taken as
// float32 first, as Keras converts its inputs to floats.

/** An activation as a function of a tensor. */
export type ActivationFn = (x: Tensor) => Tensor;

/** A named activation: what layers hold and what `serializeActivation` writes. */
export interface Activation {
  /** The camelCase name ('relu', 'leakyRelu', ...), or a custom function's own name. */
  readonly name: string;
  /** The function, with the activation's default options. */
  readonly apply: ActivationFn;
}

/**
 * What layers take as `activation`: a name in camelCase or snake_case ('relu', 'leaky_relu'), a
 * function, an Activation, or null/undefined for none (linear).
 */
export type ActivationIdentifier = string | ActivationFn | Activation | null | undefined;

const floating = (x: Tensor): Tensor => (isFloat(x.dtype) ? x : cast(x, 'float32'));

// Note [erfc by Chebyshev fitting]
// There is no erf primitive, so erfc is the Chebyshev-fitted formula of Numerical Recipes
// ("erfcc", Press et al., section 6.2): for z >= 0 and t = 1 / (1 + z/2),
//   erfc(z) ~ t * exp(-z^2 + P(t)),  P a degree-9 polynomial.
// The published constant term is -1.26551223, which makes erfc(0) = 1 + 3e-8: erf would then
// jump by 6e-8 at 0 and erf(0) would not be 0. It is lowered by 3e-8 here so that the exponent is
// exactly 0 at z = 0 and erfc(0) = 1. Measured in float64 against a series and a continued fraction, the result has a
// relative error of at most 1.35e-7 and an absolute error of at most 1.12e-7 on [0, 12].
// Relative accuracy in erfc is what gelu needs for large negative x, where gelu(x) =
// x/2 * erfc(-x/sqrt 2) is a tiny number that 1 + erf would round to 0. Negative arguments use
// erfc(-z) = 2 - erfc(z).
const ERFC_POLY = [-1.26551226, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];

/** The complementary error function 1 - erf(x), with a relative error below 1.35e-7. */
export function erfc(x: Tensor): Tensor {
  const t0 = floating(x);
  const nonNegative = greaterEqual(t0, 0);
  // |x| through `where` rather than abs: abs has a zero gradient at 0, where erfc's is -2/sqrt(pi).
  const z = where(nonNegative, t0, neg(t0));
  const t = div(1, add(mul(z, 0.5), 1));
  let poly: Tensor = mul(t, ERFC_POLY[9]);
  for (let i = 8; i >= 1; i--) poly = mul(t, add(poly, ERFC_POLY[i]));
  const tail = mul(t, exp(add(sub(poly, mul(z, z)), ERFC_POLY[0])));
  return where(nonNegative, tail, sub(2, tail));
}

/** The error function, as 1 - erfc(x): an absolute error below 1.2e-7 (see Note [erfc by Chebyshev fitting]). */
export function erf(x: Tensor): Tensor {
  return sub(1, erfc(x));
}

// ---- the activations ---------------------------------------------------------------------------

export const linear: ActivationFn = (x) => x;
export const relu: ActivationFn = (x) => reluOp(floating(x));
export const relu6: ActivationFn = (x) => minimum(reluOp(floating(x)), 6);
export const sigmoid: ActivationFn = (x) => sigmoidOp(x);
export const tanh: ActivationFn = (x) => tanhOp(x);
export const exponential: ActivationFn = (x) => exp(x);
export const softplus: ActivationFn = (x) => softplusOp(floating(x));
export const softsign: ActivationFn = (x) => {
  const t = floating(x);
  return div(t, add(abs(t), 1));
};

/** x * sigmoid(x) (Keras's silu, also called swish). */
export const silu: ActivationFn = (x) => {
  const t = floating(x);
  return mul(t, sigmoidOp(t));
};
export const swish = silu;

/** x * tanh(softplus(x)). */
export const mish: ActivationFn = (x) => {
  const t = floating(x);
  return mul(t, tanhOp(softplusOp(t)));
};

/** Keras 3's piecewise-linear sigmoid: relu6(x + 3) / 6. */
export const hardSigmoid: ActivationFn = (x) => div(relu6(add(floating(x), 3)), 6);

/** x * hardSigmoid(x) (Keras's hard_silu, also called hard_swish). */
export const hardSilu: ActivationFn = (x) => {
  const t = floating(x);
  return mul(t, hardSigmoid(t));
};
export const hardSwish = hardSilu;

/** log(sigmoid(x)) = -softplus(-x), finite for every x. */
export const logSigmoid: ActivationFn = (x) => neg(softplusOp(neg(floating(x))));

/** Options of `st.activations.elu`. */
export interface EluOptions {
  /** The scale of the negative part. Default 1. */
  alpha?: number;
}
/** x for x > 0, alpha * (e^x - 1) otherwise (alpha defaults to 1). */
export function elu(x: Tensor, options: EluOptions = {}): Tensor {
  checkKeys('elu', options, ['alpha']);
  const { alpha = 1 } = options;
  const t = floating(x);
  // e^min(x, 0) rather than e^x: the unused branch of `where` still gets a zero gradient, and
  // 0 * e^x would be NaN where e^x overflows.
  const negativePart = mul(sub(exp(neg(reluOp(neg(t)))), 1), alpha);
  return where(greater(t, 0), t, negativePart);
}

// The constants of Klambauer et al. (2017), to the precision Keras uses.
export const SELU_ALPHA = 1.6732632423543772;
export const SELU_SCALE = 1.0507009873554805;
/** scale * elu(x, alpha) with the self-normalizing constants. */
export const selu: ActivationFn = (x) => mul(elu(x, { alpha: SELU_ALPHA }), SELU_SCALE);

/** Options of `st.activations.leakyRelu`. */
export interface LeakyReluOptions {
  /** The slope below 0. Default 0.2. */
  negativeSlope?: number;
}
/** x for x > 0, negativeSlope * x otherwise (Keras 3's activation default: 0.2). */
export function leakyRelu(x: Tensor, options: LeakyReluOptions = {}): Tensor {
  checkKeys('leakyRelu', options, ['negativeSlope']);
  const { negativeSlope = 0.2 } = options;
  const t = floating(x);
  return where(greater(t, 0), t, mul(t, negativeSlope));
}

/** Options of `st.activations.gelu`. */
export interface GeluOptions {
  /** Use the tanh approximation instead of the exact form. Default false. */
  approximate?: boolean;
}
const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
/**
 * x * Phi(x), Phi the standard normal CDF: exact (through erfc) by default, as in Keras 3, or
 * with `approximate: true` the tanh form 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))).
 */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  checkKeys('gelu', options, ['approximate']);
  const t = floating(x);
  if (options.approximate) {
    const inner = mul(add(t, mul(mul(mul(t, t), t), 0.044715)), SQRT_2_OVER_PI);
    return mul(mul(t, 0.5), add(tanhOp(inner), 1));
  }
  // Phi(x) = erfc(-x / sqrt 2) / 2, accurate relative to itself in the left tail.
  return mul(mul(t, 0.5), erfc(mul(t, -SQRT_HALF)));
}

/** Options of `st.activations.softmax` and `logSoftmax`. */
export interface SoftmaxOptions {
  /** The axis normalized over. Default -1. */
  axis?: number;
}
/** exp(x) / sum(exp(x)) along `axis`. */
export function softmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  checkKeys('softmax', options, ['axis']);
  return softmaxOp(floating(x), options.axis ?? -1);
}
/** log(softmax(x)) along `axis`, computed stably. */
export function logSoftmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  checkKeys('logSoftmax', options, ['axis']);
  return logSoftmaxOp(floating(x), options.axis ?? -1);
}

/**
 * `st.activations.*`: every activation by its camelCase Keras name. Each is a function of a
 * tensor; layers take the function or its name (`activation: 'relu'`).
 * @namespace
 */
export const activations = {
  /** The identity (no activation). */
  linear,
  /** max(x, 0). */
  relu,
  /** min(max(x, 0), 6). */
  relu6,
  /** The exponential linear unit (Keras's elu). */
  elu,
  /** The scaled exponential linear unit (Keras's selu), for self-normalizing networks. */
  selu,
  /** The Gaussian error linear unit (Keras's gelu). */
  gelu,
  /** 1 / (1 + e^-x). */
  sigmoid,
  /** Keras's hard_sigmoid. */
  hardSigmoid,
  /** The hyperbolic tangent. */
  tanh,
  /** Softmax over the last axis (or `axis`). */
  softmax,
  /** Log of the softmax over the last axis (or `axis`). */
  logSoftmax,
  /** log(1 + e^x). */
  softplus,
  /** x / (1 + |x|). */
  softsign,
  /** Keras's silu. */
  silu,
  /** Alias of silu. */
  swish,
  /** Keras's mish. */
  mish,
  /** e^x. */
  exponential,
  /** The leaky rectifier (Keras's leaky_relu). */
  leakyRelu,
  /** Keras's hard_silu. */
  hardSilu,
  /** Alias of hardSilu. */
  hardSwish,
  /** Keras's log_sigmoid. */
  logSigmoid,
  /** Keras's celu (`alpha` 1). */
  celu,
  /** Keras's glu: halves a, b of `axis`, a * sigmoid(b). */
  glu,
  /** Keras's hard_shrink (`threshold` 0.5). */
  hardShrink,
  /** Keras's hard_tanh: clip(x, -1, 1). */
  hardTanh,
  /** Keras's soft_shrink (`threshold` 0.5). */
  softShrink,
  /** Keras's sparse_plus. */
  sparsePlus,
  /** Keras's sparse_sigmoid. */
  sparseSigmoid,
  /** Keras's squareplus (`b` 4). */
  squareplus,
  /** Keras's tanh_shrink: x - tanh(x). */
  tanhShrink,
  /** Keras's sparsemax along `axis` (-1): a sparse softmax (Martins & Astudillo 2016). */
  sparsemax,
};

export type ActivationName = keyof typeof activations;

// ---- lookup and serialization ----------------------------------------------------------------

// Names are matched without case or underscores, so Keras's snake_case ('leaky_relu'), our
// camelCase ('leakyRelu') and class-like spellings ('LeakyReLU') all find one entry.
const normalize = (name: string) => name.replace(/_/g, '').toLowerCase();

const BY_NAME = new Map<string, Activation>();
const BY_FUNCTION = new Map<unknown, Activation>();
for (const [name, fn] of Object.entries(activations)) {
  // Wrapping drops the options argument: a layer calls apply(x) with Keras's defaults.
  const activation: Activation = Object.freeze({ name, apply: (x: Tensor) => (fn as ActivationFn)(x) });
  BY_NAME.set(normalize(name), activation);
  if (!BY_FUNCTION.has(fn)) BY_FUNCTION.set(fn, activation);
}

function isActivation(id: unknown): id is Activation {
  return typeof id === 'object' && id !== null && typeof (id as Activation).apply === 'function' && typeof (id as Activation).name === 'string';
}

/**
 * An activation by name ('relu', 'leaky_relu', 'leakyRelu'), an Activation, or a plain function
 * (named after the function; one of ours keeps its Keras name). null and undefined mean linear.
 */
export function getActivation(id: ActivationIdentifier): Activation {
  if (id === null || id === undefined) return BY_NAME.get('linear')!;
  if (typeof id === 'string') {
    const found = BY_NAME.get(normalize(id));
    if (!found) {
      throw new ValueError(`getActivation: unknown activation ${fmtValue(id)}; expected one of: ${Object.keys(activations).join(', ')}`);
    }
    return found;
  }
  if (typeof id === 'function') {
    return BY_FUNCTION.get(id) ?? Object.freeze({ name: id.name || 'custom', apply: id });
  }
  if (isActivation(id)) return id;
  throw new ValueError(`getActivation: expected an activation name, a function or an Activation; received ${typeof id}`);
}

/**
 * The name to store in a config: the camelCase name of a built-in activation, or a custom
 * function's own name. Loading a custom name back needs that function registered as a custom
 * object by whoever loads the model; only the name is written here.
 */
export function serializeActivation(activation: Activation): string {
  return activation.name;
}
