import type { DType } from '../core/dtype.js';

// Note [The primitive set]
// Everything Strata computes is built from these primitives. A backend implements each core
// primitive as a kernel, the autograd table has one vector-Jacobian rule per primitive, and
// both tables are typed `{ [P in Primitive]: ... }`, so adding a primitive here makes the
// compiler list every place that still needs it. Optional primitives are fast kernels that a
// backend may offer; ops/ falls back to a composite of core primitives when it does not.

export const UNARY_PRIMITIVES = [
  'neg',
  'abs',
  'exp',
  'log',
  'sqrt',
  'sign',
  'tanh',
  'sigmoid',
  'relu',
  'sin',
  'cos',
  'floor',
  'ceil',
  'round',
  'logicalNot',
] as const;
export type UnaryPrimitive = (typeof UNARY_PRIMITIVES)[number];

export const ARITHMETIC_PRIMITIVES = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;
export const COMPARISON_PRIMITIVES = ['equal', 'notEqual', 'greater', 'greaterEqual', 'less', 'lessEqual', 'logicalAnd', 'logicalOr'] as const;
export type ArithmeticPrimitive = (typeof ARITHMETIC_PRIMITIVES)[number];
export type ComparisonPrimitive = (typeof COMPARISON_PRIMITIVES)[number];
export type BinaryPrimitive = ArithmeticPrimitive | ComparisonPrimitive;

export const REDUCE_PRIMITIVES = ['sum', 'prod', 'max', 'min'] as const;
export type ReducePrimitive = (typeof REDUCE_PRIMITIVES)[number];

