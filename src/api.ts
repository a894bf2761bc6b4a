// The public barrel: `import * as st from 'strata'`. Everything users may rely on is exported
// here by name; internal helpers stay in their modules.
import './tensor-methods.js';

export { StrataError, ShapeError, DtypeError, ValueError, FormatError } from './core/errors.js';
export type { DType, TypedArray } from './core/dtype.js';
export { setSeed, type RngState } from './core/rng.js';
export { setReadLimits, getReadLimits, type ReadLimits } from './core/limits.js';

export type { Backend, BackendStatus } from './backend/index.js';
export { profile, type ProfileInfo } from './profile.js';
export { setBackend, getBackend, backends, ready, registerBackend, setNumThreads, getNumThreads } from './backend/index.js';
export { memory, type BackendMemory } from './memory.js';

export { Tensor, type NestedArray } from './tensor/tensor.js';
export {
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  arange,
  linspace,
  eye,
  randomNormal,
  randomUniform,
  truncatedNormal,
  type TensorLike,
  type RandomNormalOptions,
  type RandomUniformOptions,
} from './tensor/create.js';

export { variable, grad, valueAndGrad } from './autograd/functional.js';
export { customGrad, type CustomGradResult, type GradSaveFunc } from './autograd/custom-grad.js';
export { noGrad } from './tensor/tape.js';
export { backward, type BackwardOptions } from './autograd/backward.js';

