// The public types of Node's file readers in st.data (loadCsv, imageFolder, mnist, readImage),
// kept apart from the readers (src/node/data/) so the shared API can name them without reaching
// into Node-only code.
import type { Tensor } from '../tensor/tensor.js';
import type { Dataset } from './dataset.js';

/** Options of `st.data.loadCsv`. */
export interface CsvOptions {
  /** The column holding the label (by header name, or by index); the remaining columns are features. */
  labelColumn?: string | number;
  /** The feature columns, by header name or index, in the order wanted (default: all but the label). */
  columns?: readonly (string | number)[];
  /** Whether line 1 names the columns (default true). */
  header?: boolean;
  /** The field separator (default ','). */
  delimiter?: string;
}

/** Options of `st.data.imageFolder`. */
export interface ImageFolderOptions {
  /** Every image is resized (bilinear) to [height, width]. */
  imageSize: readonly [number, number];
  /** One channel instead of three (default false). */
  grayscale?: boolean;
}

/** A dataset of `{xs: float32 [h, w, c] in [0, 1], ys: int32 []}` that also names its classes. */
export interface ImageFolderDataset
  extends Dataset<{
    /** The image, float32 [height, width, channels] in [0, 1]. */
    xs: Tensor;
    /** The class index, int32 []. */
    ys: Tensor;
  }> {
  /** Subfolder names in sorted order; ys indexes this list. */
  readonly classNames: string[];
}

/** The four tensors of an MNIST-style data set, and the names of its classes. */
export interface MnistData {
  /** Images, float32 [N, 28, 28, 1] in [0, 1]. */
  xTrain: Tensor;
  /** Labels, int32 [N]. */
  yTrain: Tensor;
  /** Test images, float32 [N, 28, 28, 1] in [0, 1]. */
  xTest: Tensor;
  /** Test labels, int32 [N]. */
  yTest: Tensor;
  /** The name of each label value, indexed by label. */
  classNames: string[];
}

/** Options of `st.data.readImage`. */
export interface ReadImageOptions {
  /** Resize (bilinear) to [height, width]; default: the file's own size. */
  size?: readonly [number, number];
  /** 1 (grayscale) or 3 (RGB); default: 1 for gray files, 3 for colour ones. */
  channels?: 1 | 3;
}
