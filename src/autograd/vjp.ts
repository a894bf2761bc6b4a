import type { ConvActivation, Primitive, PrimitiveAttrs } from '../backend/primitives.js';
import { isGradEnabled } from '../tensor/tape.js';
import {
  planFromAttrs,
  conv2dPlanned,
  convBiasGradsPlanned,
  backpropFilterAndBiasVjp,
  backpropFilterPlanned,
  backpropInputPlanned,
} from '../ops/conv.js';
import {
  depthwiseBackpropFilterPlanned,
  depthwiseBackpropInputPlanned,
  depthwiseConv2dPlanned,
  depthwisePlanFromAttrs,
} from '../ops/depthwise-conv.js';
import {
  cast,
  cos,
  div,
  equal,
  greater,
  greaterEqual,
  less,
  lessEqual,
  logicalAnd,
  log,
  mul,
  neg,
  pow,
  reluGrad,
  sign,
  sin,
  square,
  sub,
  where,
} from '../ops/elementwise.js';
import { batchMatmul, matmul } from '../ops/linalg.js';
import { conv2dReluMaxPoolBackward } from '../ops/conv-pool.js';
import { avgPool2dPlanned, avgPool2dGrad, gatherAtMaxima, poolPlanFromAttrs } from '../ops/pool.js';
import { isMaskedFor, maxPool2dGradMaybeMasked } from '../ops/relu-masked-grads.js';
import { gruCellBackward, gruCellGradVjp, lstmCellBackward, lstmCellGradVjp } from '../ops/recurrent-cell-grads.js';
import { rnnSequenceBackward, rnnSequenceSecondOrder } from '../ops/recurrent-sequence.js';
import {
  batchNormApplyVjp,
  batchNormGradInputVjp,
  batchNormGradSumsVjp,
  batchNormStatsVjp,
  batchNormTrainingVjp,
  layerNormVjp,
  notRecorded,
} from '../ops/normalization-grads.js';
import { prod, sum } from '../ops/reduction.js';
import { logSoftmaxBackward, logSoftmaxGradVjp, softmaxBackward, softmaxGradVjp } from '../ops/softmax-grads.js';
import { sparseSoftmaxCrossEntropyBackward, sparseSoftmaxCrossEntropyGradVjp } from '../ops/sparse-cross-entropy.js';
import { broadcastTo, gather, pad, reshape, scatterAdd, slice, sumToShape, transpose } from '../ops/shape-ops.js';
import { zerosLike } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

// Note [The VJP table]
// One rule per primitive: given the gradient g of the output, return the gradient of each
// input (null where an input has none: integer indices, conditions, comparisons). Rules are
// written with public ops, so when backward() records (createGraph), the gradient computation
// is itself on the tape and can be differentiated again. Broadcasting binary ops sum the
// gradient back to each input's shape.

export interface VjpContext<P extends Primitive> {
  inputs: readonly Tensor[];
  output: Tensor;
  attrs: PrimitiveAttrs[P];
  /** Whether input i needs a gradient; costly rules skip the others (a network's input image). */
  needs: readonly boolean[];
  /** Whether the caller asked for a tensor's own gradient (not only what flows through it). */
  wanted: (t: Tensor) => boolean;
}

export type VjpRule<P extends Primitive> = (g: Tensor, ctx: VjpContext<P>) => (Tensor | null)[];

/** Gradient of a reduction's output spread back over the reduced axes of `shape`. */
function unreduce(g: Tensor, shape: readonly number[], axes: readonly number[]): Tensor {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return broadcastTo(reshape(g, kept), shape);
}

/** d max / d x: split evenly between the tied maxima, as PyTorch's amax does. */
const extremumRule: VjpRule<'max' | 'min'> = (g, { inputs: [x], output, attrs: { axes } }) => {
  const hit = cast(equal(x, unreduce(output, x.shape, axes)), g.dtype);
  const count = unreduce(sum(hit, axes), x.shape, axes);
  return [div(mul(unreduce(g, x.shape, axes), hit), count)];
};

const none: VjpRule<Primitive> = (_g, { inputs }) => inputs.map(() => null);

/**
 * The gradient through a fused kernel's activation, from its output y: relu passes g where y > 0
 * (where its input was), relu6 where 0 < y < 6 (TensorFlow's Relu6Grad: none at either bound).
 */
function activationGrad(activation: ConvActivation, y: Tensor, g: Tensor): Tensor {
  if (activation === 'linear') return g;
  if (activation === 'relu') return reluGrad(y, g);
  return mul(g, cast(logicalAnd(greater(y, 0), less(y, 6)), g.dtype));
}

