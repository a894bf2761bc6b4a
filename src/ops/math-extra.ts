import { floatType } from '../core/dtype.js';
import { broadcastShapes } from '../core/shape.js';
import { noGrad } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  abs,
  add,
  cast,
  cos,
  div,
  equal,
  exp,
  greater,
  greaterEqual,
  less,
  log,
  mul,
  neg,
  sign,
  sin,
  sqrt,
  square,
  sub,
  where,
} from './elementwise.js';
import { asTensor, resultType, type TensorInput } from './operand.js';
import { broadcastTo } from './shape-ops.js';

// Trigonometric, hyperbolic and exponential functions that have no primitive of their own, as
// composites of the primitives (so every backend runs them and autograd differentiates them).
// Each is written to keep float64 accuracy (the float64 fixtures hold them to 1e-9 relative
// against PyTorch), which rules out textbook identities that cancel near 0.

const HALF_PI = Math.PI / 2;
const LN2 = Math.LN2;

/** x as a floating tensor: int32 and bool inputs become float32, as exp and log do. */
export function floating(op: string, x: TensorInput, name = 'x'): Tensor {
  const t = asTensor(op, name, x);
  return cast(t, floatType(t.dtype));
}

/** Two operands cast to their common floating dtype and broadcast to one shape. */
export function floatingPair(op: string, a: TensorInput, b: TensorInput): [Tensor, Tensor] {
  const dtype = floatType(resultType(a, b));
  const ta = cast(asTensor(op, 'a', a), dtype),
    tb = cast(asTensor(op, 'b', b), dtype);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return [broadcastTo(ta, shape), broadcastTo(tb, shape)];
}

// Note [Branches that stay finite]
// where(c, f(x), g(x)) gives the unpicked branch a zero gradient, but that zero is then multiplied
// by the branch's own local derivatives: where f(x) is infinite (1/x at 0, log at 0), 0 * inf
// makes the gradient NaN although f's value was never used. So each branch here sees x only
// where it is picked and a harmless stand-in value elsewhere.

/** where(cond, onTrue(x), onFalse(x)), each branch fed only its own elements (Note [Branches that stay finite]). */
export function branch(
  cond: Tensor,
  x: Tensor,
  onTrue: (x: Tensor) => Tensor,
  onFalse: (x: Tensor) => Tensor,
  standIns: readonly [number, number],
): Tensor {
  return where(cond, onTrue(where(cond, x, standIns[0])), onFalse(where(cond, standIns[1], x)));
}

// ---- exponentials and logarithms near 0 --------------------------------------------------------

// Note [expm1 and log1p without cancellation]
// e^x - 1 and log(1 + x) lose all relative accuracy for tiny x. Kahan's correction keeps it with
// the exp and log primitives alone: with u = fl(e^x), (u - 1) * x / log(u) equals e^x - 1 to a
// few ulps, because the rounding error of u cancels between u - 1 and log(u); likewise with
// u = fl(1 + x), log(u) * x / (u - 1) equals log(1 + x). Where u rounds to exactly 1 the result is
// x itself. Beyond |x| = 1/2 the plain forms are accurate, and the correction would meet
// infinities (e^x overflowing, log(0)), so it is applied on (-1/2, 1/2) only.

/** e^x - 1, accurate for small |x| (Note [expm1 and log1p without cancellation]). */
export function expm1(x: TensorInput): Tensor {
  const t = floating('expm1', x);
  const near = (v: Tensor) => {
    const u = exp(v);
    return branch(
      equal(u, 1),
      v,
      (w) => w,
      (w) => {
        const uw = exp(w);
        return div(mul(sub(uw, 1), w), log(uw));
      },
      [0, 0.25],
    );
  };
  return branch(less(abs(t), 0.5), t, near, (v) => sub(exp(v), 1), [0, 1]);
}