export {
  add,
  sub,
  mul,
  div,
  pow,
  neg,
  abs,
  exp,
  log,
  sqrt,
  square,
  sign,
  tanh,
  sigmoid,
  relu,
  sin,
  cos,
  floor,
  ceil,
  round,
  maximum,
  minimum,
  clip,
  equal,
  notEqual,
  greater,
  greaterEqual,
  less,
  lessEqual,
  logicalAnd,
  logicalOr,
  logicalNot,
  where,
  cast,
  reciprocal,
  rsqrt,
  log1p,
  softplus,
  isNaN,
  isFinite,
} from './ops/elementwise.js';
export { sum, mean, max, min, prod, argMax, argMin, moments, type Axis } from './ops/reduction.js';
export {
  reshape,
  transpose,
  expandDims,
  squeeze,
  flatten,
  concat,
  stack,
  split,
  slice,
  gather,
  scatterAdd,
  pad,
  tile,
  broadcastTo,
  stopGradient,
} from './ops/shape-ops.js';
export { matmul, dot } from './ops/linalg.js';
export { softmax, logSoftmax, logSumExp, oneHot, type OneHotOptions } from './ops/nn.js';
// Ops of tfjs and keras.ops beyond the primitives (issue 23; docs/parity.md lists them all).
export { tan, asin, acos, atan, atan2, sinh, cosh, asinh, acosh, atanh, expm1 } from './ops/math-extra.js';
export { erf, erfc } from './ops/special.js';
export { mod, floorDiv, squaredDifference, divNoNan, isInf, logicalXor, step, addN, clipByValue, fmax, fmin } from './ops/arithmetic-extra.js';
export { cumsum, cumprod } from './ops/scan.js';
export { einsum } from './ops/einsum.js';
export { topk, sort, argsort, unique, searchSorted, lowerBound, upperBound, type Side, type TopK, type UniqueResult } from './ops/sorting.js';
export { reverse, gatherND, scatterND, tensorScatterUpdate, unsortedSegmentSum, bincount, denseBincount } from './ops/indexing.js';
export { stridedSlice } from './ops/strided-slice.js';
export { depthToSpace, spaceToDepth, spaceToBatchND, batchToSpaceND, mirrorPad, type DataFormat, type MirrorPadMode } from './ops/space.js';
export { norm, euclideanNorm, outerProduct, diag, meshgrid, fill, type NormOrder, type MeshgridOptions } from './ops/linalg-extra.js';
export { randomUniformInt, randomGamma, randomStandardNormal, multinomial, rand, dropout } from './ops/random-extra.js';
export { ctcLoss } from './ops/ctc.js';
export { ctcDecode, type CtcDecodeOptions, type CtcDecodeResult } from './ops/ctc-decode.js';
export { depthwiseConv2d, separableConv2d, conv1d, conv2dTranspose, type Conv1dOptions } from './ops/conv-extra.js';
export {
  conv3d,
  conv3dTranspose,
  maxPool3d,
  avgPool3d,
  dilation2d,
  localResponseNormalization,
  type Conv3dOptions,
  type Pool3dOptions,
  type Padding3d,
  type Dilation2dOptions,
  type Triple,
} from './ops/conv3d.js';
export { booleanMask, nonzero, argwhere, inTopK, setdiff1d, ensureShape, type SetDiff } from './ops/host-select.js';
export {
  all,
  any,
  countNonzero,
  unstack,
  log2,
  log10,
  exp2,
  trunc,
  variance,
  std,
  logaddexp,
  hypot,
  tril,
  triu,
  diagonal,
  trace,
  swapaxes,
  moveaxis,
  roll,
  take,
  takeAlongAxis,
} from './ops/numpy-extra.js';
export { celu, glu, hardTanh, hardShrink, softShrink, sparsePlus, sparseSigmoid, squareplus, tanhShrink, threshold } from './ops/activation-extra.js';
export { sparsemax } from './ops/sparsemax.js';
export {
  cbrt,
  deg2rad,
  rad2deg,
  heaviside,
  signbit,
  sinc,
  ldexp,
  logaddexp2,
  fmod,
  gcd,
  lcm,
  isclose,
  allclose,
  nanToNum,
  isin,
  type IsCloseOptions,
  type NanToNumOptions,
} from './ops/numpy-elementwise.js';
export {
  append,
  diagflat,
  diff,
  digitize,
  kron,
  repeat,
  rot90,
  tri,
  vander,
  cross,
  trapezoid,
  select,
  unravelIndex,
  ptp,
  logspace,
  geomspace,
  type SpaceOptions,
} from './ops/numpy-shape.js';
export {
  quantile,
  percentile,
  median,
  nanquantile,
  nanpercentile,
  nanmedian,
  nansum,
  nanprod,
  nanmean,
  nanvar,
  nanstd,
  nanmax,
  nanmin,
  nanargmax,
  nanargmin,
  nancumsum,
  nancumprod,
  type QuantileMethod,
  type QuantileOptions,
} from './ops/numpy-stats.js';
export { multiHot, l2Normalize, cdist, erfinv, psnr, segmentMax, segmentMin, segmentProd, type L2NormalizeOptions } from './ops/keras-nn-extra.js';
export { sliceUpdate, corrcoef, correlate, histogram, argpartition, rearrange, type CorrelateMode, type Histogram } from './ops/numpy-misc.js';
export {
  scalar,
  tensor1d,
  tensor2d,
  tensor3d,
  tensor4d,
  tensor5d,
  tensor6d,
  concat1d,
  concat2d,
  concat3d,
  concat4d,
  slice1d,
  slice2d,
  slice3d,
  slice4d,
  reverse1d,
  reverse2d,
  reverse3d,
  reverse4d,
  pad1d,
  pad2d,
  pad3d,
  pad4d,
  matMul,
  range,
  clone,
} from './ops/tfjs-aliases.js';
export {
  elu,
  selu,
  relu6,
  leakyRelu,
  prelu,
  logSigmoid,
  gelu,
  silu,
  swish,
  softsign,
  hardSigmoid,
  hardSilu,
  hardSwish,
} from './nn/activation-ops.js';
export { conv2d, conv2dBackpropInput, conv2dBackpropFilter, type Conv2dOptions } from './ops/conv.js';
export { maxPool2d, avgPool2d, type Pool2dOptions } from './ops/pool.js';
export { unfold, fold, type FoldOptions } from './ops/fold.js';
export { maxPoolWithArgmax } from './ops/pool-argmax.js';
import { fusedConv2d, fusedMatMul } from './ops/fused.js';
import { fusedConv2dMaxPool } from './ops/conv-pool.js';
import { fusedDepthwiseConv2d } from './ops/fused-depthwise.js';
/**
 * `st.fused.*`: an op followed by a bias and an activation (and, for conv2dMaxPool, a max pooling)
 * as one kernel where the backend has one, else as the separate ops, with the same results and
 * gradients either way (tfjs's `tf.fused`, plus conv2dMaxPool).
 * @namespace
 */
