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
  resizeBilinear,
  resizeNearestNeighbor,
  cropAndResize,
  resize,
  transform,
  rotateWithOffset,
  flipLeftRight,
  affineTransform,
  perspectiveTransform,
  mapCoordinates,
  scaleAndTranslate,
  elasticTransform,
  sobelEdges,
  ssim,
  cropImages,
  padImages,
  extractPatches,
  extractPatches3d,
  gaussianBlur,
  rgbToGrayscale,
  rgbToHsv,
  hsvToRgb,
  nonMaxSuppression,
  nonMaxSuppressionAsync,
  nonMaxSuppressionWithScore,
  nonMaxSuppressionWithScoreAsync,
  nonMaxSuppressionPadded,
  nonMaxSuppressionPaddedAsync,
};