/** log(1 + x), accurate for small |x| (Note [expm1 and log1p without cancellation]). */
export function log1pAccurate(x: Tensor): Tensor {
  const near = (v: Tensor) =>
    branch(
      equal(add(v, 1), 1),
      v,
      (w) => w,
      (w) => {
        const u = add(w, 1);
        return div(mul(log(u), w), sub(u, 1));
      },
      [0, 0.25],
    );
  return branch(less(abs(x), 0.5), x, near, (v) => log(add(v, 1)), [0, 1]);
}

// ---- trigonometric -----------------------------------------------------------------------------

/** Elementwise tangent (radians), sin(x) / cos(x). */
export function tan(x: TensorInput): Tensor {
  const t = floating('tan', x);
  return div(sin(t), cos(t));
}

// Note [atan by one correction]
// There is no atan primitive. Take a rough guess y0 for atan(r) on [-1, 1] (pi/4 r + 0.273 r(1 - |r|),
// within 0.0038 rad) and the exact identity
//   atan(r) = y0 - atan(t),   t = (sin y0 - r cos y0) / (cos y0 + r sin y0) = tan(y0 - atan r).
// |t| < 0.004, where atan(t) = t - t^3/3 + t^5/5 leaves an error below t^7/7 < 1e-17: float64
// accuracy from sin, cos and a few products. The guess is a constant (computed without the tape),
// and the derivative of the corrected value with respect to r is 1 / (1 + r^2) up to t^6, so
// first and second derivatives are as accurate as the value.

/** atan(r) for |r| <= 1 (Note [atan by one correction]). */
function atanUnit(r: Tensor): Tensor {
  const [s, c, guess] = noGrad(() => {
    const y0 = mul(r, add(mul(sub(1, abs(r)), 0.273), Math.PI / 4));
    return [sin(y0), cos(y0), y0];
  });
  const t = div(sub(s, mul(r, c)), add(c, mul(r, s)));
  const t2 = square(t);
  return sub(guess, mul(t, add(mul(t2, add(mul(t2, 0.2), -1 / 3)), 1)));
}

/** Elementwise arctangent, in (-pi/2, pi/2). */
export function atan(x: TensorInput): Tensor {
  return atanOf(floating('atan', x));
}

function atanOf(t: Tensor): Tensor {
  // Beyond |x| = 1, atan(x) = ±pi/2 - atan(1/x): the correction only ever sees |r| <= 1, and
  // ±Infinity becomes 1/x = 0.
  return branch(greater(abs(t), 1), t, (u) => sub(mul(sign(u), HALF_PI), atanUnit(div(1, u))), atanUnit, [2, 0]);
}

/**
 * The angle of the point (x = b, y = a) in (-pi, pi], elementwise with broadcasting
 * (`atan2(y, x)` as in C, NumPy and tfjs).
 */
export function atan2(a: TensorInput, b: TensorInput): Tensor {
  const [y, x] = floatingPair('atan2', a, b);
  // Steep points (|y| > |x|) measure from the y axis, the others from the x axis, so both ratios
  // stay within [-1, 1] and no divisor is 0 (the origin divides 0 by 1 and gives 0).
  const steep = greater(abs(y), abs(x));
  const ySafe = where(steep, y, 1),
    xSafe = where(steep, 1, where(equal(x, 0), 1, x));
  const fromY = sub(mul(sign(ySafe), HALF_PI), atanUnit(div(where(steep, x, 0), ySafe)));
  // The half turn as a cast of exact small integers: a where of two plain numbers is float32.
  const turn = mul(cast(where(less(x, 0), where(less(y, 0), -1, 1), 0), x.dtype), Math.PI);
  const fromX = add(atanUnit(div(where(steep, 0, y), xSafe)), turn);
  return where(steep, fromY, fromX);
}

