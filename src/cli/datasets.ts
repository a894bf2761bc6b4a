import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as st from '../index.js';

/** A labelled classification split, as `strata train` and `strata evaluate` use it. */
export interface LabelledData {
  xTrain: st.Tensor;
  yTrain: st.Tensor;
  xTest: st.Tensor;
  yTest: st.Tensor;
  classNames: string[];
  name: string;
  /** Whether the samples are images ([N, h, w, c]); CSV rows are feature vectors. */
  images: boolean;
  /** Where the test split comes from, in words ("the last 20 % of the rows of points.csv"). */
  testSplit: string;
}

/** What a sample is called in messages. */
export const unit = (d: { images: boolean }, n = 2) => (d.images ? (n === 1 ? 'image' : 'images') : n === 1 ? 'row' : 'rows');

/** "40 csv test rows", "1000 mnist images", "5 test images" (a folder's data is named 'images' already). */
export function samples(d: { images: boolean; name: string }, n: number, kind = ''): string {
  return [n, d.name === 'images' ? '' : d.name, kind, unit(d, n)].filter((w) => w !== '').join(' ');
}

/** The dataset spec with a file or folder path made absolute, so a run can find its data from any folder. */
export function absoluteSpec(spec: string): string {
  for (const prefix of ['csv:', 'dir:'])
    if (spec.startsWith(prefix) && spec.length > prefix.length) return prefix + resolve(spec.slice(prefix.length));
  return spec;
}

export interface DatasetOptions {
  limit?: number;
  /** For dir: datasets, every image is resized to this [height, width]. */
  imageSize?: [number, number];
  grayscale?: boolean;
  /** For csv: datasets, the label column (header name or index). */
  labelColumn?: string;
}

/** Keeps the first n samples of each split (`--limit`), for quick runs. */
function limit(d: LabelledData, n: number | undefined): LabelledData {
  if (n === undefined) return d;
  const first = (t: st.Tensor) => (t.shape[0] > n ? st.slice(t, [0], [n]) : t);
  const testSplit = d.xTest.shape[0] > n ? `the first ${n} of ${d.testSplit}` : d.testSplit;
  return { ...d, xTrain: first(d.xTrain), yTrain: first(d.yTrain), xTest: first(d.xTest), yTest: first(d.yTest), testSplit };
}

/** Every element of a finite dataset, stacked into arrays. */
async function collect(ds: st.Dataset<{ xs: st.Tensor; ys: st.Tensor }>, what: string): Promise<{ x: st.Tensor; y: st.Tensor }> {
  const xs: st.Tensor[] = [],
    ys: st.Tensor[] = [];
  for await (const { xs: x, ys: y } of ds) {
    xs.push(x);
    ys.push(y);
  }
  if (!xs.length) throw new st.ValueError(`${what}: no samples found`);
  return { x: st.stack(xs), y: st.stack(ys) };
}

/** The last fifth as the test split, when a source has no test split of its own. */
function holdOut(x: st.Tensor, y: st.Tensor): { xTrain: st.Tensor; yTrain: st.Tensor; xTest: st.Tensor; yTest: st.Tensor } {
  const n = x.shape[0];
  const at = Math.max(1, Math.floor(n * 0.8));
  if (at >= n) throw new st.ValueError(`need at least 2 samples to hold out a test split; received ${n}`);
  return { xTrain: st.slice(x, [0], [at]), yTrain: st.slice(y, [0], [at]), xTest: st.slice(x, [at]), yTest: st.slice(y, [at]) };
}

/** CSV rows of numeric features with an integer class label; the last fifth of the rows is the test split. */
async function csvData(path: string, labelColumn: string | number): Promise<LabelledData> {
  const { x, y } = await collect(st.data.loadCsv(path, { labelColumn }), path);
  const labels = Array.from(y.dataSync());
  if (!labels.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new st.ValueError(
      `${path}: the label column must hold class numbers 0, 1, 2, ...; received ${labels.find((v) => !(Number.isInteger(v) && v >= 0))}`,
    );
  }
  const classes = Math.max(...labels) + 1;
  return {
    ...holdOut(x, y.cast('int32')),
    classNames: Array.from({ length: classes }, (_, i) => String(i)),
    name: 'csv',
    images: false,
    testSplit: `the last 20 % of the rows of ${basename(path)}`,
  };
}

/**
 * One subfolder per class. A folder with train/ and test/ subfolders (each with the class
 * folders) uses them; otherwise the last fifth of the images, after a seeded shuffle, is the test split.
 */
async function folderData(path: string, imageSize: [number, number], grayscale: boolean): Promise<LabelledData> {
  const split = ['train', 'test'].every((s) => existsSync(join(path, s)) && statSync(join(path, s)).isDirectory());
  if (split) {
    const train = st.data.imageFolder(join(path, 'train'), { imageSize, grayscale });
    const test = st.data.imageFolder(join(path, 'test'), { imageSize, grayscale });
    if (train.classNames.join('/') !== test.classNames.join('/')) {
      throw new st.ValueError(
        `${path}: train/ and test/ must hold the same class folders; received ${train.classNames.join(', ')} and ${test.classNames.join(', ')}`,
      );
    }
    const a = await collect(train, join(path, 'train')),
      b = await collect(test, join(path, 'test'));
    return {
      xTrain: a.x,
      yTrain: a.y,
      xTest: b.x,
      yTest: b.y,
      classNames: train.classNames,
      name: 'images',
      images: true,
      testSplit: `the images in ${join(basename(path), 'test')}`,
    };
  }
  const all = st.data.imageFolder(path, { imageSize, grayscale });
  const { x, y } = await collect(all.shuffle(1 << 30, { seed: 0 }), path);
  return {
    ...holdOut(x, y),
    classNames: all.classNames,
    name: 'images',
    images: true,
    testSplit: `the last 20 % of the images in ${basename(path)}, shuffled with seed 0`,
  };
}

/** Resolves `--dataset mnist | fashion-mnist | csv:FILE | dir:FOLDER`. */
export async function loadDataset(spec: string, options: DatasetOptions = {}): Promise<LabelledData> {
  if (spec === 'mnist') return limit({ ...(await st.data.mnist()), name: 'mnist', images: true, testSplit: 'the MNIST test set' }, options.limit);
  if (spec === 'fashion-mnist')
    return limit({ ...(await st.data.fashionMnist()), name: 'fashion-mnist', images: true, testSplit: 'the Fashion-MNIST test set' }, options.limit);
  if (spec.startsWith('csv:')) {
    const column = options.labelColumn ?? 'label';
    return limit(await csvData(spec.slice(4), /^\d+$/.test(column) ? Number(column) : column), options.limit);
  }
  if (spec.startsWith('dir:')) return limit(await folderData(spec.slice(4), options.imageSize ?? [28, 28], options.grayscale ?? true), options.limit);
  throw new st.ValueError(`--dataset: expected mnist, fashion-mnist, csv:FILE or dir:FOLDER; received ${JSON.stringify(spec)}`);
}
