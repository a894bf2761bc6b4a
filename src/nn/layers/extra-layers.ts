// The factories of issue 23's Keras and tfjs layers (activation layers with parameters, dropout
// variants, rearranging layers, Dot, Masking, numeric preprocessing, RMS normalization, the 1-D and
// 3-D padding, cropping and upsampling), spread into `st.layers` by ./index.ts. Importing the class
// files also registers the classes.
import {
  ELU,
  LeakyReLU,
  PReLU,
  Softmax,
  ThresholdedReLU,
  type ELUArgs,
  type LeakyReLUArgs,
  type PReLUArgs,
  type SoftmaxArgs,
  type ThresholdedReLUArgs,
} from './activation-layers.js';
import {
  AutoContrast,
  RandomBrightness,
  RandomColorDegeneration,
  RandomGrayscale,
  RandomInvert,
  RandomPosterization,
  RandomSharpness,
  Solarization,
  type AutoContrastArgs,
  type RandomSharpnessArgs,
  type RandomColorDegenerationArgs,
  type RandomPosterizationArgs,
  type RandomBrightnessArgs,
  type RandomGrayscaleArgs,
  type RandomInvertArgs,
  type SolarizationArgs,
} from './color-augmentation.js';
import { Dot, type DotArgs } from './dot.js';
import {
  ActivityRegularization,
  AlphaDropout,
  SpatialDropout1D,
  SpatialDropout2D,
  SpatialDropout3D,
  type ActivityRegularizationArgs,
  type AlphaDropoutArgs,
  type SpatialDropoutArgs,
} from './dropout-variants.js';
import { Normalization, type NormalizationArgs } from './feature-normalization.js';
import { CategoryEncoding, Discretization, type CategoryEncodingArgs, type DiscretizationArgs, type EncodingMode } from './preprocessing.js';
import { Identity, Masking, Permute, RepeatVector, type MaskingArgs, type PermuteArgs, type RepeatVectorArgs } from './reshape-layers.js';
import { RandomErasing, type RandomErasingArgs } from './random-erasing.js';
import { RandomShear, type RandomShearArgs } from './random-shear.js';
import { RandomWidth, type RandomWidthArgs } from './random-width.js';
import { ReversibleEmbedding, type ReversibleEmbeddingArgs } from './reversible-embedding.js';
import { RMSNormalization, type RMSNormalizationArgs } from './rms-normalization.js';
import { SpectralNormalization, type SpectralNormalizationArgs } from './spectral-normalization.js';
import {
  Cropping1D,
  Cropping3D,
  UpSampling1D,
  UpSampling3D,
  ZeroPadding1D,
  ZeroPadding3D,
  type AxisPairs,
  type Cropping1dArgs,
  type Cropping3dArgs,
  type UpSampling1dArgs,
  type UpSampling3dArgs,
  type VolumeDataFormat,
  type ZeroPadding1dArgs,
  type ZeroPadding3dArgs,
} from './spatial-1d-3d.js';
import type { LayerArgs } from '../layer.js';

