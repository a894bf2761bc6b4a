// Decisions for Keras 3's layers, losses, metrics, activations and keras.ops.image: see decisions.ts.
import { REASON, alias, each, leftOut, planned, same, type Decision } from './decision-kit.js';

const merge = (name: string) =>
  alias(`st.layers.${name}`, `a layer factory: st.layers.${name}().apply([a, b]) (Keras's lowercase form applies the layer at once)`);

const LAYERS: Record<string, Decision> = {
  Convolution1D: alias('st.layers.conv1d'),
  Convolution2D: alias('st.layers.conv2d'),
  Convolution2DTranspose: alias('st.layers.conv2dTranspose'),
  SeparableConvolution2D: alias('st.layers.separableConv2d'),
  AvgPool1D: alias('st.layers.averagePooling1d'),
  AvgPool2D: alias('st.layers.averagePooling2d'),
  GlobalAvgPool1D: alias('st.layers.globalAveragePooling1d'),
  GlobalAvgPool2D: alias('st.layers.globalAveragePooling2d'),
  GlobalMaxPool1D: alias('st.layers.globalMaxPooling1d'),
  GlobalMaxPool2D: alias('st.layers.globalMaxPooling2d'),
  MaxPool1D: alias('st.layers.maxPooling1d'),
  MaxPool2D: alias('st.layers.maxPooling2d'),
  InputLayer: alias('st.InputLayer', 'or st.input({shape}) in the functional API'),
  Layer: alias('st.Layer', 'the base class: build, call, computeOutputShape, getConfig'),
  Pipeline: alias('st.sequential', 'a Sequential of the preprocessing layers'),
  Wrapper: alias(
    'st.Layer',
    "a wrapper is a st.Layer subclass holding another layer: its weights getter returns the inner layer's, its trainable setter forwards (as st.layers.bidirectional, timeDistributed and spectralNormalization do)",
  ),
  add: merge('add'),
  average: merge('average'),
  concatenate: merge('concatenate'),
  maximum: merge('maximum'),
  minimum: merge('minimum'),
  multiply: merge('multiply'),
  subtract: merge('subtract'),
  dot: merge('dot'),
  ReLU: planned('issue 23: the ReLU layer with maxValue, negativeSlope and threshold'),
  LeakyReLU: same(
    'st.layers.leakyReLU',
    "the layer's slope defaults to 0.3 as in Keras (the activation function's to 0.2); tfjs's alpha is accepted for negativeSlope",
  ),
  PReLU: same('st.layers.prelu', 'no alphaConstraint (Strata has no weight constraints)'),
  Normalization: same('st.layers.normalization', 'adapt(data) takes one tensor or a list of batches'),
  // The 3-D layers (conv3d-layers.ts) are found by name; Keras's other spellings:
  Convolution1DTranspose: alias('st.layers.conv1dTranspose'),
  SeparableConvolution1D: alias('st.layers.separableConv1d'),
  Convolution3D: alias('st.layers.conv3d'),
  Convolution3DTranspose: alias('st.layers.conv3dTranspose'),
  AvgPool3D: alias('st.layers.averagePooling3d'),
  MaxPool3D: alias('st.layers.maxPooling3d'),
  GlobalAvgPool3D: alias('st.layers.globalAveragePooling3d'),
  GlobalMaxPool3D: alias('st.layers.globalMaxPooling3d'),
  GroupQueryAttention: same(
    'st.layers.groupQueryAttention',
    "also spelled st.layers.groupedQueryAttention; Keras's slidingWindow and useGate options (recent Keras) are rejected unless left at their defaults",
  ),
  RNN: same(
    'st.layers.rnn',
    "a user cell is an st.Layer with stateSize whose call([input, ...states]) returns [output, ...newStates] (tfjs's convention; Keras 3's call(inputs, states) returns (output, states))",
  ),
  MixUp: same(
    'st.layers.mixUp',
    "labels go beside the images: apply([images, labels], {training: true}) returns [images, labels] (Keras's dict input {images, labels}); labels must be floating (one-hot or soft)",
  ),
  CutMix: same(
    'st.layers.cutMix',
    "labels go beside the images: apply([images, labels], {training: true}) returns [images, labels] (Keras's dict input {images, labels}); labels must be floating (one-hot or soft)",
  ),
  RandomGrayscale: same(
    'st.layers.randomGrayscale',
    "active only while training, as Strata's other augmentation layers (Keras's also acts at inference)",
  ),
  AutoContrast: same('st.layers.autoContrast', 'deterministic, so applied at inference too, as in Keras'),
  RandomSaturation: same(
    'st.layers.randomSaturation',
    "Keras's documented factor rule (a number f means [0, f], values in [0, 1]; Keras 3.16's source inherits [-1, 1] bounds, so half its draws grey the image), saturation clipped to [0, 1]",
  ),
  Equalization: same(
    'st.layers.equalization',
    "one histogram per image and channel (Keras 3.16 pools the whole batch's channel into one, so an image's result depends on its batchmates; the same for one image); applied at inference too, as Keras documents",
  ),
  RandAugment: same('st.layers.randAugment', "Keras's eleven ops and factors; an op picked twice in one call draws again (Keras repeats its draws)"),
  AugMix: same('st.layers.augMix', "Keras's op lists (allOps), chains, Dirichlet and Beta mixing, one pick per batch as Keras"),
  RandomColorJitter: same(
    'st.layers.randomColorJitter',
    "brightness, contrast, saturation, hue in Keras's order, with randomSaturation's factor rule",
  ),
  MaxNumBoundingBoxes: leftOut("Strata's augmentation layers transform images, not bounding boxes"),
  ...each(['MelSpectrogram', 'STFTSpectrogram'], REASON.spectral),
  ...each(
    ['Hashing', 'HashedCrossing', 'IntegerLookup', 'StringLookup', 'TextVectorization'],
    leftOut(
      'vocabularies and hashing of categories and text: Strata has no string dtype, so categories become integers while the data is read (st.data), not inside a model',
    ),
  ),
  ...each(
    ['TFSMLayer', 'FlaxLayer', 'JaxLayer', 'TorchModuleWrapper'],
    leftOut('wraps a model of another framework (a TensorFlow SavedModel, Flax, JAX, PyTorch); Strata runs its own layers only'),
  ),
  Lambda: leftOut(
    'a layer made from any function cannot be saved and loaded again (Keras stores Python bytecode): subclass st.Layer and register it by name',
  ),
  InputSpec: leftOut('layers check their input shapes in build and computeOutputShape; there are no InputSpec objects'),
};

