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

export const data = { readIdx, readIdxSync, mnist, fashionMnist, fromArrays, fromGenerator, loadCsv, csvColumnNames, imageFolder, augment, readImage };
