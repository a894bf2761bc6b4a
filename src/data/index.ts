// The portable data namespace (`st.data` in a page): the Dataset pipeline's sources,
// augmentation, and decoding of IDX bytes. Node's `st.data` adds the file readers and the
// built-in datasets (src/node/data/node.ts).
import { augment } from './augment.js';
import { idxToTensor } from './idx-decode.js';
import { fromArrays, fromGenerator } from './sources.js';

export { fromArrays, fromGenerator } from './sources.js';
export { Dataset, type ArraysInput, type Row, type Batched, type ShuffleOptions, type BatchOptions } from './dataset.js';
export { augment, type Augmenter, type Augmentable, type AugmentOptions, type GeometricOptions, type Range } from './augment.js';
export type { FillMode } from './image-types.js';

/**
 * `st.data.*` in a page: the {@link Dataset} pipeline's sources, augmentation and IDX decoding.
 * @namespace
 */
export const data = {
  /** A Dataset over the rows of in-memory tensors (tf.data's from_tensor_slices). */
  fromArrays,
  /** A Dataset from a function returning a fresh iterator (or iterable) for each pass. */
  fromGenerator,
  /** Random image transformations for `dataset.map()`. */
  augment,
  /**
   * Decodes the bytes of an uncompressed IDX file (the MNIST format) into a tensor: what a page
   * does with a fetched file. `name` names the file in errors.
   * @example
   * ```ts
   * const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]); // a uint8 vector of 3
   * console.log(st.data.decodeIdx(bytes).arraySync()); // [7, 8, 9]
   * ```
   */
  decodeIdx: (bytes: Uint8Array, name = 'IDX bytes'): ReturnType<typeof idxToTensor> => idxToTensor(bytes, name, 'decodeIdx'),
};
