import type { Tensor } from '../tensor/tensor.js';
import { abs, add, div, exp, greater, less, mul, neg, sign, square, sub } from './elementwise.js';
import { branch, floating } from './math-extra.js';
import type { TensorInput } from './operand.js';

// Note [erf in float64]
// No primitive computes erf, so it is two polynomials evaluated with the primitives, fitted by
// scripts/fit_erf.py against 40-digit values (that script prints these numbers and their errors):
//   |x| < 1/2:  erf(x) = x P(x^2), P of degree 7 (relative error below 1e-15);
//   x >= 1/2:   erfc(x) = e^(-x^2) 3 / (x + 3) Q(1 - 7 / (x + 3)), Q of degree 18 (below 7e-15).
// The substitution maps [1/2, infinity) onto [-1, 1), and e^(x^2) erfc(x) (1 + x/3) tends to a
// constant as x grows, so one polynomial covers the whole tail with relative accuracy: erfc(10)
// = 2e-45 comes out to full precision instead of as 1 - erf(10) = 0. Derivatives come from the
// polynomials (autograd), accurate to about 1e-13. nn/activations.ts keeps its own cheaper erfc
// (float32 accuracy) for gelu, which runs over whole activations.

const ERF_SMALL = [
  1.128379167095512, -0.3761263890314904, 0.11283791668026058, -0.026866169701050425, 0.005223962672406603, -0.0008547039340642546,
  0.00011993701421098348, -1.3375245919828482e-5,
];
const ERFC_LARGE = [
  0.3196654011251441, -0.20926519842688013, 0.11535206969654682, -0.05198884992645664, 0.018043969419704223, -0.004112849784694912,
  0.00019175992813779983, 0.00025437148915648483, -7.717549989835908e-5, -8.428918776386568e-6, 9.213296985474487e-6, -2.2822541079064977e-7,
  -1.0574350368867515e-6, 9.21227032782418e-8, 1.328630274704645e-7, -1.2849852617722517e-8, -1.682495626558799e-8, 9.98964848434639e-10,
  1.4675123820771164e-9,
];

function horner(coefficients: readonly number[], z: Tensor): Tensor {
  let p: Tensor = mul(z, coefficients[coefficients.length - 1]);
  for (let i = coefficients.length - 2; i >= 1; i--) p = mul(z, add(p, coefficients[i]));
  return add(p, coefficients[0]);
}

/** erf for |x| < 1/2. */
const erfSmall = (x: Tensor) => mul(x, horner(ERF_SMALL, square(x)));

/** erfc for x >= 1/2 (and +Infinity, where u = 1 and the factors give 0). */
function erfcLarge(x: Tensor): Tensor {
  const shifted = add(x, 3);
  return mul(exp(neg(square(x))), mul(div(3, shifted), horner(ERFC_LARGE, sub(1, div(7, shifted)))));
}

/** The error function 2/sqrt(pi) * integral of e^(-t^2) from 0 to x, elementwise (Note [erf in float64]). */
export function erf(x: TensorInput): Tensor {
  const t = floating('erf', x);
  // Odd: the tail is erfc(|x|) with the sign put back (|x| >= 1/2 there, so sign(x) is never 0).
  return branch(less(abs(t), 0.5), t, erfSmall, (v) => mul(sign(v), sub(1, erfcLarge(abs(v)))), [0, 1]);
}

/** The complementary error function 1 - erf(x), accurate relative to itself for large x (Note [erf in float64]). */
export function erfc(x: TensorInput): Tensor {
  const t = floating('erfc', x);
  const tail = (v: Tensor) => branch(greater(v, 0), v, erfcLarge, (n) => sub(2, erfcLarge(neg(n))), [1, -1]);
  return branch(less(abs(t), 0.5), t, (v) => sub(1, erfSmall(v)), tail, [0, 1]);
}
