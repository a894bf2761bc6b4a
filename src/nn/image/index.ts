// `st.image`: image functions as ops, under tfjs's names (tf.image.*) and Keras 3's
// (keras.ops.image.*, camel-cased), on the sampling code of the preprocessing layers.

import { rgbToGrayscale, hsvToRgb, rgbToHsv } from './color.js';
import {
  nonMaxSuppression,
  nonMaxSuppressionAsync,
  nonMaxSuppressionPadded,
  nonMaxSuppressionPaddedAsync,
  nonMaxSuppressionWithScore,
  nonMaxSuppressionWithScoreAsync,
} from './nms.js';
import { cropImages, extractPatches, extractPatches3d, gaussianBlur, padImages } from './geometry.js';
import { cropAndResize, resize, resizeBilinear, resizeNearestNeighbor } from './resize.js';
import { mapCoordinates, perspectiveTransform } from './warp.js';
import { scaleAndTranslate } from './scale.js';
import { elasticTransform } from './elastic.js';
import { sobelEdges, ssim } from './quality.js';
import { affineTransform, flipLeftRight, rotateWithOffset, transform } from './transform.js';

export type { ResizeOptions } from './resize.js';
export type { TransformOptions, AffineTransformOptions } from './transform.js';
export type { ColorOptions } from './color.js';
export type { ImageDataFormat } from './common.js';
export type { NmsWithScoresResult, NmsPaddedResult } from './nms.js';
export type { ScaleMethod } from './scale.js';
export type { ElasticTransformOptions } from './elastic.js';
export type { SobelEdgesOptions, SsimOptions } from './quality.js';
export type { PerspectiveTransformOptions, MapCoordinatesOptions, CoordinateFillMode } from './warp.js';
export type { CropImagesOptions, PadImagesOptions, ExtractPatchesOptions, ExtractPatches3dOptions, GaussianBlurOptions } from './geometry.js';

/**
 * `st.image.*`: image functions on [H, W, C] or [N, H, W, C] tensors, with tfjs's names and
 * semantics (`resizeBilinear`, `cropAndResize`, `transform`, `nonMaxSuppression`, …) and Keras
 * 3's `keras.ops.image` functions camel-cased (`resize`, `affineTransform`, `rgbToHsv`, …).
 * @namespace
 */
export const image = {
  /** Bilinear resize to [height, width] (tfjs's `tf.image.resizeBilinear`), with alignCorners and halfPixelCenters. */
  resizeBilinear,
  /** Nearest-neighbour resize to [height, width] (tfjs's `tf.image.resizeNearestNeighbor`). */
  resizeNearestNeighbor,
  /** Crops normalized boxes out of a batch and resizes each to one crop size (tfjs's `tf.image.cropAndResize`). */
  cropAndResize,
  /** Resizes images to [height, width] as Keras 3's `keras.ops.image.resize` (half-pixel centres, no antialiasing). */
  resize,
  /** Applies a projective transform per image, rows of 8 numbers (tfjs's `tf.image.transform`). */
  transform,
  /** Rotates each image by an angle in radians about a centre (tfjs's `tf.image.rotateWithOffset`). */
  rotateWithOffset,
  /** Mirrors each image horizontally (tfjs's `tf.image.flipLeftRight`). */
  flipLeftRight,
  /** Applies an affine transform per image (Keras 3's `keras.ops.image.affine_transform`). */
  affineTransform,
  /** Warps images so four start points land on four end points (Keras 3's `perspective_transform`). */
  perspectiveTransform,
  /** Samples a tensor of any rank at given coordinates, order 0 or 1 (Keras 3's `map_coordinates`). */
  mapCoordinates,
  /** Resamples chosen axes by a scale and translation with a linear, cubic or Lanczos kernel (Keras 3's `scale_and_translate`). */
  scaleAndTranslate,
  /** Distorts images by a seeded random smooth displacement field (Keras 3's `elastic_transform`). */
  elasticTransform,
  /** Sobel gradients [dy, dx] of each channel, [N, H, W, C, 2] (Keras 3's `sobel_edges`). */
  sobelEdges,
  /** Structural similarity of two images or batches (Keras 3's `ssim`). */
  ssim,
  /** Crops images to a box given by offsets or a target size (Keras 3's `crop_images`). */
  cropImages,
  /** Zero-pads images to a box given by paddings or a target size (Keras 3's `pad_images`). */
  padImages,
  /** Every size[0] x size[1] patch of the images as one vector (Keras 3's `extract_patches`). */
  extractPatches,
  /** Every d x h x w patch of volumes as one vector (Keras 3's `extract_patches_3d`). */
  extractPatches3d,
  /** Blurs each channel with a normalized Gaussian kernel (Keras 3's `gaussian_blur`). */
  gaussianBlur,
  /** Luma of RGB images, keeping a channel axis of size 1 (tfjs's `tf.image.rgbToGrayscale`). */
  rgbToGrayscale,
  /** RGB to HSV for float images in [0, 1] (Keras 3's `rgb_to_hsv`). */
  rgbToHsv,
  /** HSV to RGB for float images (Keras 3's `hsv_to_rgb`). */
  hsvToRgb,
  /** Indices of the best boxes, none overlapping a better one by the IoU threshold (tfjs's `tf.image.nonMaxSuppression`). */
  nonMaxSuppression,
  /** nonMaxSuppression reading boxes and scores asynchronously (tfjs's `tf.image.nonMaxSuppressionAsync`). */
  nonMaxSuppressionAsync,
  /** Soft-NMS: the selected indices and their decayed scores (tfjs's `tf.image.nonMaxSuppressionWithScore`). */
  nonMaxSuppressionWithScore,
  /** nonMaxSuppressionWithScore reading its inputs asynchronously (tfjs's `tf.image.nonMaxSuppressionWithScoreAsync`). */
  nonMaxSuppressionWithScoreAsync,
  /** nonMaxSuppression that also returns the count selected and can pad the indices (tfjs's `tf.image.nonMaxSuppressionPadded`). */
  nonMaxSuppressionPadded,
  /** nonMaxSuppressionPadded reading its inputs asynchronously (tfjs's `tf.image.nonMaxSuppressionPaddedAsync`). */
  nonMaxSuppressionPaddedAsync,
};
