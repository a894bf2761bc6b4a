// How test/torch-fixtures.test.ts replays the cases of scripts/make_parity_fixtures.py (the ops and
// losses of issue 23): one runner per fixture op name, mapping the case's inputs and JSON options
// onto the Strata call.
import * as st from '../src/index.js';

export type Runner = (xs: st.Tensor[], options: Record<string, unknown>) => st.Tensor;
type LossFn = (yTrue: st.Tensor, yPred: st.Tensor, options: object) => st.Tensor;

const unary =
  (f: (x: st.Tensor) => st.Tensor): Runner =>
  ([x]) =>
    f(x);
const binary =
  (f: (a: st.Tensor, b: st.Tensor) => st.Tensor): Runner =>
  ([a, b]) =>
    f(a, b);
const loss =
  (name: keyof typeof st.losses): Runner =>
  ([t, p], o) =>
    (st.losses[name] as LossFn)(t, p, o);
/** JSON has no Infinity: the generator writes 'inf' and '-inf'. */
const order = (o: unknown) => (o === 'inf' ? Infinity : o === '-inf' ? -Infinity : o) as st.NormOrder;
type Pairs = [number, number][];

export const PARITY_RUNNERS: Record<string, Runner> = {
  // math-extra, special, arithmetic-extra
  tan: unary(st.tan),
  asin: unary(st.asin),
  acos: unary(st.acos),
  atan: unary(st.atan),
  sinh: unary(st.sinh),
  cosh: unary(st.cosh),
  asinh: unary(st.asinh),
  acosh: unary(st.acosh),
  atanh: unary(st.atanh),
  expm1: unary(st.expm1),
  erf: unary(st.erf),
  erfc: unary(st.erfc),
  atan2: binary(st.atan2),
  mod: binary(st.mod),
  floorDiv: binary(st.floorDiv),
  squaredDifference: binary(st.squaredDifference),
  divNoNan: binary(st.divNoNan),
  fmax: binary(st.fmax),
  fmin: binary(st.fmin),
  // activations as ops
  selu: unary(st.selu),
  relu6: unary(st.relu6),
  logSigmoid: unary(st.logSigmoid),
  silu: unary(st.silu),
  softsign: unary(st.softsign),
  hardSigmoid: unary(st.hardSigmoid),
  hardSilu: unary(st.hardSilu),
  gelu: ([x], o) => st.gelu(x, o.approximate as boolean | undefined),
  elu: ([x], o) => st.elu(x, o.alpha as number),
  leakyRelu: ([x], o) => st.leakyRelu(x, o.alpha as number),
  prelu: binary(st.prelu),
  celu: ([x], o) => st.celu(x, o.alpha as number),
  hardTanh: unary(st.hardTanh),
  hardShrink: ([x], o) => st.hardShrink(x, o.threshold as number),
  softShrink: ([x], o) => st.softShrink(x, o.threshold as number),
  tanhShrink: unary(st.tanhShrink),
  sparsePlus: unary(st.sparsePlus),
  sparseSigmoid: unary(st.sparseSigmoid),
  squareplus: ([x], o) => st.squareplus(x, o.b as number),
  threshold: ([x], o) => st.threshold(x, o.threshold as number, o.defaultValue as number),
  glu: ([x], o) => st.glu(x, o.axis as number),
  // NumPy-style ops of keras.ops
  log2: unary(st.log2),
  log10: unary(st.log10),
  exp2: unary(st.exp2),
  trunc: unary(st.trunc),
  variance: ([x], o) => st.variance(x, o.axis as number | undefined, o.keepDims as boolean | undefined),
  std: ([x], o) => st.std(x, o.axis as number | undefined, o.keepDims as boolean | undefined),
  logaddexp: binary(st.logaddexp),
  hypot: binary(st.hypot),
  tril: ([x], o) => st.tril(x, o.k as number),
  triu: ([x], o) => st.triu(x, o.k as number),
  diagonal: ([x], o) => st.diagonal(x, o.offset as number, o.axis1 as number, o.axis2 as number),
  trace: ([x], o) => st.trace(x, o.offset as number),
  swapaxes: ([x], o) => st.swapaxes(x, o.axis1 as number, o.axis2 as number),
  moveaxis: ([x], o) => st.moveaxis(x, o.source as number[], o.destination as number[]),
  roll: ([x], o) => st.roll(x, o.shift as number | number[], o.axis as number[] | undefined),
  take: ([x, i], o) => st.take(x, i, o.axis as number | undefined),
  takeAlongAxis: ([x, i], o) => st.takeAlongAxis(x, i, o.axis as number),
  unstack: ([x], o) => st.unstack(x, o.axis as number)[o.piece as number],
  countNonzero: ([x], o) => st.countNonzero(x, o.axis as number),
  // scans, einsum, norms
  cumsum: ([x], o) => st.cumsum(x, o.axis as number, o.exclusive as boolean, o.reverse as boolean),
  cumprod: ([x], o) => st.cumprod(x, o.axis as number, o.exclusive as boolean, o.reverse as boolean),
  einsum: (xs, o) => st.einsum(o.equation as string, ...xs),
  norm: ([x], o) => st.norm(x, order(o.ord), o.axis as number | number[] | undefined, o.keepDims as boolean | undefined),
  euclideanNorm: ([x], o) => st.euclideanNorm(x, o.axis as number),
  outerProduct: binary(st.outerProduct),
  diag: unary(st.diag),
  // convolutions
  conv1d: ([x, f], o) => st.conv1d(x, f, o as st.Conv1dOptions),
  depthwiseConv2d: ([x, f], o) => st.depthwiseConv2d(x, f, o as st.Conv2dOptions),
  separableConv2d: ([x, d, p], o) => st.separableConv2d(x, d, p, o as st.Conv2dOptions),
  conv2dTranspose: ([x, f], o) => st.conv2dTranspose(x, f, o.outputShape as number[], { strides: o.strides as number }),
  conv3d: ([x, f], o) => st.conv3d(x, f, o as st.Conv3dOptions),
  conv3dTranspose: ([x, f], o) => st.conv3dTranspose(x, f, o.outputShape as number[], { strides: o.strides as [number, number, number] }),
  maxPool3d: ([x], o) => st.maxPool3d(x, o as st.Pool3dOptions),
  avgPool3d: ([x], o) => st.avgPool3d(x, o as st.Pool3dOptions),
  dilation2d: ([x, f], o) => st.dilation2d(x, f, o as st.Dilation2dOptions),
  localResponseNormalization: ([x], o) =>
    st.localResponseNormalization(x, o.depthRadius as number, o.bias as number, o.alpha as number, o.beta as number),
  // indexing and rearrangement
  reverse: ([x], o) => st.reverse(x, o.axis as number | number[] | undefined),
  stridedSlice: ([x], o) =>
    st.stridedSlice(
      x,
      o.begin as number[],
      o.end as number[],
      o.strides as number[],
      o.beginMask as number,
      o.endMask as number,
      o.ellipsisMask as number,
      o.newAxisMask as number,
      o.shrinkAxisMask as number,
    ),
  gatherND: binary(st.gatherND),
  scatterND: ([i, u], o) => st.scatterND(i, u, o.shape as number[]),
  tensorScatterUpdate: ([x, i, u]) => st.tensorScatterUpdate(x, i, u),
  unsortedSegmentSum: ([x, ids], o) => st.unsortedSegmentSum(x, ids, o.numSegments as number),
  bincount: ([x, w], o) => st.bincount(x, w, o.size as number),
  mirrorPad: ([x], o) => st.mirrorPad(x, o.paddings as Pairs, o.mode as st.MirrorPadMode),
  depthToSpace: ([x], o) => st.depthToSpace(x, o.blockSize as number, o.dataFormat as st.DataFormat | undefined),
  spaceToDepth: ([x], o) => st.spaceToDepth(x, o.blockSize as number),
  spaceToBatchND: ([x], o) => st.spaceToBatchND(x, o.blockShape as number[], o.paddings as Pairs),
  batchToSpaceND: ([x], o) => st.batchToSpaceND(x, o.blockShape as number[], o.crops as Pairs),
  topk: ([x], o) => st.topk(x, o.k as number).values,
  topkIndices: ([x], o) => st.topk(x, o.k as number).indices,
  sort: ([x], o) => st.sort(x, o.axis as number, o.descending as boolean | undefined),
  argsort: ([x], o) => st.argsort(x, o.axis as number),
  uniqueIndices: ([x]) => st.unique(x).indices,
  searchSorted: ([s, v], o) => st.searchSorted(s, v, o.side as st.Side),
  // losses
  hinge: loss('hinge'),
  squaredHinge: loss('squaredHinge'),
  categoricalHinge: loss('categoricalHinge'),
  logCosh: loss('logCosh'),
  poisson: loss('poisson'),
  cosineSimilarity: loss('cosineSimilarity'),
  meanSquaredLogarithmicError: loss('meanSquaredLogarithmicError'),
  meanAbsolutePercentageError: loss('meanAbsolutePercentageError'),
  binaryFocalCrossentropy: loss('binaryFocalCrossentropy'),
  categoricalFocalCrossentropy: loss('categoricalFocalCrossentropy'),
  dice: loss('dice'),
  tversky: loss('tversky'),
  ctc: loss('ctc'),
  ctcLoss: ([t, p, tl, ol], o) => st.ctcLoss(t, p, tl, ol, o.maskIndex as number),
};

/**
 * The fixture files and their float32 tolerances. The composites evaluate polynomials and
 * corrections in float32 (erf, atan) or accumulate long chains (CTC over 9 frames, einsum
 * contractions), so their bound is looser than one rounding; float64 is held to 1e-9 for all.
 */
export const PARITY_FILES: { file: string; float32: { rtol: number; atol: number } }[] = [
  { file: 'torch-parity-math.json', float32: { rtol: 2e-5, atol: 2e-6 } },
  { file: 'torch-parity-numpy.json', float32: { rtol: 1e-5, atol: 1e-6 } },
  { file: 'torch-parity-scan.json', float32: { rtol: 2e-5, atol: 2e-6 } },
  { file: 'torch-parity-indexing.json', float32: { rtol: 1e-5, atol: 1e-6 } },
  { file: 'torch-parity-conv.json', float32: { rtol: 1e-4, atol: 1e-5 } },
  { file: 'torch-parity-losses.json', float32: { rtol: 2e-5, atol: 2e-6 } },
];