/** Factories spread into st.layers (Keras's names in camelCase, as tfjs). */
export const extraLayers = {
  /**
   * x for x >= 0, negativeSlope · x below (Keras's LeakyReLU); the layer's slope defaults to 0.3
   * (Keras 3 and tfjs), tfjs's `alpha` is accepted for it.
   * @throws ValueError for a negative slope or both spellings at once.
   */
  leakyReLU: (args: LeakyReLUArgs = {}) => new LeakyReLU(args),
  /**
   * A ReLU with a learned slope below 0 per input position (Keras's PReLU); `sharedAxes` shares a
   * slope along axes (e.g. [1, 2] for one per channel of images).
   */
  prelu: (args: PReLUArgs = {}) => new PReLU(args),
  /** x above 0, alpha · (e^x − 1) below (Keras's ELU layer; alpha default 1). */
  elu: (args: ELUArgs = {}) => new ELU(args),
  /** x where x > theta, else 0 (tfjs's thresholdedReLU; theta default 1). */
  thresholdedReLU: (args: ThresholdedReLUArgs = {}) => new ThresholdedReLU(args),
  /** Softmax over `axis` (default -1) honouring a mask, as Keras's Softmax layer. */
  softmax: (args: SoftmaxArgs = {}) => new Softmax(args),
  /** Drops whole channels of [batch, steps, channels] while training (Keras's SpatialDropout1D). */
  spatialDropout1d: (args: Omit<SpatialDropoutArgs, 'dataFormat'>) => new SpatialDropout1D(args),
  /** Drops whole channels of images while training (Keras's SpatialDropout2D). */
  spatialDropout2d: (args: SpatialDropoutArgs) => new SpatialDropout2D(args),
  /** Drops whole channels of volumes while training (Keras's SpatialDropout3D). */
  spatialDropout3d: (args: SpatialDropoutArgs) => new SpatialDropout3D(args),
  /**
   * Dropout that keeps SELU's self-normalization (Keras's AlphaDropout): dropped values go to
   * SELU's saturation, then an affine map restores mean and variance.
   */
  alphaDropout: (args: AlphaDropoutArgs) => new AlphaDropout(args),
  /** Passes values through and adds l1·sum|x| + l2·sum(x²) of them to the loss (Keras's ActivityRegularization). */
  activityRegularization: (args: ActivityRegularizationArgs = {}) => new ActivityRegularization(args),
  /** Permutes the non-batch axes (Keras's Permute): `{dims: [2, 1]}` swaps them. */
  permute: (args: PermuteArgs) => new Permute(args),
  /** [batch, features] to [batch, n, features] (Keras's RepeatVector). */
  repeatVector: (args: RepeatVectorArgs) => new RepeatVector(args),
  /** Returns its input (Keras's Identity). */
  identity: (args: LayerArgs = {}) => new Identity(args),
  /** Masks the time steps whose features all equal maskValue (Keras's Masking). */
  masking: (args: MaskingArgs = {}) => new Masking(args),
  /**
   * The per-sample dot product of two inputs along `axes` (Keras's Dot); `normalize` gives cosine
   * similarities.
   */
  dot: (args: DotArgs) => new Dot(args),
  /** Integer ids to one-hot, multi-hot or count vectors (Keras's CategoryEncoding). */
  categoryEncoding: (args: CategoryEncodingArgs) => new CategoryEncoding(args),
  /** Values to bucket ids, by given boundaries or adapt()ed quantiles (Keras's Discretization). */
  discretization: (args: DiscretizationArgs = {}) => new Discretization(args),
  /**
   * Standardizes features with a given or adapt()ed mean and variance (Keras's preprocessing
   * Normalization; batchNormalization and layerNormalization are the learned kinds).
   */
  normalization: (args: NormalizationArgs = {}) => new Normalization(args),
  /** x · rsqrt(mean(x²) + epsilon) · scale over `axis` with a learned scale (Keras's RMSNormalization). */
  rmsNormalization: (args: RMSNormalizationArgs = {}) => new RMSNormalization(args),
  /** Repeats each step `size` times (Keras's UpSampling1D; default 2). */
  upSampling1d: (args: UpSampling1dArgs = {}) => new UpSampling1D(args),
  /** Repeats each voxel along depth, height and width (Keras's UpSampling3D; default 2). */
  upSampling3d: (args: UpSampling3dArgs = {}) => new UpSampling3D(args),
  /** Adds steps of zeros at both ends of sequences (Keras's ZeroPadding1D; default 1). */
  zeroPadding1d: (args: ZeroPadding1dArgs = {}) => new ZeroPadding1D(args),
  /** Adds zeros around volumes (Keras's ZeroPadding3D; default 1 each side). */
  zeroPadding3d: (args: ZeroPadding3dArgs = {}) => new ZeroPadding3D(args),
  /** Removes steps from both ends of sequences (Keras's Cropping1D; default 1 each end). */
  cropping1d: (args: Cropping1dArgs = {}) => new Cropping1D(args),
  /** Removes voxels from the sides of volumes (Keras's Cropping3D; default 1 each side). */
  cropping3d: (args: Cropping3dArgs = {}) => new Cropping3D(args),
  /**
   * Stretches or squeezes images horizontally by a random factor while training (tfjs's
   * randomWidth); the output width varies per call.
   */
  randomWidth: (args: RandomWidthArgs) => new RandomWidth(args),
  /**
   * An embedding that also projects hidden states back to vocabulary logits with
   * `apply(h, {reverse: true})`, tied to its table by default (Keras's ReversibleEmbedding).
   */
  reversibleEmbedding: (args: ReversibleEmbeddingArgs) => new ReversibleEmbedding(args),
  /**
   * Divides a wrapped layer's kernel by its largest singular value (power iteration) at each
   * training call (Keras's SpectralNormalization).
   */
  spectralNormalization: (args: SpectralNormalizationArgs) => new SpectralNormalization(args),
  /** Adds a random brightness delta per image while training (Keras's RandomBrightness). */
  randomBrightness: (args: RandomBrightnessArgs) => new RandomBrightness(args),
  /** Inverts some images (high − x) while training (Keras's RandomInvert). */
  randomInvert: (args: RandomInvertArgs = {}) => new RandomInvert(args),
  /** Solarizes images with a random addition and threshold while training (Keras's Solarization). */
  solarization: (args: SolarizationArgs = {}) => new Solarization(args),
  /** Turns images gray with probability `factor` while training (Keras's RandomGrayscale). */
  randomGrayscale: (args: RandomGrayscaleArgs = {}) => new RandomGrayscale(args),
  /** Stretches each channel to the whole value range (Keras's AutoContrast; always applied). */
  autoContrast: (args: AutoContrastArgs = {}) => new AutoContrast(args),
  /** Blends each image toward (or away from) its grayscale version while training (Keras's RandomColorDegeneration). */
  randomColorDegeneration: (args: RandomColorDegenerationArgs) => new RandomColorDegeneration(args),
  /** Keeps a random number of top bits of each 8-bit value while training (Keras's RandomPosterization). */
  randomPosterization: (args: RandomPosterizationArgs) => new RandomPosterization(args),
  /** Shears images by random horizontal and vertical factors while training (Keras's RandomShear). */
  randomShear: (args: RandomShearArgs = {}) => new RandomShear(args),
  /** Sharpens or blurs images by a random amount while training (Keras's RandomSharpness). */
  randomSharpness: (args: RandomSharpnessArgs) => new RandomSharpness(args),
  /** Replaces a random rectangle of some images by a fill or noise while training (Keras's RandomErasing). */
  randomErasing: (args: RandomErasingArgs = {}) => new RandomErasing(args),
};