/** Explicit 2-D padding, resolved from 'valid' | 'same' by ops/ so kernels never guess. */
export interface Pads2d {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export interface Conv2dAttrs {
  strides: [number, number];
  dilation: [number, number];
  pads: Pads2d;
}

export interface Pool2dAttrs {
  poolSize: [number, number];
  strides: [number, number];
  pads: Pads2d;
}

type NoAttrs = Record<string, never>;

/** Attributes of each core primitive (inputs are listed in the comment beside it). */
export type CoreAttrs = { [P in UnaryPrimitive | BinaryPrimitive]: NoAttrs } & {
  [P in ReducePrimitive]: { axes: number[] }; // x → x with `axes` removed
} & {
  argMax: { axis: number }; // x → int32, `axis` removed
  argMin: { axis: number };
  matmul: { transposeA: boolean; transposeB: boolean }; // a [B, M, K], b [B, K, N] → [B, M, N]
  reshape: { shape: number[] }; // may alias the input's storage
  transpose: { perm: number[] };
  broadcastTo: { shape: number[] };
  cast: { dtype: DType };
  slice: { begin: number[]; size: number[] };
  pad: { paddings: [number, number][]; value: number };
  concat: { axis: number }; // n inputs of one dtype
  gather: { axis: number }; // x, indices (int32, validated in range by ops/)
  scatterAdd: { axis: number; size: number }; // updates, indices → the transpose of gather
  where: NoAttrs; // cond (bool), a, b with broadcasting
  // x, dy (one shape) → dy where x > 0, else 0: relu's gradient in one pass instead of a
  // comparison, a cast and a product over the largest activations of a network.
  reluGrad: NoAttrs;
};

/** Attributes of the optional fast kernels; each has a composite fallback in ops/. */
export type OptionalAttrs = {
  conv2d: Conv2dAttrs; // x NHWC, filter [kh, kw, in, out]
  conv2dBackpropInput: Conv2dAttrs & { inputShape: number[] }; // dy, filter
  conv2dBackpropFilter: Conv2dAttrs & { filterShape: number[] }; // x, dy
  // x, dy → flat [dfilter | dbias (the sum of dy over N, H, W)] in one pass over dy
  conv2dBackpropFilterBias: Conv2dAttrs & { filterShape: number[] };
  // x NHWC; keepIndices: the kernel may keep each window's winner with the output for
  // maxPool2dGrad (Note [Max pooling keeps its winners] in ops/pool.ts)
  maxPool2d: Pool2dAttrs & { keepIndices?: boolean };
  // x, dy[, y = the forward output] → dx (dy goes to the first maximum of each window; with
  // reluMasked only where that maximum is positive: Note [Gradients already masked by a ReLU] in
  // ops/relu-masked-grads.ts)
  maxPool2dGrad: Pool2dAttrs & { reluMasked?: boolean };
  avgPool2d: Pool2dAttrs; // divides by the number of real (unpadded) pixels
  avgPool2dGrad: Pool2dAttrs & { inputShape: number[] }; // dy
  softmax: { axis: number };
  logSoftmax: { axis: number };
  // y (the forward output), g → dx in one pass per row (Note [Softmax gradients in one pass] in ops/softmax-grads.ts).
  softmaxGrad: { axis: number };
  logSoftmaxGrad: { axis: number };
  // Logits [N, C], int32 labels [N] → per-row loss [N] (Note [Sparse softmax cross-entropy in one
  // pass] in ops/sparse-cross-entropy.ts); the gradient primitive also takes g [N] → [N, C].
  sparseSoftmaxCrossEntropy: NoAttrs;
  sparseSoftmaxCrossEntropyGrad: NoAttrs;
  // activation(conv2d(x, filter) + bias) in one kernel: x NHWC, filter [kh, kw, in, out], bias [out].
  fusedConv2d: Conv2dAttrs & { activation: ConvActivation };
  // activation(conv2d(x, filter) + bias + addend), addend of the output's shape: a residual
  // block's last convolution and its Add in one kernel (Note [A residual add inside the
  // convolution] in native/src/conv.cc; ops/conv-residual.ts).
  fusedConv2dAdd: Conv2dAttrs & { activation: ConvActivation };
  // maxPool(relu(conv2d(x, filter) + bias)) in one kernel, for inputs with few channels (Note
  // [Convolution and pooling in one pass] in ops/conv-pool.ts): x NHWC, filter, bias → pooled.
  // convOut: the convolution's [height, width]; keepIndices keeps each window's winner with the
  // output, for the gradient kernel.
  conv2dReluMaxPool: Conv2dAttrs & { pool: Pool2dAttrs; convOut: [number, number]; keepIndices?: boolean };
  // x, dy, y (the forward output, with its winners) → flat [dfilter | dbias].
  conv2dReluMaxPoolGrad: Conv2dAttrs & { pool: Pool2dAttrs; convOut: [number, number]; filterShape: number[] };
  // activation(a·b + bias) in one kernel: a [B, M, K], b [B, K, N] (either transposed), bias [N];
  // or a [M, K], b [K, N] with no batch axis.
  fusedMatMul: { transposeA: boolean; transposeB: boolean; activation: FusedActivation };
  // One recurrent cell step's pointwise part (Note [Fused recurrent cells] in ops/recurrent-cells.ts).
  lstmCell: NoAttrs; // z [B, 4u] (gates i, f, c, o), cPrev [B, u] → [B, 2u]: h then c
  lstmCellGrad: NoAttrs; // z, cPrev, g [B, 2u] (dh then dc) → [B, 5u]: dz then dcPrev
  gruCell: NoAttrs; // xz [B, 3u], hz [B, 3u] (gates z, r, h; reset after), hPrev [B, u] → h [B, u]
  gruCellGrad: NoAttrs; // xz, hz, hPrev, dh [B, u] → [B, 7u]: dxz, dhz, dhPrev
  // A whole LSTM, GRU (resetAfter) or SimpleRNN layer over time (Note [Whole-sequence recurrent
  // kernels] in ops/recurrent-sequence.ts): x [B, T, F], h0 [B, u], c0 [B, u] (LSTM), kernel
  // [F, g·u], recurrentKernel [u, g·u], bias [4u] ([u] for SimpleRNN) → flat [y (B·T·u) | cT (B·u), LSTM]. `training` keeps
  // what rnnSequenceGrad needs with the output.
  rnnSequence: { cell: RecurrentCell; training: boolean };
  // The same operands, the forward output and its gradient → flat [dx | dh0 | dc0 | dKernel | dRecurrent | dBias].
  rnnSequenceGrad: { cell: RecurrentCell };
  // Normalization of channels-last data seen as [rows, C] (Note [Fused normalization] in
  // ops/normalization-fused.ts); gamma, beta, mean and variance are [C], stats and sums [2, C].
  batchNormStats: NoAttrs; // x [..., C] → [2, C]: mean, then biased variance over all axes but the last
  batchNormApply: { epsilon: number }; // x, mean, variance, gamma, beta → y (given statistics)
  batchNormTraining: { epsilon: number }; // x, gamma, beta, stats = batchNormStats(x) → y
  batchNormGradSums: { epsilon: number }; // x, stats, dy → [2, C]: Σ dy·x̂ (dgamma), Σ dy (dbeta)
  batchNormGradInput: { epsilon: number }; // x, gamma, stats, dy, sums → dx, through the statistics too
  layerNorm: { epsilon: number }; // x, gamma, beta → y, each row normalized over the last axis
  layerNormGradSums: { epsilon: number }; // x, dy → [2, C]: Σ dy·x̂ (dgamma), Σ dy (dbeta)
  layerNormGradInput: { epsilon: number }; // x, gamma, dy → dx
  // Depthwise convolution (Note [Depthwise convolution] in ops/depthwise-conv.ts): x NHWC [N, H, W, C],
  // filter [kh, kw, C, dm] → [N, outH, outW, C * dm], output channel c * dm + m.
  depthwiseConv2d: Conv2dAttrs;
  depthwiseConv2dBackpropInput: Conv2dAttrs & { inputShape: number[] }; // dy, filter
  depthwiseConv2dBackpropFilter: Conv2dAttrs & { filterShape: number[] }; // x, dy
  // activation(depthwiseConv2d(x, filter) + bias) in one kernel: bias [C * dm].
  fusedDepthwiseConv2d: Conv2dAttrs & { activation: ConvActivation };
  // x [rows, n] → int32 [rows, n]: each row's stable sorting permutation (ties by lower index,
  // NaN above +Infinity, -0 equal to 0: Note [Sorting on the host] in ops/sorting.ts), for a
  // backend that cannot read values back synchronously to sort them on the host.
  argsortRows: { descending: boolean };
  // Never a kernel: the tape node of st.customGrad, standing for a user function of its inputs;
  // `vjp` is the user's gradient rule (Note [Custom gradients] in autograd/custom-grad.ts).
  customGrad: { vjp: (dy: object) => readonly (object | null)[] };
};

/** @inline */
export type FusedActivation = 'linear' | 'relu';
/** The activations a fused convolution applies: also relu6, min(max(x, 0), 6), MobileNet's. @inline */
export type ConvActivation = FusedActivation | 'relu6';
/** The cells of the whole-sequence kernels: LSTM, GRU (resetAfter) and SimpleRNN with tanh or relu. */
export type RecurrentCell = 'lstm' | 'gru' | 'rnnTanh' | 'rnnRelu';

export type PrimitiveAttrs = CoreAttrs & OptionalAttrs;
export type CorePrimitive = keyof CoreAttrs;
export type OptionalPrimitive = keyof OptionalAttrs;
export type Primitive = keyof PrimitiveAttrs;
