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
    /** `this + b`; see {@link E.add | st.add}. */
    add(b: TensorInput): Tensor;
    /** `this - b`; see {@link E.sub | st.sub}. */
    sub(b: TensorInput): Tensor;
    /** `this * b`; see {@link E.mul | st.mul}. */
    mul(b: TensorInput): Tensor;
    /** `this / b` (true division); see {@link E.div | st.div}. */
    div(b: TensorInput): Tensor;
    /** `this ** b`; see {@link E.pow | st.pow}. */
    pow(b: TensorInput): Tensor;
    /** Elementwise larger of this and `b`; see {@link E.maximum | st.maximum}. */
    maximum(b: TensorInput): Tensor;
    /** Elementwise smaller of this and `b`; see {@link E.minimum | st.minimum}. */
    minimum(b: TensorInput): Tensor;
    /** `this == b` as bool; see {@link E.equal | st.equal}. */
    equal(b: TensorInput): Tensor;
    /** `this != b` as bool; see {@link E.notEqual | st.notEqual}. */
    notEqual(b: TensorInput): Tensor;
    /** `this > b` as bool; see {@link E.greater | st.greater}. */
    greater(b: TensorInput): Tensor;
    /** `this >= b` as bool; see {@link E.greaterEqual | st.greaterEqual}. */
    greaterEqual(b: TensorInput): Tensor;
    /** `this < b` as bool; see {@link E.less | st.less}. */
    less(b: TensorInput): Tensor;
    /** `this <= b` as bool; see {@link E.lessEqual | st.lessEqual}. */
    lessEqual(b: TensorInput): Tensor;
    /** Elementwise AND as bool; see {@link E.logicalAnd | st.logicalAnd}. */
    logicalAnd(b: TensorInput): Tensor;
    /** Elementwise OR as bool; see {@link E.logicalOr | st.logicalOr}. */
    logicalOr(b: TensorInput): Tensor;
    /** Elementwise NOT as bool; see {@link E.logicalNot | st.logicalNot}. */
    logicalNot(): Tensor;
    /** `-this`; see {@link E.neg | st.neg}. */
    neg(): Tensor;
    /** `|this|`; see {@link E.abs | st.abs}. */
    abs(): Tensor;
    /** e^this; see {@link E.exp | st.exp}. */
    exp(): Tensor;
    /** Natural logarithm; see {@link E.log | st.log}. */
    log(): Tensor;
    /** Square root; see {@link E.sqrt | st.sqrt}. */
    sqrt(): Tensor;
    /** `this * this`; see {@link E.square | st.square}. */
    square(): Tensor;
    /** -1, 0 or 1; see {@link E.sign | st.sign}. */
    sign(): Tensor;
    /** Hyperbolic tangent; see {@link E.tanh | st.tanh}. */
    tanh(): Tensor;
    /** Logistic function; see {@link E.sigmoid | st.sigmoid}. */
    sigmoid(): Tensor;
    /** max(this, 0); see {@link E.relu | st.relu}. */
    relu(): Tensor;
    /** Sine; see {@link E.sin | st.sin}. */
    sin(): Tensor;
    /** Cosine; see {@link E.cos | st.cos}. */
    cos(): Tensor;
    /** Rounds down; see {@link E.floor | st.floor}. */
    floor(): Tensor;
    /** Rounds up; see {@link E.ceil | st.ceil}. */
    ceil(): Tensor;
    /** Rounds to the nearest integer; see {@link E.round | st.round}. */
    round(): Tensor;
    /** Limits values to [min, max]; see {@link E.clip | st.clip}. */
    clip(min: number, max: number): Tensor;
    /** Converts to `dtype`; see {@link E.cast | st.cast}. */
    cast(dtype: DType): Tensor;
    /** Sum over `axis` (default: all axes); see {@link R.sum | st.sum}. */
    sum(axis?: Axis, keepDims?: boolean): Tensor;
    /** Mean over `axis` (default: all axes); see {@link R.mean | st.mean}. */
    mean(axis?: Axis, keepDims?: boolean): Tensor;
    /** Maximum over `axis` (default: all axes); see {@link R.max | st.max}. */
    max(axis?: Axis, keepDims?: boolean): Tensor;
    /** Minimum over `axis` (default: all axes); see {@link R.min | st.min}. */
    min(axis?: Axis, keepDims?: boolean): Tensor;
    /** Product over `axis` (default: all axes); see {@link R.prod | st.prod}. */
    prod(axis?: Axis, keepDims?: boolean): Tensor;
    /** Index of the largest value along `axis`; see {@link R.argMax | st.argMax}. */
    argMax(axis?: number, keepDims?: boolean): Tensor;
    /** Index of the smallest value along `axis`; see {@link R.argMin | st.argMin}. */
    argMin(axis?: number, keepDims?: boolean): Tensor;
    /** The same values in a new shape; see {@link S.reshape | st.reshape}. */
    reshape(shape: readonly number[]): Tensor;
    /** Permutes the axes; see {@link S.transpose | st.transpose}. */
    transpose(perm?: readonly number[]): Tensor;
    /** Inserts an axis of size 1; see {@link S.expandDims | st.expandDims}. */
    expandDims(axis?: number): Tensor;
    /** Removes axes of size 1; see {@link S.squeeze | st.squeeze}. */
    squeeze(axis?: number | readonly number[]): Tensor;
    /** Merges a range of axes into one; see {@link S.flatten | st.flatten}. */
    flatten(startAxis?: number, endAxis?: number): Tensor;
    /** A contiguous block; see {@link S.slice | st.slice}. */
    slice(begin: number | readonly number[], size?: number | readonly number[]): Tensor;
    /** Picks entries along `axis` by index; see {@link S.gather | st.gather}. */
    gather(indices: TensorInput, axis?: number): Tensor;
    /** Pads each axis with a constant; see {@link S.pad | st.pad}. */
    pad(paddings: readonly (readonly [number, number])[], constantValue?: number): Tensor;
    /** Repeats the tensor along each axis; see {@link S.tile | st.tile}. */
    tile(reps: readonly number[]): Tensor;
    /** Broadcasts to `shape`; see {@link S.broadcastTo | st.broadcastTo}. */
    broadcastTo(shape: readonly number[]): Tensor;
    /** Cuts into pieces along `axis`; see {@link S.split | st.split}. */
    split(numOrSizes: number | readonly number[], axis?: number): Tensor[];
    /** Matrix product with `b`; see {@link L.matmul | st.matmul}. */
    matmul(b: TensorInput, transposeA?: boolean, transposeB?: boolean): Tensor;
    /** Dot product with `b`; see {@link L.dot | st.dot}. */
    dot(b: TensorInput): Tensor;
    /** Softmax along `axis` (default -1); see {@link N.softmax | st.softmax}. */
    softmax(axis?: number): Tensor;
    /** Log of the softmax along `axis` (default -1); see {@link N.logSoftmax | st.logSoftmax}. */
    logSoftmax(axis?: number): Tensor;
    /** log(sum(exp(this))) computed stably; see {@link N.logSumExp | st.logSumExp}. */
    logSumExp(axis?: Axis, keepDims?: boolean): Tensor;
    /** A copy cut from the tape (PyTorch's detach). */
    detach(): Tensor;
    /**
     * Accumulates gradients into every variable this tensor depends on. Once per graph unless
     * `{retainGraph: true}` (Note [One backward per graph]); `y.backward({retainGraph: true})`
     * passes options for a scalar y.
     */
    backward(seed?: Tensor, options?: BackwardOptions): void;
    /** `backward()` of a scalar with options only: `loss.backward({retainGraph: true})`. */
    backward(options: BackwardOptions): void;
    /** Clears `.grad` (sets it to null), as PyTorch's `zero_grad` does for one tensor. */
    zeroGrad(): void;
  }
}

