// Decisions for TensorFlow.js's ops (tf.*) and layers (tf.layers.*): see decisions.ts.
import { REASON, alias, each, leftOut, planned, same, type Decision } from './decision-kit.js';

const positional = (call: string) => `options object: ${call} (tfjs passes these positionally)`;
const lossNote =
  "tfjs's core losses take weights and reduce with SUM_BY_NONZERO_WEIGHTS; Strata's are Keras's: reduction 'none' gives per-element values to weight and reduce";

const OPS: Record<string, Decision> = {
  // Same name, different call.
  truncatedNormal: same('st.truncatedNormal', positional('st.truncatedNormal(shape, {mean, stddev, dtype, seed})')),
  randomNormal: same('st.randomNormal', positional('st.randomNormal(shape, {mean, stddev, dtype, seed})')),
  randomUniform: same('st.randomUniform', positional('st.randomUniform(shape, {min, max, dtype, seed})')),
  oneHot: same('st.oneHot', positional('st.oneHot(indices, depth, {onValue, offValue, dtype})')),
  conv2d: same('st.conv2d', positional('st.conv2d(x, filter, {strides, padding, dilation})') + '; NHWC only'),
  conv1d: same('st.conv1d', positional('st.conv1d(x, filter, {stride, padding, dilation})') + '; NWC only'),
  depthwiseConv2d: same('st.depthwiseConv2d', positional('st.depthwiseConv2d(x, filter, {strides, padding, dilation})') + '; NHWC only'),
  separableConv2d: same('st.separableConv2d', positional('st.separableConv2d(x, depthwiseFilter, pointwiseFilter, {strides, padding, dilation})')),
  conv2dTranspose: same('st.conv2dTranspose', positional('st.conv2dTranspose(x, filter, outputShape, {strides, padding})')),
  conv3d: same(
    'st.conv3d',
    positional('st.conv3d(x, filter, {strides, padding, dilation})') + '; NDHWC only; a composite (no backend has 3-D kernels)',
  ),
  conv3dTranspose: same('st.conv3dTranspose', positional('st.conv3dTranspose(x, filter, outputShape, {strides, padding})')),
  maxPool3d: same('st.maxPool3d', positional('st.maxPool3d(x, {poolSize, strides, padding})') + '; NDHWC'),
  avgPool3d: same('st.avgPool3d', positional('st.avgPool3d(x, {poolSize, strides, padding})') + '; NDHWC'),
  dilation2d: same('st.dilation2d', positional('st.dilation2d(x, filter, {strides, padding, dilations})')),
  eye: same('st.eye', '(n, m, dtype): no batchShape (broadcast the result instead)'),
  gather: same('st.gather', '(x, indices, axis): no batchDims (gatherND or takeAlongAxis cover batched gathers)'),
  variable: same('st.variable', 'st.variable(x) marks a tensor for gradients; trainable weights live in layers'),
  searchSorted: same('st.searchSorted', 'the result has the shape of values (tfjs returns 2-D for 1-D inputs)'),
  'losses.meanSquaredError': same('st.losses.meanSquaredError', lossNote),
  'image.transform': same(
    'st.image.transform',
    positional('st.image.transform(images, transforms, {interpolation, fillMode, fillValue, outputShape})'),
  ),
  ...Object.fromEntries(
    ['cropAndResize', 'nonMaxSuppression', 'nonMaxSuppressionWithScore', 'nonMaxSuppressionPadded'].map((n) => [
      `image.${n}`,
      same(`st.image.${n}`, 'reads the boxes on the host synchronously (arrays, or tensors on a CPU backend); the Async forms work on every backend'),
    ]),
  ),
  // Other spellings in Strata.
  avgPool: alias('st.avgPool2d', 'st.avgPool2d(x, {poolSize, strides, padding}); NHWC'),
  maxPool: alias('st.maxPool2d', 'st.maxPool2d(x, {poolSize, strides, padding}); NHWC'),
  pool: alias('st.maxPool2d', "pool(x, window, 'max' | 'avg', ...) is st.maxPool2d or st.avgPool2d; dilated pooling is not offered"),
  ...each(
    ['batchNorm2d', 'batchNorm3d', 'batchNorm4d'],
    alias('st.batchNorm', "tfjs's rank-checked spellings of batchNorm; st.batchNorm takes any rank"),
  ),
  print: alias('st.Tensor.prototype.toString', 'console.log(x.toString()) prints the values NumPy-style'),
  whereAsync: alias('st.argwhere', 'synchronous: Strata computes on the CPU, nothing to wait for'),
  booleanMaskAsync: alias('st.booleanMask', 'synchronous'),
  setdiff1dAsync: alias('st.setdiff1d', 'synchronous'),
  inTopKAsync: alias('st.inTopK', 'synchronous'),
  'image.grayscaleToRGB': alias('st.tile', 'st.tile(images, [1, 1, 1, 3])'),
  'linalg.bandPart': alias('st.tril', 'bandPart(a, lower, upper) is st.tril(st.triu(a, -lower), upper) for non-negative bounds'),
  sparseToDense: alias('st.scatterND', 'st.scatterND(indices, values, shape), plus the default value where nothing lands'),
  'losses.absoluteDifference': alias('st.losses.meanAbsoluteError', lossNote),
  'losses.cosineDistance': alias(
    'st.losses.cosineSimilarity',
    `tfjs returns 1 - sum(labels * predictions) of normalized inputs, Keras's loss -cosine: add 1; ${lossNote}`,
  ),
  'losses.hingeLoss': alias('st.losses.hinge', lossNote),
  'losses.huberLoss': alias('st.losses.huber', lossNote),
  'losses.logLoss': alias('st.losses.binaryCrossentropy', `probabilities clipped at 1e-7 (tfjs adds epsilon instead); ${lossNote}`),
  'losses.sigmoidCrossEntropy': alias('st.losses.binaryCrossentropy', `with {fromLogits: true}; ${lossNote}`),
  'losses.softmaxCrossEntropy': alias('st.losses.categoricalCrossentropy', `with {fromLogits: true}; ${lossNote}`),
  'losses.computeWeightedLoss': leftOut(
    "tfjs's weighting helper: multiply per-sample losses (reduction 'none') by the weights and reduce with st.sum or st.mean",
  ),
  movingAverage: leftOut('one line of ops on a variable: v.assign(v.mul(decay).add(x.mul(1 - decay)))'),
  // Planned.
  maxPoolWithArgmax: same(
    'st.maxPoolWithArgmax',
    "TensorFlow's flattened NHWC indexes; the winners are found again with the patch gather rather than kept by the pooling kernel",
  ),
  // Left out.
  'image.threshold': leftOut("binarizing images (Otsu's or the triangle method) is preprocessing for classic vision, not for training networks"),
  ...each(
    ['basicLSTMCell', 'LSTMCellFunc', 'multiRNNCell'],
    leftOut("tfjs's old functional RNN cells: st.layers.lstm (and gru, simpleRNN) run the cells, fused on the native backend"),
  ),
  bitwiseAnd: REASON.bitwise,
  broadcastArgs: leftOut('shapes are plain arrays in Strata (x.shape), and ops broadcast them themselves'),
  buffer: leftOut("tfjs's mutable TensorBuffer: fill a TypedArray and call st.tensor"),
  ...each(['complex', 'real', 'imag'], REASON.complex),
  ...each(['fft', 'ifft', 'rfft', 'irfft', 'spectral.fft', 'spectral.ifft', 'spectral.rfft', 'spectral.irfft', 'signal.stft'], REASON.spectral),
  ...each(['signal.hammingWindow', 'signal.hannWindow', 'signal.frame', 'cosineWindow', 'enclosingPowerOfTwo'], REASON.windows),
  ...each(
    [
      'raggedGather',
      'raggedRange',
      'raggedTensorToTensor',
      'sparse.sparseFillEmptyRows',
      'sparse.sparseReshape',
      'sparse.sparseSegmentMean',
      'sparse.sparseSegmentSum',
    ],
    REASON.sparse,
  ),
  ...each(['string.stringNGrams', 'string.stringSplit', 'string.stringToHashBucketFast', 'string.staticRegexReplace'], REASON.strings),
  ...each(['linalg.gramSchmidt', 'linalg.qr'], REASON.decomposition),
  ...each(
    ['op', 'OP_SCOPE_SUFFIX'],
    leftOut("tfjs's machinery for declaring ops: a Strata composite is a plain function of ops, differentiated through its primitives"),
  ),
};