/** Elementwise arcsine, in [-pi/2, pi/2]; NaN outside [-1, 1]. */
export function asin(x: TensorInput): Tensor {
  const t = floating('asin', x);
  // asin(x) = atan(x / sqrt(1 - x^2)); (1 - x)(1 + x) is exact near ±1, where 1 - x^2 is not.
  return atanOf(div(t, sqrt(mul(sub(1, t), add(t, 1)))));
}

/** Elementwise arccosine, in [0, pi]; NaN outside [-1, 1]. */
export function acos(x: TensorInput): Tensor {
  const t = floating('acos', x);
  // acos(x) = 2 atan(sqrt((1 - x) / (1 + x))): accurate relative to itself near x = 1, where
  // pi/2 - asin(x) would cancel; x = -1 gives sqrt(Infinity) and pi.
  return mul(atanOf(sqrt(div(sub(1, t), add(t, 1)))), 2);
}

// ---- hyperbolic --------------------------------------------------------------------------------

/** Elementwise hyperbolic sine. */
export function sinh(x: TensorInput): Tensor {
  const t = floating('sinh', x);
  // Near 0 through expm1: with E = e^x - 1, sinh x = (E + E / (E + 1)) / 2 has no cancellation.
  const near = (v: Tensor) => {
    const e = expm1(v);
    return mul(add(e, div(e, add(e, 1))), 0.5);
  };
  return branch(less(abs(t), 1), t, near, (v) => mul(sub(exp(v), exp(neg(v))), 0.5), [0, 1]);
}

/** Elementwise hyperbolic cosine. */
export function cosh(x: TensorInput): Tensor {
  const t = floating('cosh', x);
  return mul(add(exp(t), exp(neg(t))), 0.5);
}

/** Elementwise inverse hyperbolic sine. */
export function asinh(x: TensorInput): Tensor {
  const t = floating('asinh', x);
  // Odd, so computed on |x| as log1p(a + a^2 / (1 + sqrt(1 + a^2))) (no cancellation near 0); past
  // 1e8, where a^2 could overflow float32, asinh(a) = log(2a) to double precision.
  const positive = (a: Tensor) =>
    branch(
      greater(a, 1e8),
      a,
      (v) => add(log(v), LN2),
      (v) => log1pAccurate(add(v, div(square(v), add(sqrt(add(square(v), 1)), 1)))),
      [2e8, 0],
    );
  // The sign is applied by a branch, not a product with sign(x): that would zero the gradient at 0.
  return branch(greaterEqual(t, 0), t, positive, (v) => neg(positive(neg(v))), [0, -1]);
}

/** Elementwise inverse hyperbolic cosine; NaN below 1. */
export function acosh(x: TensorInput): Tensor {
  const t = floating('acosh', x);
  // log1p((x - 1) + sqrt((x - 1)(x + 1))) keeps its accuracy near 1; past 1e8, log(2x). Below 1
  // the product under the root turns positive again past -1, hence the explicit NaN.
  const y = branch(
    greater(t, 1e8),
    t,
    (v) => add(log(v), LN2),
    (v) => {
      const d = sub(v, 1);
      return log1pAccurate(add(d, sqrt(mul(d, add(v, 1)))));
    },
    [2e8, 2],
  );
  return where(less(t, 1), NaN, y);
}

/** Elementwise inverse hyperbolic tangent; ±Infinity at ±1 and NaN beyond. */
export function atanh(x: TensorInput): Tensor {
  const t = floating('atanh', x);
  // atanh(a) = log1p(2a / (1 - a)) / 2 for a >= 0: exact near 0, where log((1 + a) / (1 - a)) is
  // not, and near 1, where 1 - a is exact. Odd, so negative x take -atanh(-x) (near -1 the
  // argument of log1p would approach -1 and cancel).
  const positive = (a: Tensor) => mul(log1pAccurate(div(mul(a, 2), sub(1, a))), 0.5);
  return branch(greaterEqual(t, 0), t, positive, (v) => neg(positive(neg(v))), [0, -0.5]);
}