// Each method passes the tensor as the op's first argument.
const methods = {
  add: E.add,
  sub: E.sub,
  mul: E.mul,
  div: E.div,
  pow: E.pow,
  maximum: E.maximum,
  minimum: E.minimum,
  equal: E.equal,
  notEqual: E.notEqual,
  greater: E.greater,
  greaterEqual: E.greaterEqual,
  less: E.less,
  lessEqual: E.lessEqual,
  logicalAnd: E.logicalAnd,
  logicalOr: E.logicalOr,
  logicalNot: E.logicalNot,
  neg: E.neg,
  abs: E.abs,
  exp: E.exp,
  log: E.log,
  sqrt: E.sqrt,
  square: E.square,
  sign: E.sign,
  tanh: E.tanh,
  sigmoid: E.sigmoid,
  relu: E.relu,
  sin: E.sin,
  cos: E.cos,
  floor: E.floor,
  ceil: E.ceil,
  round: E.round,
  clip: E.clip,
  cast: E.cast,
  sum: R.sum,
  mean: R.mean,
  max: R.max,
  min: R.min,
  prod: R.prod,
  argMax: R.argMax,
  argMin: R.argMin,
  reshape: S.reshape,
  transpose: S.transpose,
  expandDims: S.expandDims,
  squeeze: S.squeeze,
  flatten: S.flatten,
  slice: S.slice,
  gather: S.gather,
  pad: S.pad,
  tile: S.tile,
  broadcastTo: S.broadcastTo,
  split: S.split,
  matmul: L.matmul,
  dot: L.dot,
  softmax: N.softmax,
  logSoftmax: N.logSoftmax,
  logSumExp: N.logSumExp,
  detach: S.stopGradient,
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
