// The factories of issue 23's later Keras augmentation layers (RandomHue, RandomSaturation,
// RandomColorJitter, RandomGaussianBlur, Equalization, RandomPerspective, RandAugment, AugMix, RandomElasticTransform), spread into `st.layers` by ./index.ts. Importing the
// class files also registers the classes.
import {
  RandomColorJitter,
  RandomHue,
  RandomSaturation,
  type RandomColorJitterArgs,
  type RandomHueArgs,
  type RandomSaturationArgs,
} from './hsv-augmentation.js';
import { AugMix, RandAugment, type AugMixArgs, type RandAugmentArgs } from './augmentation-policies.js';
import { ContrastLimitedAdaptiveHistogramEqualization, type ClaheArgs } from './clahe.js';
import { Equalization, type EqualizationArgs } from './equalization.js';
import { CutMix, MixUp, type CutMixArgs, type MixUpArgs } from './mix-layers.js';
import { RandomElasticTransform, type RandomElasticTransformArgs } from './random-elastic-transform.js';
import { RandomGaussianBlur, type RandomGaussianBlurArgs } from './random-gaussian-blur.js';
import { RandomPerspective, type RandomPerspectiveArgs } from './random-perspective.js';

/** Factories of the later Keras augmentation layers, spread into `st.layers`. */
export const moreAugmentationLayers = {
  /** Turns each image's hue by a random amount while training (Keras's RandomHue). */
  randomHue: (args: RandomHueArgs) => new RandomHue(args),
  /** Scales each image's saturation by a random amount while training (Keras's RandomSaturation). */
  randomSaturation: (args: RandomSaturationArgs) => new RandomSaturation(args),
  /** Random brightness, contrast, saturation and hue in turn while training (Keras's RandomColorJitter). */
  randomColorJitter: (args: RandomColorJitterArgs = {}) => new RandomColorJitter(args),
  /** Blurs some images with a random Gaussian while training (Keras's RandomGaussianBlur). */
  randomGaussianBlur: (args: RandomGaussianBlurArgs = {}) => new RandomGaussianBlur(args),
  /** Histogram equalization of each channel of each image (Keras's Equalization; always applied). */
  equalization: (args: EqualizationArgs = {}) => new Equalization(args),
  /** Warps some images by moving their corners at random while training (Keras's RandomPerspective). */
  randomPerspective: (args: RandomPerspectiveArgs = {}) => new RandomPerspective(args),
  /** Distorts some images by a smooth random displacement field while training (Keras's RandomElasticTransform). */
  randomElasticTransform: (args: RandomElasticTransformArgs = {}) => new RandomElasticTransform(args),
  /** Applies `numOps` randomly chosen augmentations in turn while training (Keras's RandAugment). */
  randAugment: (args: RandAugmentArgs = {}) => new RandAugment(args),
  /** Mixes the image with random chains of augmentations while training (Keras's AugMix). */
  augMix: (args: AugMixArgs = {}) => new AugMix(args),
  /** Contrast-limited adaptive histogram equalization per tile (Keras's CLAHE layer; always applied). */
  contrastLimitedAdaptiveHistogramEqualization: (args: ClaheArgs = {}) => new ContrastLimitedAdaptiveHistogramEqualization(args),
  /**
   * Mixes each image with another of the batch, m·x + (1 − m)·x', and the labels alike, while
   * training (Keras's MixUp): `apply([images, labels], {training: true})` returns [images, labels].
   */
  mixUp: (args: MixUpArgs = {}) => new MixUp(args),
  /**
   * Pastes a random box from another image of the batch into each image, and mixes the labels by
   * area, while training (Keras's CutMix): `apply([images, labels], {training: true})` returns [images, labels].
   */
  cutMix: (args: CutMixArgs = {}) => new CutMix(args),
};

export {
  RandomHue,
  RandomSaturation,
  RandomColorJitter,
  RandomGaussianBlur,
  Equalization,
  RandomPerspective,
  RandAugment,
  AugMix,
  RandomElasticTransform,
  ContrastLimitedAdaptiveHistogramEqualization,
  MixUp,
  CutMix,
};
export type {
  RandomHueArgs,
  RandomSaturationArgs,
  RandomColorJitterArgs,
  RandomGaussianBlurArgs,
  EqualizationArgs,
  RandomPerspectiveArgs,
  RandAugmentArgs,
  AugMixArgs,
  RandomElasticTransformArgs,
  ClaheArgs,
  MixUpArgs,
  CutMixArgs,
};