const functionsNotClasses = 'losses are functions (yTrue, yPred, options) => Tensor, and a custom loss is such a function';
const LOSSES: Record<string, Decision> = {
  get: alias('st.getLoss', 'by Keras name (snake_case or camelCase) or a function'),
  deserialize: alias('st.getLoss', 'a loss is stored by its name'),
  serialize: leftOut("a loss is stored by its name (compile's loss, model.json), so there is nothing to serialize"),
  Loss: leftOut(functionsNotClasses),
  CategoricalGeneralizedCrossEntropy: alias('st.losses.categoricalGeneralizedCrossEntropy', "the function; its option q is the class's argument"),
  categorical_generalized_cross_entropy: same('st.losses.categoricalGeneralizedCrossEntropy', 'q is an option (default 0.5) and a reduction applies'),
  Circle: alias(
    'st.losses.circle',
    "the function; gamma, margin and removeDiagonal are the class's arguments; the mean is over the rows with a positive loss, as Keras's mask makes it",
  ),
  circle: same(
    'st.losses.circle',
    "the batch is its own reference set: Keras's optional ref_labels and ref_embeddings (used by no Keras class) are not taken",
  ),
};

const meanOf = (loss: string, extra = '') =>
  alias('st.MeanMetricWrapper', `new st.MeanMetricWrapper(name, st.losses.${loss}) (or st.losses.${loss} in compile's metrics) averages it${extra}`);
