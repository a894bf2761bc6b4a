import { fitsInt32, fmtIndex, int32RangeError, typedArrayFor, type TypedArray } from '../../core/dtype.js';
import { broadcastStrides, shapesEqual } from '../../core/shape.js';
import type { Kernel, OutputInfo, TensorInfo } from '../backend.js';
import type { BinaryPrimitive, UnaryPrimitive } from '../primitives.js';
import { forEachOffset2 } from './iterate.js';

type Unary = (x: number) => number;
type Binary = (a: number, b: number) => number;

// Rounding follows NumPy: halves go to the even neighbour.
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// A numerically stable logistic: never evaluates exp of a large positive number.
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export const UNARY_FUNCTIONS: Record<UnaryPrimitive, Unary> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), // keeps 0 and NaN
  tanh: Math.tanh,
  sigmoid,
  relu: (x) => (x > 0 ? x : x === x ? 0 : x), // NaN stays NaN
  sin: Math.sin,
  cos: Math.cos,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  logicalNot: (x) => (x ? 0 : 1),
};

export const BINARY_FUNCTIONS: Record<BinaryPrimitive, Binary> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: (a, b) => (a >= b || a !== a ? a : b), // NaN propagates, as in NumPy
  minimum: (a, b) => (a <= b || a !== a ? a : b),
  equal: (a, b) => +(a === b),
  notEqual: (a, b) => +(a !== b),
  greater: (a, b) => +(a > b),
  greaterEqual: (a, b) => +(a >= b),
  less: (a, b) => +(a < b),
  lessEqual: (a, b) => +(a <= b),
  logicalAnd: (a, b) => +(a !== 0 && b !== 0),
  logicalOr: (a, b) => +(a !== 0 || b !== 0),
};

const values = (t: TensorInfo) => t.data as TypedArray;

export function unaryKernel(op: UnaryPrimitive): Kernel<UnaryPrimitive> {
  const f = UNARY_FUNCTIONS[op];
  return ([x], _attrs, out) => {
    const xs = values(x);
    const ys = typedArrayFor(out.dtype, xs.length);
    for (let i = 0; i < xs.length; i++) ys[i] = f(xs[i]);
    return ys;
  };
}

/** Applies `f` elementwise with NumPy broadcasting (same-shape and scalar cases take a fast loop). */
export function broadcastBinary(a: TensorInfo, b: TensorInfo, out: OutputInfo, f: Binary): TypedArray {
  const av = values(a),
    bv = values(b);
  const ys = typedArrayFor(out.dtype, sizeOfOut(out));
  if (shapesEqual(a.shape, out.shape) && shapesEqual(b.shape, out.shape)) {
    for (let i = 0; i < ys.length; i++) ys[i] = f(av[i], bv[i]);
  } else if (bv.length === 1 && shapesEqual(a.shape, out.shape)) {
    const s = bv[0];
    for (let i = 0; i < ys.length; i++) ys[i] = f(av[i], s);
  } else if (av.length === 1 && shapesEqual(b.shape, out.shape)) {
    const s = av[0];
    for (let i = 0; i < ys.length; i++) ys[i] = f(s, bv[i]);
  } else {
    const sa = broadcastStrides(a.shape, out.shape),
      sb = broadcastStrides(b.shape, out.shape);
    forEachOffset2(out.shape, sa, sb, (o, ia, ib) => {
      ys[o] = f(av[ia], bv[ib]);
    });
  }
  return ys;
}

function sizeOfOut(out: OutputInfo): number {
  let n = 1;
  for (const d of out.shape) n *= d;
  return n;
}

export function binaryKernel(op: BinaryPrimitive): Kernel<BinaryPrimitive> {
  const f = BINARY_FUNCTIONS[op];
  // An int32 product can need 62 bits, more than a float64 holds: Math.imul wraps it exactly, as
  // native's int64 product does (add and sub are exact in float64; the Int32Array store wraps).
  return ([a, b], _attrs, out) => broadcastBinary(a, b, out, op === 'mul' && out.dtype === 'int32' ? Math.imul : f);
}

export const whereKernel: Kernel<'where'> = ([cond, a, b], _attrs, out) => {
  // where(c, a, b) = c ? a : b; broadcast c against the result first, then pick.
  const cv = values(cond),
    av = values(a),
    bv = values(b);
  const ys = typedArrayFor(out.dtype, sizeOfOut(out));
  const sc = broadcastStrides(cond.shape, out.shape);
  const sa = broadcastStrides(a.shape, out.shape),
    sb = broadcastStrides(b.shape, out.shape);
  const condAt = new Uint8Array(ys.length);
  forEachOffset2(out.shape, sc, sc, (o, ic) => {
    condAt[o] = cv[ic] ? 1 : 0;
  });
  forEachOffset2(out.shape, sa, sb, (o, ia, ib) => {
    ys[o] = condAt[o] ? av[ia] : bv[ib];
  });
  return ys;
};

export const reluGradKernel: Kernel<'reluGrad'> = ([x, dy], _attrs, out) => {
  const xs = values(x),
    gs = values(dy);
  const ys = typedArrayFor(out.dtype, xs.length);
  for (let i = 0; i < xs.length; i++) ys[i] = xs[i] > 0 ? gs[i] : 0;
  return ys;
};

export const castKernel: Kernel<'cast'> = ([x], { dtype }) => {
  const xs = values(x);
  const ys = typedArrayFor(dtype, xs.length);
  if (dtype === 'bool') {
    for (let i = 0; i < xs.length; i++) ys[i] = xs[i] !== 0 ? 1 : 0; // NaN is truthy, as in NumPy
  } else if (dtype === 'int32' && (x.dtype === 'float32' || x.dtype === 'float64')) {
    // Truncates toward zero, as NumPy's astype; a value int32 cannot hold is refused, not wrapped
    // (Note [int32 holds what it is given, or refuses] in core/dtype.ts).
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i];
      if (!fitsInt32(v)) throw int32RangeError('cast', v, fmtIndex(i, x.shape));
      ys[i] = v;
    }
  } else {
    ys.set(xs);
  }
  return ys;
};
