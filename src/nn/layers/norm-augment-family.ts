// The factories of the normalization variants and the image preprocessing/augmentation layers,
// spread into `st.layers` by ./index.ts. Importing the class files also registers the classes.

import { GroupNormalization, UnitNormalization, type GroupNormalizationArgs, type UnitNormalizationArgs } from './group-normalization.js';
import { CenterCrop, Rescaling, Resizing, type CenterCropArgs, type RescalingArgs, type ResizingArgs } from './image-preprocessing.js';
import {
  RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
  type RandomCropArgs, type RandomFlipArgs, type RandomRotationArgs, type RandomTranslationArgs, type RandomZoomArgs,
} from './random-geometric.js';
import { GaussianDropout, GaussianNoise, RandomContrast, type GaussianDropoutArgs, type GaussianNoiseArgs, type RandomContrastArgs } from './random-intensity.js';

export const normAugmentLayers = {
  groupNormalization: (args: GroupNormalizationArgs = {}) => new GroupNormalization(args),
  unitNormalization: (args: UnitNormalizationArgs = {}) => new UnitNormalization(args),
  randomFlip: (args: RandomFlipArgs = {}) => new RandomFlip(args),
  randomRotation: (args: RandomRotationArgs) => new RandomRotation(args),
  randomTranslation: (args: RandomTranslationArgs) => new RandomTranslation(args),
  randomZoom: (args: RandomZoomArgs) => new RandomZoom(args),
  randomCrop: (args: RandomCropArgs) => new RandomCrop(args),
  randomContrast: (args: RandomContrastArgs) => new RandomContrast(args),
  gaussianNoise: (args: GaussianNoiseArgs) => new GaussianNoise(args),
  gaussianDropout: (args: GaussianDropoutArgs) => new GaussianDropout(args),
  centerCrop: (args: CenterCropArgs) => new CenterCrop(args),
  rescaling: (args: RescalingArgs) => new Rescaling(args),
  resizing: (args: ResizingArgs) => new Resizing(args),
};

export {
  GroupNormalization, UnitNormalization, CenterCrop, Rescaling, Resizing,
  RandomCrop, RandomFlip, RandomRotation, RandomTranslation, RandomZoom, GaussianDropout, GaussianNoise, RandomContrast,
};
export type {
  GroupNormalizationArgs, UnitNormalizationArgs, CenterCropArgs, RescalingArgs, ResizingArgs,
  RandomCropArgs, RandomFlipArgs, RandomRotationArgs, RandomTranslationArgs, RandomZoomArgs, GaussianDropoutArgs, GaussianNoiseArgs, RandomContrastArgs,
};
export type { FillMode, Interpolation } from '../image-sampling.js';
export type { FlipMode } from './random-geometric.js';
export type { Factor } from './image-layer.js';