const METRICS: Record<string, Decision> = {
  get: alias('st.getMetric'),
  deserialize: alias('st.getMetric', 'a metric is stored by its name'),
  serialize: leftOut("a metric is stored by its name (compile's metrics, model.json)"),
  Accuracy: alias(
    'st.metrics.accuracy',
    "Strata's accuracy is Keras's 'accuracy' string (binary, categorical or sparse, picked from the loss); Keras's Accuracy class counts exact equality",
  ),
  mean_absolute_error: alias('st.losses.meanAbsoluteError', 'the per-sample function; st.metrics.meanAbsoluteError is the streaming metric'),
  mean_squared_error: alias('st.losses.meanSquaredError', 'the per-sample function; st.metrics.meanSquaredError is the streaming metric'),
  ...Object.fromEntries(
    [
      ['binary_accuracy', 'binaryAccuracy'],
      ['categorical_accuracy', 'categoricalAccuracy'],
      ['sparse_categorical_accuracy', 'sparseCategoricalAccuracy'],
      ['top_k_categorical_accuracy', 'topKCategoricalAccuracy'],
      ['sparse_top_k_categorical_accuracy', 'sparseTopKCategoricalAccuracy'],
    ].map(([k, v]) => [k, alias(`st.metrics.${v}`, "the streaming metric (update, result); Keras's lowercase function returns per-sample values")]),
  ),
  Hinge: meanOf('hinge'),
  SquaredHinge: meanOf('squaredHinge'),
  CategoricalHinge: meanOf('categoricalHinge'),
  BinaryCrossentropy: meanOf('binaryCrossentropy'),
  CategoricalCrossentropy: meanOf('categoricalCrossentropy'),
  SparseCategoricalCrossentropy: meanOf('sparseCategoricalCrossentropy'),
  KLDivergence: meanOf('kld'),
  Poisson: meanOf('poisson'),
  mean_absolute_percentage_error: alias(
    'st.metrics.meanAbsolutePercentageErrorValues',
    'per-sample values; st.metrics.meanAbsolutePercentageError is the streaming metric',
  ),
  mean_squared_logarithmic_error: alias(
    'st.metrics.meanSquaredLogarithmicErrorValues',
    'per-sample values; st.metrics.meanSquaredLogarithmicError is the streaming metric',
  ),
  pearson_correlation: alias(
    'st.metrics.pearsonCorrelationValues',
    'the function of (yTrue, yPred, axis); st.metrics.pearsonCorrelation is the streaming metric',
  ),
  concordance_correlation: alias(
    'st.metrics.concordanceCorrelationValues',
    "the function of (yTrue, yPred, axis), with Keras 3.16's centring of yTrue on yPred's mean; st.metrics.concordanceCorrelation is the streaming metric",
  ),
};

const ACTIVATIONS: Record<string, Decision> = {
  get: alias('st.getActivation'),
  deserialize: alias('st.getActivation', 'an activation is stored by its name'),
  serialize: alias('st.serializeActivation'),
  threshold: alias('st.threshold', 'an op with required parameters (threshold, defaultValue), as in Keras'),
};

const IMAGE: Record<string, Decision> = {
  resize: same(
    'st.image.resize',
    "bilinear and nearest (TF's half-pixel centres); antialias and the bicubic, lanczos and area kernels are not offered",
  ),
  affine_transform: same('st.image.affineTransform', 'the projective terms c0, c1 must be 0 (st.image.transform takes projective maps)'),
  rgb_to_grayscale: same('st.image.rgbToGrayscale', ''),
  rgb_to_hsv: same('st.image.rgbToHsv', ''),
  hsv_to_rgb: same('st.image.hsvToRgb', ''),
  crop_images: same('st.image.cropImages', ''),
  perspective_transform: same('st.image.perspectiveTransform', 'the points are read on the host and get no gradient'),
  map_coordinates: same('st.image.mapCoordinates', 'the coordinates are read on the host and get no gradient (the inputs do)'),
  pad_images: same('st.image.padImages', ''),
  extract_patches: same('st.image.extractPatches', ''),
  gaussian_blur: same(
    'st.image.gaussianBlur',
    'kernelSize and sigma are [height, width] (Keras 3.15 pairs their second entries with the rows; the same for square kernels)',
  ),
  scale_and_translate: same('st.image.scaleAndTranslate', 'float images (Keras rounds integer images back)'),
  elastic_transform: same(
    'st.image.elasticTransform',
    "options object; the fields come from Strata's generator (a seed reproduces them, not Keras's numbers)",
  ),
  sobel_edges: same(
    'st.image.sobelEdges',
    "its TensorFlow backend's border (reflection without repeating the edge pixel); Keras's NumPy backend differs on the border pixels",
  ),
  ssim: same('st.image.ssim', 'options object; the result stays float for integer images'),
  extract_patches_3d: same('st.image.extractPatches3d', ''),
};

export const KERAS_DECISIONS = {
  'keras.layers': LAYERS,
  'keras.losses': LOSSES,
  'keras.metrics': METRICS,
  'keras.activations': ACTIVATIONS,
  'keras.ops.image': IMAGE,
};
