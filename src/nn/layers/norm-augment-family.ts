// The factories of the normalization variants and the image preprocessing/augmentation layers,
// spread into `st.layers` by ./index.ts. Importing the class files also registers the classes.

import { GroupNormalization, UnitNormalization, type GroupNormalizationArgs, type UnitNormalizationArgs } from './group-normalization.js';
import { CenterCrop, Rescaling, Resizing, type CenterCropArgs, type RescalingArgs, type ResizingArgs } from './image-preprocessing.js';
import {
  RandomCrop,
  RandomFlip,
  RandomRotation,
  RandomTranslation,
  RandomZoom,
  type RandomCropArgs,
  type RandomFlipArgs,
  type RandomRotationArgs,
  type RandomTranslationArgs,
  type RandomZoomArgs,
} from './random-geometric.js';
import {
  GaussianDropout,
  GaussianNoise,
  RandomContrast,
  type GaussianDropoutArgs,
  type GaussianNoiseArgs,
  type RandomContrastArgs,
} from './random-intensity.js';

/**
 * The normalization-variant and image preprocessing/augmentation factories, spread into
 * `st.layers`.
 */
export const normAugmentLayers = {
  /**
   * Group normalization (Keras's GroupNormalization): normalizes each sample over groups of
   * channels (default 32 groups, which must divide the channels), then applies per-channel gamma
   * and beta.
   */
  groupNormalization: (args: GroupNormalizationArgs = {}) => new GroupNormalization(args),
  /** Scales each vector along `axis` to unit L2 norm (Keras's UnitNormalization). */
  unitNormalization: (args: UnitNormalizationArgs = {}) => new UnitNormalization(args),
  /**
   * Flips images at random while training (Keras's RandomFlip): left-right and/or top-bottom, each
   * with probability 1/2. Inputs [H, W, C] or [N, H, W, C].
   */
  randomFlip: (args: RandomFlipArgs = {}) => new RandomFlip(args),
  /**
   * Rotates images by a random angle while training (Keras's RandomRotation); `factor` is a
   * fraction of a full turn.
   */
  randomRotation: (args: RandomRotationArgs) => new RandomRotation(args),
  /**
   * Shifts images by random fractions of their height and width while training (Keras's
   * RandomTranslation).
   */
  randomTranslation: (args: RandomTranslationArgs) => new RandomTranslation(args),
  /**
   * Zooms images in or out by random factors while training (Keras's RandomZoom: positive factors
   * zoom out).
   */
  randomZoom: (args: RandomZoomArgs) => new RandomZoom(args),
  /**
   * Crops a random height x width window while training and the centre (resized to fit) at
   * inference (Keras's RandomCrop).
   */
  randomCrop: (args: RandomCropArgs) => new RandomCrop(args),
  /** Scales each image's contrast by a random factor while training (Keras's RandomContrast). */
  randomContrast: (args: RandomContrastArgs) => new RandomContrast(args),
  /**
   * Adds zero-mean normal noise of `stddev` while training (Keras's GaussianNoise).
   * @throws ValueError for a negative stddev.
   */
  gaussianNoise: (args: GaussianNoiseArgs) => new GaussianNoise(args),
  /**
   * Multiplies values by normal noise of mean 1 while training (Keras's GaussianDropout).
   * @throws ValueError for a rate outside [0, 1).
   */
  gaussianDropout: (args: GaussianDropoutArgs) => new GaussianDropout(args),
  /**
   * Cuts the centred height x width window of each image (Keras's CenterCrop), resizing images
   * smaller than it.
   */
  centerCrop: (args: CenterCropArgs) => new CenterCrop(args),
  /** `x · scale + offset` (Keras's Rescaling), e.g. `{scale: 1 / 255}` for 8-bit pixels. */
  rescaling: (args: RescalingArgs) => new Rescaling(args),
  /** Resizes images to height x width (Keras's Resizing). */
  resizing: (args: ResizingArgs) => new Resizing(args),
};

export {
  GroupNormalization,
  UnitNormalization,
  CenterCrop,
  Rescaling,
  Resizing,
  RandomCrop,
  RandomFlip,
  RandomRotation,
  RandomTranslation,
  RandomZoom,
  GaussianDropout,
  GaussianNoise,
  RandomContrast,
};
export type {
  GroupNormalizationArgs,
  UnitNormalizationArgs,
  CenterCropArgs,
  RescalingArgs,
  ResizingArgs,
  RandomCropArgs,
  RandomFlipArgs,
  RandomRotationArgs,
  RandomTranslationArgs,
  RandomZoomArgs,
  GaussianDropoutArgs,
  GaussianNoiseArgs,
  RandomContrastArgs,
};
export type { FillMode, Interpolation } from '../image-sampling.js';
export type { FlipMode } from './random-geometric.js';
export type { Factor } from './image-layer.js';
