// classes.json: what `strata evaluate` and `strata predict` need to know about a run besides its
// model. A model alone cannot say which data it was tested on (evaluate used to test every run
// on MNIST) nor what its images looked like (predict took a black-on-white drawing for a
// white-on-black digit), so the run records them when it is trained.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as st from '../index.js';
import type { LabelledData } from './datasets.js';

export interface RunRecord {
  /** The dataset spec, a file or folder path made absolute. */
  dataset: string;
  classNames: string[];
  /** What evaluate needs to rebuild the same test split (the options of loadDataset). */
  samples?: 'images' | 'rows';
  imageSize?: [number, number];
  color?: boolean;
  labelColumn?: string;
  limit?: number;
  validationSplit?: number;
  split?: { test: string; trainSamples: number; testSamples: number };
  /** The CSV file's SHA-256, to notice a file that changed since the run. */
  sha256?: string;
  /** Images: their border brightness, mean over images and spread between them, in [0, 1]. */
  background?: { border: number; spread: number };
}

/** The brightness of an image's outermost ring of pixels (channels averaged), in its own units. */
export function borderBrightness(pixels: ArrayLike<number>, height: number, width: number, channels: number): number {
  let sum = 0,
    count = 0;
  for (let y = 0; y < height; y++) {
    const edgeRow = y === 0 || y === height - 1;
    for (let x = 0; x < width; x++) {
      if (!edgeRow && x !== 0 && x !== width - 1) continue;
      for (let c = 0; c < channels; c++) sum += pixels[(y * width + x) * channels + c];
      count += channels;
    }
  }
  return sum / count;
}

/**
 * The training images' background: the border brightness of (up to) their first 1000, as a mean
 * and a standard deviation. A border is the best cheap guess at the background, since subjects
 * are usually centred.
 */
function background(x: st.Tensor): RunRecord['background'] {
  const [n, h, w, c] = x.shape;
  const take = Math.min(n, 1000);
  const values = st.slice(x, [0], [take]).dataSync();
  const borders = Array.from({ length: take }, (_, i) => borderBrightness(values.subarray(i * h * w * c, (i + 1) * h * w * c), h, w, c));
  const mean = borders.reduce((a, b) => a + b, 0) / take;
  const spread = Math.sqrt(borders.reduce((a, b) => a + (b - mean) ** 2, 0) / take);
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  return { border: round(mean), spread: round(spread) };
}

/** The record of a run about to be trained on `data`. */
export async function makeRecord(
  data: LabelledData,
  o: { dataset: string; labelColumn?: string; limit?: number; validationSplit: number },
): Promise<RunRecord> {
  const record: RunRecord = { dataset: o.dataset, classNames: data.classNames, samples: data.images ? 'images' : 'rows' };
  if (data.images) {
    const [, h, w, c] = data.xTrain.shape;
    Object.assign(record, { imageSize: [h, w], color: c === 3 });
  }
  if (o.dataset.startsWith('csv:')) {
    record.labelColumn = o.labelColumn ?? 'label';
    record.sha256 = createHash('sha256')
      .update(await readFile(o.dataset.slice(4)))
      .digest('hex');
  }
  if (o.limit !== undefined) record.limit = o.limit;
  record.validationSplit = o.validationSplit;
  record.split = { test: data.testSplit, trainSamples: data.xTrain.shape[0], testSamples: data.xTest.shape[0] };
  if (data.images) record.background = background(data.xTrain);
  return record;
}

export const recordText = (r: RunRecord) => JSON.stringify(r, null, 1) + '\n';

const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** The record of the run in `dir`, or undefined when it has none; a file that is not one is a FormatError. */
export function readRecord(dir: string): RunRecord | undefined {
  const file = join(dir, 'classes.json');
  if (!existsSync(file)) return undefined;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new st.FormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  // Fields that are missing or malformed are dropped: a record from an older Strata holds only the dataset and class names.
  const ok = <T>(v: unknown, good: (v: unknown) => boolean): T | undefined => (good(v) ? (v as T) : undefined);
  const record: RunRecord = {
    dataset: ok<string>(r.dataset, (v) => typeof v === 'string') ?? 'mnist',
    classNames: Array.isArray(r.classNames) ? r.classNames.map(String) : [],
    samples: ok(r.samples, (v) => v === 'images' || v === 'rows'),
    imageSize: ok(r.imageSize, (v) => Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d) && d > 0)),
    color: ok(r.color, (v) => typeof v === 'boolean'),
    labelColumn: ok(r.labelColumn, (v) => typeof v === 'string'),
    limit: ok(r.limit, (v) => Number.isInteger(v) && (v as number) > 0),
    validationSplit: ok(r.validationSplit, isNumber),
    split: ok(
      r.split,
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        isNumber((v as RunRecord['split'])!.testSamples) &&
        typeof (v as RunRecord['split'])!.test === 'string',
    ),
    sha256: ok(r.sha256, (v) => typeof v === 'string'),
    background: ok(
      r.background,
      (v) => typeof v === 'object' && v !== null && isNumber((v as { border: unknown }).border) && isNumber((v as { spread: unknown }).spread),
    ),
  };
  for (const key of Object.keys(record) as (keyof RunRecord)[]) if (record[key] === undefined) delete record[key];
  return record;
}