/**
 * Frees a gradient a rule computed for itself (a fused activation's masked gradient) once the
 * rule is done with it, when the backward pass is not recorded: unlike the gradients the rules
 * return, which backward() releases as it goes, nothing else would free it before the next
 * garbage collection, and it is activation-sized.
 */
function releaseLocal(t: Tensor, upstream: Tensor): void {
  if (t !== upstream && !isGradEnabled()) t.dispose();
}

/** The gradients of a batched a·b (either operand transposed) for an upstream g; null where not needed. */
/** The gradients of product(a, b) (either transposed) for upstream g; `product` is batchMatmul for 3-D operands. */
function matmulGrads(
  a: Tensor,
  b: Tensor,
  g: Tensor,
  ta: boolean,
  tb: boolean,
  needA: boolean,
  needB: boolean,
  product: (x: Tensor, y: Tensor, tx: boolean, ty: boolean) => Tensor = batchMatmul,
): (Tensor | null)[] {
  const pick = (da: () => Tensor, db: () => Tensor) => [needA ? da() : null, needB ? db() : null];
  if (!ta && !tb)
    return pick(
      () => product(g, b, false, true),
      () => product(a, g, true, false),
    );
  if (!ta && tb)
    return pick(
      () => product(g, b, false, false),
      () => product(g, a, true, false),
    );
  if (ta && !tb)
    return pick(
      () => product(b, g, false, true),
      () => product(a, g, false, false),
    );
  return pick(
    () => product(b, g, true, true),
    () => product(g, a, true, true),
  );
}