export {
  ELU,
  LeakyReLU,
  PReLU,
  Softmax,
  ThresholdedReLU,
  Dot,
  ActivityRegularization,
  AlphaDropout,
  SpatialDropout1D,
  SpatialDropout2D,
  SpatialDropout3D,
  Normalization,
  CategoryEncoding,
  Discretization,
  Identity,
  Masking,
  Permute,
  RepeatVector,
  RMSNormalization,
  Cropping1D,
  Cropping3D,
  UpSampling1D,
  UpSampling3D,
  ZeroPadding1D,
  ZeroPadding3D,
  RandomWidth,
  ReversibleEmbedding,
  SpectralNormalization,
  RandomBrightness,
  RandomInvert,
  Solarization,
  RandomGrayscale,
  AutoContrast,
  RandomColorDegeneration,
  RandomPosterization,
  RandomShear,
  RandomSharpness,
  RandomErasing,
};
export type {
  ELUArgs,
  LeakyReLUArgs,
  PReLUArgs,
  SoftmaxArgs,
  ThresholdedReLUArgs,
  DotArgs,
  ActivityRegularizationArgs,
  AlphaDropoutArgs,
  SpatialDropoutArgs,
  NormalizationArgs,
  CategoryEncodingArgs,
  DiscretizationArgs,
  EncodingMode,
  MaskingArgs,
  PermuteArgs,
  RepeatVectorArgs,
  RMSNormalizationArgs,
  AxisPairs,
  Cropping1dArgs,
  Cropping3dArgs,
  UpSampling1dArgs,
  UpSampling3dArgs,
  VolumeDataFormat,
  ZeroPadding1dArgs,
  ZeroPadding3dArgs,
  RandomWidthArgs,
  ReversibleEmbeddingArgs,
  SpectralNormalizationArgs,
  RandomBrightnessArgs,
  RandomInvertArgs,
  SolarizationArgs,
  RandomGrayscaleArgs,
  AutoContrastArgs,
  RandomColorDegenerationArgs,
  RandomPosterizationArgs,
  RandomShearArgs,
  RandomSharpnessArgs,
  RandomErasingArgs,
};