export const fused = {
  /**
   * `activation(conv2d(x, filter) + bias)` (tfjs's `tf.fused.conv2d`).
   * @example
   * ```ts
   * const y = st.fused.conv2d({ x: st.randomUniform([8, 28, 28, 1]), filter: st.randomNormal([3, 3, 1, 32]),
   *                             bias: st.zeros([32]), activation: 'relu' });
   * console.log(y.shape); // [8, 26, 26, 32]
   * ```
   */
  conv2d: fusedConv2d,
  /** `activation(matmul(a, b) + bias)` (tfjs's `tf.fused.matMul`), what a dense layer runs. */
  matMul: fusedMatMul,
  /** A fused conv2d followed by max pooling, what a model runs for a Conv2D + MaxPooling2D pair. */
  conv2dMaxPool: fusedConv2dMaxPool,
  /** `activation(depthwiseConv2d(x, filter) + bias)` (tfjs's `tf.fused.depthwiseConv2d`), with relu6 for MobileNets. */
  depthwiseConv2d: fusedDepthwiseConv2d,
};
export type { FusedConv2dArgs, FusedMatMulArgs } from './ops/fused.js';
export type { FusedDepthwiseConv2dArgs } from './ops/fused-depthwise.js';
export type { FusedConv2dMaxPoolArgs } from './ops/conv-pool.js';
export { batchNorm, normalize, layerNorm, type NormalizeOptions } from './ops/normalization.js';
export { batchNormTraining, type BatchNormTrainingOptions } from './ops/normalization.js';
export { rmsNormalization, type RmsNormalizationOptions } from './ops/rms-normalization.js';
export { losses, type Reduction, type LossOptions, type ProbabilisticLossOptions } from './ops/losses.js';
export { optimizers, schedules, getOptimizer, Optimizer, type LearningRate, type Schedule, type GradientPair } from './optimizers/index.js';
export {
  SGD,
  RMSprop,
  Adam,
  AdamW,
  Adagrad,
  Adadelta,
  Adamax,
  Nadam,
  type CommonOptions as OptimizerOptions,
  type SgdOptions,
  type RmspropOptions,
  type AdamOptions,
  type AdagradOptions,
  type AdadeltaOptions,
  type AdamaxOptions,
} from './optimizers/index.js';
export type { ExponentialDecayOptions, CosineDecayOptions, PiecewiseConstantOptions } from './optimizers/schedules.js';
export { getLoss, type LossFunction, type LossIdentifier } from './ops/losses.js';
export type { CosineSimilarityOptions, BinaryFocalOptions, CategoricalFocalOptions, OverlapOptions, TverskyOptions } from './ops/losses-extra.js';
export type { GeneralizedCrossEntropyOptions, CircleOptions } from './ops/losses-keras-more.js';
export type { TensorInput } from './ops/operand.js';

