import { backward, type BackwardOptions } from './autograd/backward.js';
import type { DType } from './core/dtype.js';
import { Tensor } from './tensor/tensor.js';
import * as E from './ops/elementwise.js';
import * as L from './ops/linalg.js';
import * as N from './ops/nn.js';
import type { TensorInput } from './ops/operand.js';
import * as R from './ops/reduction.js';
import * as S from './ops/shape-ops.js';

// Note [Tensor methods]
// Ops are functions first (st.add(a, b)); the methods that read naturally in a chain
// (x.add(y).relu().sum()) are installed here, so tensor/ does not depend on ops/.

type Axis = R.Axis;

declare module './tensor/tensor.js' {
  interface Tensor {
    add(b: TensorInput): Tensor;
    sub(b: TensorInput): Tensor;
    mul(b: TensorInput): Tensor;
    div(b: TensorInput): Tensor;
    pow(b: TensorInput): Tensor;
    maximum(b: TensorInput): Tensor;
    minimum(b: TensorInput): Tensor;
    equal(b: TensorInput): Tensor;
    notEqual(b: TensorInput): Tensor;
    greater(b: TensorInput): Tensor;
    greaterEqual(b: TensorInput): Tensor;
    less(b: TensorInput): Tensor;
    lessEqual(b: TensorInput): Tensor;
    logicalAnd(b: TensorInput): Tensor;
    logicalOr(b: TensorInput): Tensor;
    logicalNot(): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    square(): Tensor;
    sign(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    clip(min: number, max: number): Tensor;
    cast(dtype: DType): Tensor;
    sum(axis?: Axis, keepDims?: boolean): Tensor;
    mean(axis?: Axis, keepDims?: boolean): Tensor;
    max(axis?: Axis, keepDims?: boolean): Tensor;
    min(axis?: Axis, keepDims?: boolean): Tensor;
    prod(axis?: Axis, keepDims?: boolean): Tensor;
    argMax(axis?: number, keepDims?: boolean): Tensor;
    argMin(axis?: number, keepDims?: boolean): Tensor;
    reshape(shape: readonly number[]): Tensor;
    transpose(perm?: readonly number[]): Tensor;
    expandDims(axis?: number): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor;
    flatten(startAxis?: number, endAxis?: number): Tensor;
    slice(begin: number | readonly number[], size?: number | readonly number[]): Tensor;
    gather(indices: TensorInput, axis?: number): Tensor;
    pad(paddings: readonly (readonly [number, number])[], constantValue?: number): Tensor;
    tile(reps: readonly number[]): Tensor;
    broadcastTo(shape: readonly number[]): Tensor;
    split(numOrSizes: number | readonly number[], axis?: number): Tensor[];
    matmul(b: TensorInput, transposeA?: boolean, transposeB?: boolean): Tensor;
    dot(b: TensorInput): Tensor;
    softmax(axis?: number): Tensor;
    logSoftmax(axis?: number): Tensor;
    logSumExp(axis?: Axis, keepDims?: boolean): Tensor;
    /** A copy cut from the tape (PyTorch's detach). */
    detach(): Tensor;
    /**
     * Accumulates gradients into every variable this tensor depends on. Once per graph unless
     * `{retainGraph: true}` (Note [One backward per graph]); `y.backward({retainGraph: true})`
     * passes options for a scalar y.
     */
    backward(seed?: Tensor, options?: BackwardOptions): void;
    backward(options: BackwardOptions): void;
    zeroGrad(): void;
  }
}

// Each method passes the tensor as the op's first argument.
const methods = {
  add: E.add, sub: E.sub, mul: E.mul, div: E.div, pow: E.pow, maximum: E.maximum, minimum: E.minimum,
  equal: E.equal, notEqual: E.notEqual, greater: E.greater, greaterEqual: E.greaterEqual, less: E.less,
  lessEqual: E.lessEqual, logicalAnd: E.logicalAnd, logicalOr: E.logicalOr,
  logicalNot: E.logicalNot, neg: E.neg, abs: E.abs, exp: E.exp, log: E.log, sqrt: E.sqrt, square: E.square,
  sign: E.sign, tanh: E.tanh, sigmoid: E.sigmoid, relu: E.relu, sin: E.sin, cos: E.cos, floor: E.floor,
  ceil: E.ceil, round: E.round, clip: E.clip, cast: E.cast,
  sum: R.sum, mean: R.mean, max: R.max, min: R.min, prod: R.prod, argMax: R.argMax, argMin: R.argMin,
  reshape: S.reshape, transpose: S.transpose, expandDims: S.expandDims, squeeze: S.squeeze, flatten: S.flatten,
  slice: S.slice, gather: S.gather, pad: S.pad, tile: S.tile, broadcastTo: S.broadcastTo, split: S.split,
  matmul: L.matmul, dot: L.dot,
  softmax: N.softmax, logSoftmax: N.logSoftmax, logSumExp: N.logSumExp, detach: S.stopGradient,
};
const p = Tensor.prototype;
for (const [name, f] of Object.entries(methods)) {
  Object.defineProperty(p, name, {
    value(this: Tensor, ...args: unknown[]) {
      return (f as (a: Tensor, ...rest: unknown[]) => unknown)(this, ...args);
    },
    writable: true,
    configurable: true,
  });
}
p.backward = function (this: Tensor, seed?: Tensor | BackwardOptions, options?: BackwardOptions) {
  backward(this, seed, options);
};
p.zeroGrad = function (this: Tensor) {
  this.grad = null;
};