export const VJP: { [P in Primitive]: VjpRule<P> } = {
  // ---- unary
  neg: (g) => [neg(g)],
  abs: (g, { inputs: [x] }) => [mul(g, sign(x))],
  exp: (g, { output }) => [mul(g, output)],
  log: (g, { inputs: [x] }) => [div(g, x)],
  sqrt: (g, { output }) => [div(g, mul(output, 2))],
  sign: (_g, { inputs: [x] }) => [zerosLike(x)],
  tanh: (g, { output }) => [mul(g, sub(1, square(output)))],
  sigmoid: (g, { output }) => [mul(g, mul(output, sub(1, output)))],
  relu: (g, { inputs: [x] }) => [reluGrad(x, g)],
  // Linear in dy; piecewise constant in x, whose derivative is 0 wherever it exists.
  reluGrad: (g, { inputs: [x] }) => [null, reluGrad(x, g)],
  sin: (g, { inputs: [x] }) => [mul(g, cos(x))],
  cos: (g, { inputs: [x] }) => [neg(mul(g, sin(x)))],
  floor: (_g, { inputs: [x] }) => [zerosLike(x)],
  ceil: (_g, { inputs: [x] }) => [zerosLike(x)],
  round: (_g, { inputs: [x] }) => [zerosLike(x)],
  logicalNot: none,

  // ---- binary (broadcasting: sum back to each input's shape)
  // Only the inputs that need a gradient get one: a dropout mask or a label tensor costs nothing.
  add: (g, { inputs: [a, b], needs: [na, nb] }) => [na ? sumToShape(g, a.shape) : null, nb ? sumToShape(g, b.shape) : null],
  sub: (g, { inputs: [a, b], needs: [na, nb] }) => [na ? sumToShape(g, a.shape) : null, nb ? sumToShape(neg(g), b.shape) : null],
  mul: (g, { inputs: [a, b], needs: [na, nb] }) => [na ? sumToShape(mul(g, b), a.shape) : null, nb ? sumToShape(mul(g, a), b.shape) : null],
  div: (g, { inputs: [a, b], needs: [na, nb] }) => [
    na ? sumToShape(div(g, b), a.shape) : null,
    nb ? sumToShape(neg(div(mul(g, a), square(b))), b.shape) : null,
  ],
  pow: (g, { inputs: [a, b], output, needs: [na, nb] }) => {
    const da = na ? sumToShape(mul(g, mul(b, pow(a, sub(b, 1)))), a.shape) : null;
    if (!nb) return [da, null];
    // d/db a^b = a^b log a; taken as 0 where a <= 0 (a^b is then 0 or not real), never NaN.
    const logA = where(greater(a, 0), log(where(greater(a, 0), a, 1)), 0);
    return [da, sumToShape(mul(g, mul(output, logA)), b.shape)];
  },
  // Ties go to `a`, as in TensorFlow; clip(x, lo, hi) therefore passes the gradient at its bounds.
  maximum: (g, { inputs: [a, b], needs: [na, nb] }) => {
    const pick = greaterEqual(a, b);
    return [na ? sumToShape(where(pick, g, 0), a.shape) : null, nb ? sumToShape(where(pick, 0, g), b.shape) : null];
  },
  minimum: (g, { inputs: [a, b], needs: [na, nb] }) => {
    const pick = lessEqual(a, b);
    return [na ? sumToShape(where(pick, g, 0), a.shape) : null, nb ? sumToShape(where(pick, 0, g), b.shape) : null];
  },
  equal: none,
  notEqual: none,
  greater: none,
  greaterEqual: none,
  less: none,
  lessEqual: none,
  logicalAnd: none,
  logicalOr: none,

  // ---- reductions
  sum: (g, { inputs: [x], attrs: { axes } }) => [unreduce(g, x.shape, axes)],
  max: extremumRule,
  min: extremumRule,
  prod: (g, { inputs: [x], output, attrs: { axes } }) => {
    // The product of the others, made safe for zeros and written so that second derivatives
    // are exact too. A nonzero x_i keeps prod / x_i even when its slice holds a zero: the value
    // is then 0, but its derivative with respect to that zero is not. A zero x_i gets the
    // product of the nonzero elements when it is its slice's only zero, that times the other
    // zero (0, with derivative 1 for that element) when there are two, and 0 with more.
    // (Third and higher derivatives at slices with three or more zeros are not exact.)
    const isZero = equal(x, 0);
    const zeros = unreduce(sum(cast(isZero, 'int32'), axes), x.shape, axes);
    const safeX = where(isZero, 1, x);
    const others = unreduce(prod(safeX, axes), x.shape, axes);
    const full = unreduce(output, x.shape, axes);
    const otherZero = sub(unreduce(sum(where(isZero, x, 0), axes), x.shape, axes), x);
    const atZero = where(equal(zeros, 1), others, where(equal(zeros, 2), mul(otherZero, others), 0));
    return [mul(unreduce(g, x.shape, axes), where(isZero, atZero, div(full, safeX)))];
  },
  argMax: none,
  argMin: none,

  // ---- linear algebra
  matmul: (g, { inputs: [a, b], attrs: { transposeA, transposeB }, needs: [needA, needB] }) =>
    matmulGrads(a, b, g, transposeA, transposeB, needA, needB),
  // y = act(a·b + bias): the activation's gradient first (relu: where y > 0), then the matmul's,
  // and the bias gets the sum over the batch and the rows.
  fusedMatMul: (g, { inputs: [a, b], output, attrs: { transposeA, transposeB, activation }, needs: [needA, needB, needBias] }) => {
    const dz = activation === 'relu' ? reluGrad(output, g) : g;
    // 2-D operands (no batch axis) through matmul, which gives back its internal views at once.
    const product = a.rank === 2 ? matmul : batchMatmul;
    const biasAxes = a.rank === 2 ? [0] : [0, 1];
    const grads = [...matmulGrads(a, b, dz, transposeA, transposeB, needA, needB, product), needBias ? sum(dz, biasAxes) : null];
    releaseLocal(dz, g);
    return grads;
  },

  // ---- data movement
  reshape: (g, { inputs: [x] }) => [reshape(g, x.shape)],
  transpose: (g, { attrs: { perm } }) => {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [transpose(g, inverse)];
  },
  broadcastTo: (g, { inputs: [x] }) => [sumToShape(g, x.shape)],
  cast: (g, { inputs: [x] }) => [x.dtype === 'float32' || x.dtype === 'float64' ? cast(g, x.dtype) : null],
  slice: (g, { inputs: [x], attrs: { begin, size } }) => [
    pad(
      g,
      x.shape.map((d, i) => [begin[i], d - begin[i] - size[i]] as [number, number]),
    ),
  ],
  pad: (g, { inputs: [x], attrs: { paddings } }) => [
    slice(
      g,
      paddings.map(([before]) => before),
      x.shape,
    ),
  ],
  concat: (g, { inputs, attrs: { axis } }) => {
    let offset = 0;
    return inputs.map((t) => {
      const begin = t.shape.map((_, i) => (i === axis ? offset : 0));
      offset += t.shape[axis];
      return slice(g, begin, t.shape);
    });
  },
  gather: (g, { inputs: [x, indices], attrs: { axis } }) => [scatterAdd(g, indices, axis, x.shape[axis]), null],
  scatterAdd: (g, { inputs: [, indices], attrs: { axis } }) => [gather(g, indices, axis), null],
  where: (g, { inputs: [cond, a, b] }) => [null, sumToShape(where(cond, g, 0), a.shape), sumToShape(where(cond, 0, g), b.shape)],

  // ---- optional fast kernels (see Note [Direct convolution] for the adjoint pairs)
  conv2d: (g, { inputs: [x, f], attrs, needs: [needX, needF] }) => {
    const plan = planFromAttrs(x.shape, f.shape, attrs);
    return [needX ? backpropInputPlanned(g, f, x.shape, plan) : null, needF ? backpropFilterPlanned(x, g, f.shape, plan) : null];
  },
  conv2dBackpropInput: (g, { inputs: [dy, f], attrs, needs: [needDy, needF] }) => {
    // z = dx(dy, f) is bilinear: <G, dx(dy, f)> = <conv(G, f), dy> = <f, dw(G, dy)>.
    const plan = planFromAttrs(attrs.inputShape, f.shape, attrs);
    return [needDy ? conv2dPlanned(g, f, plan) : null, needF ? backpropFilterPlanned(g, dy, f.shape, plan) : null];
  },
  conv2dBackpropFilter: (g, { inputs: [x, dy], attrs, needs: [needX, needDy] }) => {
    // <G, dw(x, dy)> = <conv(x, G), dy> = <x, dx(dy, G)>.
    const plan = planFromAttrs(x.shape, attrs.filterShape, attrs);
    return [needX ? backpropInputPlanned(dy, g, x.shape, plan) : null, needDy ? conv2dPlanned(x, g, plan) : null];
  },
  // y = act(conv(x, f) + b): the activation's gradient first (relu: where y > 0, which is where
  // its input was > 0), then the convolution's, and the bias gets the sum over N, H and W.
  fusedConv2d: (g, { inputs: [x, f], output, attrs, needs }) => {
    // Note [Gradients already masked by a ReLU]: the max-pooling rule may have applied the mask.
    const dz = attrs.activation === 'relu' && isMaskedFor(g, output) ? g : activationGrad(attrs.activation, output, g);
    const grads = convBiasGradsPlanned(x, f, dz, planFromAttrs(x.shape, f.shape, attrs), needs);
    releaseLocal(dz, g);
    return grads;
  },
  // y = act(conv(x, f) + b + addend): as fusedConv2d, and the addend gets dz itself.
  fusedConv2dAdd: (g, { inputs: [x, f], output, attrs, needs }) => {
    const dz = activationGrad(attrs.activation, output, g);
    const grads = [...convBiasGradsPlanned(x, f, dz, planFromAttrs(x.shape, f.shape, attrs), needs), needs[3] ? dz : null];
    if (!needs[3]) releaseLocal(dz, g);
    return grads;
  },
  conv2dBackpropFilterBias: (g, { inputs: [x, dz], attrs, needs }) =>
    backpropFilterAndBiasVjp(x, dz, g, attrs.filterShape, planFromAttrs(x.shape, attrs.filterShape, attrs), needs),
  // Note [Convolution and pooling in one pass].
  conv2dReluMaxPool: (g, { inputs: [x, f, b], output, attrs, needs }) => conv2dReluMaxPoolBackward(x, f, b, output, g, attrs, needs),
  conv2dReluMaxPoolGrad: () => notRecorded('conv2dReluMaxPoolGrad'),
  maxPool2d: (g, { inputs: [x], output, attrs, wanted }) => [maxPool2dGradMaybeMasked(x, g, poolPlanFromAttrs(x.shape, attrs), wanted(x), output)],
  // Linear in dy: its adjoint reads the incoming gradient at each window's maximum.
  maxPool2dGrad: (g, { inputs: [x, , y], attrs }) => [
    null,
    gatherAtMaxima(x, g, poolPlanFromAttrs(x.shape, attrs), attrs.reluMasked),
    ...(y ? [null] : []),
  ],
  avgPool2d: (g, { inputs: [x], attrs }) => [avgPool2dGrad(g, x.shape, poolPlanFromAttrs(x.shape, attrs))],
  avgPool2dGrad: (g, { attrs }) => [avgPool2dPlanned(g, poolPlanFromAttrs(attrs.inputShape, attrs))],
  softmax: (g, { output, attrs: { axis } }) => [softmaxBackward(output, g, axis)],
  logSoftmax: (g, { output, attrs: { axis } }) => [logSoftmaxBackward(output, g, axis)],
  softmaxGrad: (g, { inputs: [y, dy], attrs: { axis } }) => softmaxGradVjp(y, dy, g, axis),
  logSoftmaxGrad: (g, { inputs: [y, dy], attrs: { axis } }) => logSoftmaxGradVjp(y, dy, g, axis),
  // Note [Sparse softmax cross-entropy in one pass]: labels get no gradient.
  sparseSoftmaxCrossEntropy: (g, { inputs: [z, labels] }) => [sparseSoftmaxCrossEntropyBackward(z, labels, g), null],
  sparseSoftmaxCrossEntropyGrad: (g, { inputs: [z, labels, dy] }) => sparseSoftmaxCrossEntropyGradVjp(z, labels, dy, g),
  // Recurrent cells (Note [Fused recurrent cells] in ops/recurrent-cells.ts): the gradient kernels
  // (or their formulas as ops) for first order; closed forms written with ops for second order.
  lstmCell: (g, { inputs: [z, cPrev] }) => lstmCellBackward(z, cPrev, g),
  lstmCellGrad: (g, { inputs: [z, cPrev, dhc] }) => lstmCellGradVjp(z, cPrev, dhc, g),
  gruCell: (g, { inputs: [xz, hz, hPrev] }) => gruCellBackward(xz, hz, hPrev, g),
  gruCellGrad: (g, { inputs: [xz, hz, hPrev, dh] }) => gruCellGradVjp(xz, hz, hPrev, dh, g),
  rnnSequence: (g, { inputs, output, attrs: { cell } }) => rnnSequenceBackward(cell, inputs, output, g),
  rnnSequenceGrad: (_g, { attrs: { cell } }) => rnnSequenceSecondOrder(cell),
  // Normalization (Note [Fused normalization] in ops/normalization-fused.ts).
  batchNormStats: (g, { inputs: [x], output }) => [batchNormStatsVjp(x, output, g)],
  batchNormApply: (g, { inputs, attrs: { epsilon }, needs }) => batchNormApplyVjp(inputs, g, epsilon, needs),
  batchNormTraining: (g, { inputs, attrs: { epsilon }, needs }) => batchNormTrainingVjp(inputs, g, epsilon, needs),
  batchNormGradSums: (g, { inputs, output, attrs: { epsilon } }) => batchNormGradSumsVjp(inputs, output, g, epsilon),
  batchNormGradInput: (g, { inputs, attrs: { epsilon }, needs }) => batchNormGradInputVjp(inputs, g, epsilon, needs),
  layerNorm: (g, { inputs, attrs: { epsilon }, needs }) => layerNormVjp(inputs, g, epsilon, needs),
  layerNormGradSums: () => notRecorded('layerNormGradSums'),
  layerNormGradInput: () => notRecorded('layerNormGradInput'),
  // Depthwise convolution: the same bilinear adjoint pairs as conv2d, within each channel.
  depthwiseConv2d: (g, { inputs: [x, f], attrs, needs: [needX, needF] }) => {
    const plan = depthwisePlanFromAttrs(x.shape, f.shape, attrs);
    return [needX ? depthwiseBackpropInputPlanned(g, f, x.shape, plan) : null, needF ? depthwiseBackpropFilterPlanned(x, g, f.shape, plan) : null];
  },
  depthwiseConv2dBackpropInput: (g, { inputs: [dy, f], attrs, needs: [needDy, needF] }) => {
    const plan = depthwisePlanFromAttrs(attrs.inputShape, f.shape, attrs);
    return [needDy ? depthwiseConv2dPlanned(g, f, plan) : null, needF ? depthwiseBackpropFilterPlanned(g, dy, f.shape, plan) : null];
  },
  // y = act(depthwise(x, f) + b), as fusedConv2d.
  fusedDepthwiseConv2d: (g, { inputs: [x, f], output, attrs, needs: [needX, needF, needB] }) => {
    const dz = activationGrad(attrs.activation, output, g);
    const plan = depthwisePlanFromAttrs(x.shape, f.shape, attrs);
    const grads = [
      needX ? depthwiseBackpropInputPlanned(dz, f, x.shape, plan) : null,
      needF ? depthwiseBackpropFilterPlanned(x, dz, f.shape, plan) : null,
      needB ? sum(dz, [0, 1, 2]) : null,
    ];
    releaseLocal(dz, g);
    return grads;
  },
  depthwiseConv2dBackpropFilter: (g, { inputs: [x, dy], attrs, needs: [needX, needDy] }) => {
    const plan = depthwisePlanFromAttrs(x.shape, attrs.filterShape, attrs);
    return [needX ? depthwiseBackpropInputPlanned(dy, g, x.shape, plan) : null, needDy ? depthwiseConv2dPlanned(x, g, plan) : null];
  },
  // An integer permutation: no gradient (sorted values get theirs through the gather that takes them).
  argsortRows: none,
  // The user's rule, already checked against the inputs' shapes by st.customGrad.
  customGrad: (g, { attrs: { vjp } }) => vjp(g) as (Tensor | null)[],
};