export { initializers, getInitializer, serializeInitializer, type Initializer, type InitializerIdentifier } from './nn/initializers.js';
export type {
  ConstantOptions,
  IdentityOptions,
  OrthogonalOptions,
  SeedOptions,
  VarianceScalingOptions,
  FanMode,
  ScalingDistribution,
  RandomNormalOptions as RandomNormalInitializerOptions,
  RandomUniformOptions as RandomUniformInitializerOptions,
} from './nn/initializers.js';
export { regularizers, getRegularizer, serializeRegularizer, type Regularizer, type RegularizerIdentifier } from './nn/regularizers.js';
export type { L1Options, L2Options, L1L2Options } from './nn/regularizers.js';
export { activations, getActivation, serializeActivation, type Activation, type ActivationFn, type ActivationIdentifier } from './nn/activations.js';
export type { EluOptions, GeluOptions, LeakyReluOptions, SoftmaxOptions } from './nn/activations.js';
export type { CeluOptions, AxisActivationOptions, ShrinkOptions, SquareplusOptions } from './nn/activations-more.js';
export { Layer, type LayerArgs, type CallOptions, type LayerWeight, type LayerOutput } from './nn/layer.js';
export { SymbolicTensor, type Shape } from './nn/symbolic.js';
export { layers } from './nn/layers/index.js';
export {
  image,
  type ResizeOptions,
  type TransformOptions,
  type AffineTransformOptions,
  type ColorOptions,
  type CropImagesOptions,
  type PadImagesOptions,
  type ExtractPatchesOptions,
  type GaussianBlurOptions,
  type ExtractPatches3dOptions,
  type PerspectiveTransformOptions,
  type MapCoordinatesOptions,
  type CoordinateFillMode,
  type ScaleMethod,
  type ElasticTransformOptions,
  type SobelEdgesOptions,
  type SsimOptions,
  type ImageDataFormat,
  type NmsWithScoresResult,
  type NmsPaddedResult,
} from './nn/image/index.js';
export * from './nn/layers/public.js';
export type { SerializedLayer } from './nn/registry.js';
export { adaptiveAveragePool, adaptiveMaxPool, type AdaptivePoolOptions } from './ops/adaptive-pool.js';
export {
  applications,
  type ApplicationArgs,
  type LeNet5Args,
  type MobileNetArgs,
  type MobileNetV1Args,
  type SeBlockArgs,
  type SeResNetArgs,
  type WideResNetArgs,
} from './applications/index.js';
export { vis } from './vis/index.js';
export type { PcaOptions, PcaResult } from './vis/pca.js';
export type { SaliencyOptions } from './vis/saliency.js';
export type { ActivationMaximizationOptions, ActivationMaximizationResult } from './vis/activation-maximization.js';
export type { DeepDreamOptions, DeepDreamResult } from './vis/deep-dream.js';
export { graph, type GraphOptions } from './graph/index.js';
export { distributed, DistributedError, type DistributedInfo, type DistributedInitOptions } from './distributed/index.js';
export type { DistributedOption } from './models/training-args.js';
export { onnx, type OnnxApi, type ImportOptions as OnnxImportOptions, type OnnxTensor } from './interop/onnx/index.js';
export { tfjs, type TfjsApi, type TfjsArtifacts } from './interop/tfjs/index.js';
export { keras, type KerasApi } from './interop/keras/index.js';
export {
  torch,
  type TorchApi,
  type TorchMapping,
  type TorchNameMap,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type StateDictEntry,
  type StateDictOptions,
} from './interop/torch/index.js';
export { metrics, getMetric, Metric, type MetricIdentifier, type MetricFunction } from './metrics/index.js';
export {
  Mean,
  MeanMetricWrapper,
  AutoAccuracy,
  RootMeanSquaredError,
  Precision,
  Recall,
  AUC,
  type NameOption,
  type AccuracyOptions,
  type BinaryAccuracyOptions,
  type TopKOptions,
  type ConfusionOptions,
  type AucOptions,
  type AucCurve,
  type AucSummation,
  type AccuracyVariant,
  ConfusionCount,
  FBetaScore,
  F1Score,
  IoU,
  BinaryIoU,
  R2Score,
  Sum,
  ConstrainedRate,
  type CountOptions,
  type FBetaScoreOptions,
  type FScoreAverage,
  type IoUOptions,
  type TargetIoUOptions,
  type BinaryIoUOptions,
  type R2ScoreOptions,
  type R2Aggregation,
  type AxisMetricOptions,
  type ConstrainedRateOptions,
  type ConfusionCell,
  type ConfusionRate,
} from './metrics/index.js';
export { callbacks, History, type Callback, type Logs, type TrainingParams } from './callbacks/index.js';
export {
  EarlyStopping,
  ModelCheckpoint,
  LearningRateScheduler,
  ReduceLROnPlateau,
  CsvLogger,
  ProgressBar,
  LambdaCallback,
  type CallbackModel,
  type EarlyStoppingOptions,
  type ModelCheckpointOptions,
  type EpochSchedule,
  type LearningRateSchedulerOptions,
  type ReduceLROnPlateauOptions,
  type CsvLoggerOptions,
  type ProgressBarOptions,
  type ProgressStream,
  type LambdaCallbackOptions,
  type MonitorMode,
} from './callbacks/index.js';
export {
  registerModelStore,
  type ModelStore,
  type StoredModel,
  type SaveOptions,
  type EncodedModel,
  type ManifestBody,
  type NamedBlob,
  type Manifest,
  type TrainingConfig,
  type FileRecord,
} from './models/index.js';
export {
  sequential,
  model,
  loadModel,
  Model,
  Sequential,
  type TrainingPosition,
  type ModelArgs,
  type SequentialArgs,
  type CompileArgs,
  type FitArgs,
  type EvaluateArgs,
  type PredictArgs,
  type SummaryOptions,
  type LoadOptions,
  type ClassWeight,
  type TrainOnBatchArgs,
  type TestOnBatchArgs,
  type XInput,
  type YInput,
} from './models/index.js';
export type { PerOutput, EpochSoFar } from './models/training-args.js';
export { data, Dataset } from './data/index.js';
export type { MnistData, CsvOptions, ImageFolderOptions, ImageFolderDataset, ReadImageOptions } from './data/file-types.js';
export type {
  Batched,
  ShuffleOptions,
  BatchOptions,
  Augmenter,
  ArraysInput,
  Row,
  Augmentable,
  AugmentOptions,
  GeometricOptions,
  Range,
} from './data/index.js';

/** The package's version, as in package.json. */
export const version = '0.1.0';