const LAYERS: Record<string, Decision> = {
  inputLayer: alias('st.InputLayer', 'or st.input({shape}) in the functional API'),
  cropping2D: alias('st.layers.cropping2d'),
  ...each(['avgPool1d', 'avgPooling1d'], alias('st.layers.averagePooling1d')),
  ...each(['avgPool2d', 'avgPooling2d'], alias('st.layers.averagePooling2d')),
  globalMaxPool1d: alias('st.layers.globalMaxPooling1d'),
  globalMaxPool2d: alias('st.layers.globalMaxPooling2d'),
  maxPool1d: alias('st.layers.maxPooling1d'),
  maxPool2d: alias('st.layers.maxPooling2d'),
  Layer: alias('st.Layer', 'the base class of layers'),
  reLU: planned("issue 23: the ReLU layer with Keras's maxValue, negativeSlope and threshold"),
  leakyReLU: same('st.layers.leakyReLU', "tfjs's alpha (default 0.3) is accepted; the config stores Keras 3's negativeSlope"),
  prelu: same('st.layers.prelu', 'no alphaConstraint (Strata has no weight constraints)'),
  softmax: same(
    'st.layers.softmax',
    "the axis defaults to -1 as in Keras, where tfjs's layer defaults to 1 (the same axis for [batch, n] inputs); a mask is honoured",
  ),
  elu: same('st.layers.elu', 'any alpha (tfjs accepts alpha 1 only)'),
  ...each(['avgPool3d', 'avgPooling3d'], alias('st.layers.averagePooling3d')),
  RNN: alias(
    'st.RNN',
    'the class of st.layers.rnn; a user cell is an st.Layer with stateSize whose call([input, ...states]) returns [output, ...newStates]',
  ),
  RNNCell: alias(
    'st.Layer',
    "a cell is an st.Layer with stateSize (st.RnnCell is that type) whose call([input, ...states]) returns [output, ...newStates], as tfjs's",
  ),
  categoryEncoding: same(
    'st.layers.categoryEncoding',
    "outputMode in Keras's spelling ('one_hot', 'multi_hot', 'count'); tfjs's camelCase is accepted",
  ),
  randomWidth: same(
    'st.layers.randomWidth',
    "the resize is TF's with half-pixel centres (Keras's tf.image.resize), where tfjs's resizeBilinear has none",
  ),
};

export const TFJS_DECISIONS = { 'tfjs.ops': OPS, 'tfjs.layers': LAYERS };
