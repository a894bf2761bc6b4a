// Non-maximum suppression (tfjs's tf.image.nonMaxSuppression family): a greedy pass on the host
// over boxes sorted by score. Box selection is discrete (no gradient), and the boxes of one image
// are few, so reading them back costs little; the Async forms read with `await t.data()` and so
// work on backends without synchronous reads (webgpu).

import { ShapeError, ValueError, fmtShape, fmtValue } from '../../core/errors.js';
import { asTensor, type TensorInput } from '../../ops/operand.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';

interface NmsParams {
  maxOutputSize: number;
  iouThreshold: number;
  scoreThreshold: number;
  softNmsSigma: number;
}

/** Checks the arguments as tfjs does (maxOutputSize is capped at the number of boxes). */
function checkArgs(
  op: string,
  boxes: Tensor,
  scores: Tensor,
  maxOutputSize: number,
  iouThreshold: number,
  scoreThreshold: number,
  softNmsSigma: number,
): NmsParams {
  if (boxes.rank !== 2 || boxes.shape[1] !== 4) throw new ShapeError(`${op}: boxes must have shape [numBoxes, 4]; received ${fmtShape(boxes.shape)}`);
  const n = boxes.shape[0];
  if (scores.rank !== 1 || scores.shape[0] !== n) throw new ShapeError(`${op}: scores must have shape [${n}]; received ${fmtShape(scores.shape)}`);
  if (!Number.isInteger(maxOutputSize) || maxOutputSize < 0)
    throw new ValueError(`${op}: maxOutputSize must be a non-negative integer; received ${fmtValue(maxOutputSize)}`);
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw new ValueError(`${op}: iouThreshold must be in [0, 1]; received ${fmtValue(iouThreshold)}`);
  if (typeof scoreThreshold !== 'number' || Number.isNaN(scoreThreshold))
    throw new ValueError(`${op}: scoreThreshold must be a number; received ${fmtValue(scoreThreshold)}`);
  if (!(softNmsSigma >= 0 && softNmsSigma <= 1)) throw new ValueError(`${op}: softNmsSigma must be in [0, 1]; received ${fmtValue(softNmsSigma)}`);
  return { maxOutputSize: Math.min(maxOutputSize, n), iouThreshold, scoreThreshold, softNmsSigma };
}

/** Boxes as [ymin, xmin, ymax, xmax, area] rows (corners may come in either order). */
function normalizeBoxes(b: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(5 * n);
  for (let k = 0; k < n; k++) {
    const y1 = b[4 * k],
      x1 = b[4 * k + 1],
      y2 = b[4 * k + 2],
      x2 = b[4 * k + 3];
    const top = Math.min(y1, y2),
      left = Math.min(x1, x2),
      bottom = Math.max(y1, y2),
      right = Math.max(x1, x2);
    out.set([top, left, bottom, right, (bottom - top) * (right - left)], 5 * k);
  }
  return out;
}

/** Intersection over union of normalized boxes i and j; 0 when either is empty. */
function iouOf(b: Float64Array, i: number, j: number): number {
  const areaI = b[5 * i + 4],
    areaJ = b[5 * j + 4];
  if (areaI <= 0 || areaJ <= 0) return 0;
  const ih = Math.max(Math.min(b[5 * i + 2], b[5 * j + 2]) - Math.max(b[5 * i], b[5 * j]), 0),
    iw = Math.max(Math.min(b[5 * i + 3], b[5 * j + 3]) - Math.max(b[5 * i + 1], b[5 * j + 1]), 0);
  const inter = ih * iw;
  return inter / (areaI + areaJ - inter);
}

/**
 * The greedy selection: repeatedly take the candidate of highest score (the lower index on
 * ties), drop every remaining box whose IoU with it reaches iouThreshold, and (soft-NMS, sigma >
 * 0) scale the others' scores by exp(−iou² / (2σ)), dropping those that fall to scoreThreshold.
 * Only boxes scoring above scoreThreshold take part.
 */
export function greedyNms(boxes: ArrayLike<number>, scores: ArrayLike<number>, p: NmsParams): { indices: number[]; scores: number[] } {
  const b = normalizeBoxes(boxes, scores.length);
  const order: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] > p.scoreThreshold) order.push(i);
  order.sort((i, j) => scores[j] - scores[i] || i - j);
  const indices: number[] = [],
    kept: number[] = [];
  if (p.softNmsSigma === 0) {
    // Hard NMS: scores never change, so one pass in score order, each candidate checked against
    // the boxes already selected.
    for (const i of order) {
      if (indices.length >= p.maxOutputSize) break;
      if (indices.every((j) => iouOf(b, i, j) < p.iouThreshold)) {
        indices.push(i);
        kept.push(scores[i]);
      }
    }
    return { indices, scores: kept };
  }
  const live = order.map((index) => ({ index, score: scores[index] }));
  const scale = -0.5 / p.softNmsSigma;
  while (indices.length < p.maxOutputSize && live.length > 0) {
    let best = 0;
    for (let k = 1; k < live.length; k++) {
      const a = live[k],
        c = live[best];
      if (a.score > c.score || (a.score === c.score && a.index < c.index)) best = k;
    }
    const chosen = live[best];
    live.splice(best, 1);
    indices.push(chosen.index);
    kept.push(chosen.score);
    let w = 0;
    for (const cand of live) {
      const iou = iouOf(b, cand.index, chosen.index);
      if (iou >= p.iouThreshold) continue;
      cand.score *= Math.exp(scale * iou * iou);
      if (cand.score > p.scoreThreshold) live[w++] = cand;
    }
    live.length = w;
  }
  return { indices, scores: kept };
}

type Reader = (t: Tensor) => ArrayLike<number> | Promise<ArrayLike<number>>;
const readSync: Reader = (t) => t.dataSync();
const readAsync: Reader = (t) => t.data();

/** The shared body of the six entry points, with the read left to the caller (sync or async). */
function run<R>(
  op: string,
  boxesIn: TensorInput,
  scoresIn: TensorInput,
  args: [number, number, number, number],
  read: Reader,
  finish: (r: { indices: number[]; scores: number[] }, p: NmsParams) => R,
): R | Promise<R> {
  const boxes = asTensor(op, 'boxes', boxesIn),
    scores = asTensor(op, 'scores', scoresIn);
  const p = checkArgs(op, boxes, scores, ...args);
  const b = read(boxes),
    s = read(scores);
  if (b instanceof Promise || s instanceof Promise) return Promise.all([b, s]).then(([bv, sv]) => finish(greedyNms(bv, sv, p), p));
  return finish(greedyNms(b, s, p), p);
}

const asIndices = (r: { indices: number[] }): Tensor => tensor(r.indices, [r.indices.length], 'int32');
const withScores = (r: { indices: number[]; scores: number[] }) => ({
  selectedIndices: asIndices(r),
  selectedScores: tensor(r.scores, [r.scores.length], 'float32'),
});
const padded = (padToMaxOutputSize: boolean) => (r: { indices: number[] }, p: NmsParams) => {
  const validOutputs = r.indices.length;
  const indices = padToMaxOutputSize ? [...r.indices, ...new Array<number>(p.maxOutputSize - validOutputs).fill(0)] : r.indices;
  return { selectedIndices: tensor(indices, [indices.length], 'int32'), validOutputs: tensor(validOutputs, [], 'int32') };
};

/**
 * Indices (int32) of at most `maxOutputSize` boxes, best first, none overlapping a better one
 * by IoU ≥ `iouThreshold` (default 0.5), among boxes scoring above `scoreThreshold` (default
 * −∞) (tfjs's `tf.image.nonMaxSuppression`). `boxes` [numBoxes, 4] holds [y1, x1, y2, x2].
 * Reads the boxes synchronously: on webgpu use nonMaxSuppressionAsync.
 */
export function nonMaxSuppression(
  boxes: TensorInput,
  scores: TensorInput,
  maxOutputSize: number,
  iouThreshold = 0.5,
  scoreThreshold = Number.NEGATIVE_INFINITY,
): Tensor {
  return run('image.nonMaxSuppression', boxes, scores, [maxOutputSize, iouThreshold, scoreThreshold, 0], readSync, asIndices) as Tensor;
}

/** nonMaxSuppression, reading the boxes with `await data()` (works on every backend). */
export async function nonMaxSuppressionAsync(
  boxes: TensorInput,
  scores: TensorInput,
  maxOutputSize: number,
  iouThreshold = 0.5,
  scoreThreshold = Number.NEGATIVE_INFINITY,
): Promise<Tensor> {
  return run('image.nonMaxSuppressionAsync', boxes, scores, [maxOutputSize, iouThreshold, scoreThreshold, 0], readAsync, asIndices);
}

/** What `st.image.nonMaxSuppressionWithScore` returns. */
export interface NmsWithScoresResult {
  /** Indices (int32) of the selected boxes, best first. */
  selectedIndices: Tensor;
  /** The selected boxes' scores (float32), after Soft-NMS's decay. */
  selectedScores: Tensor;
}

/** What `st.image.nonMaxSuppressionPadded` returns. */
export interface NmsPaddedResult {
  /** Indices (int32) of the selected boxes, best first, zero-padded with `padToMaxOutputSize`. */
  selectedIndices: Tensor;
  /** How many of the indices are real selections (an int32 scalar). */
  validOutputs: Tensor;
}

/**
 * Soft-NMS (tfjs's `tf.image.nonMaxSuppressionWithScore`): as nonMaxSuppression, but with
 * `softNmsSigma` > 0 a box overlapping a selected one by IoU below the threshold keeps competing
 * with its score scaled by exp(−iou² / (2·softNmsSigma)). Returns the selected indices and their
 * (possibly lowered) scores.
 */
export function nonMaxSuppressionWithScore(
  boxes: TensorInput,
  scores: TensorInput,
  maxOutputSize: number,
  iouThreshold = 0.5,
  scoreThreshold = Number.NEGATIVE_INFINITY,
  softNmsSigma = 0,
): NmsWithScoresResult {
  return run(
    'image.nonMaxSuppressionWithScore',
    boxes,
    scores,
    [maxOutputSize, iouThreshold, scoreThreshold, softNmsSigma],
    readSync,
    withScores,
  ) as NmsWithScoresResult;
}

/** nonMaxSuppressionWithScore, reading the boxes with `await data()` (works on every backend). */
export async function nonMaxSuppressionWithScoreAsync(
  boxes: TensorInput,
  scores: TensorInput,
  maxOutputSize: number,
  iouThreshold = 0.5,
  scoreThreshold = Number.NEGATIVE_INFINITY,
  softNmsSigma = 0,
): Promise<NmsWithScoresResult> {
  return run(
    'image.nonMaxSuppressionWithScoreAsync',
    boxes,
    scores,
    [maxOutputSize, iouThreshold, scoreThreshold, softNmsSigma],
    readAsync,
    withScores,
  );
}

/**
 * nonMaxSuppression that also returns how many boxes were selected (`validOutputs`, an int32
 * scalar) and, with `padToMaxOutputSize`, pads the indices with zeros to min(maxOutputSize,
 * numBoxes) (tfjs's `tf.image.nonMaxSuppressionPadded`).
 */
export function nonMaxSuppressionPadded(
  boxes: TensorInput,
  scores: TensorInput,
  maxOutputSize: number,
  iouThreshold = 0.5,
  scoreThreshold = Number.NEGATIVE_INFINITY,
  padToMaxOutputSize = false,
): NmsPaddedResult {
  return run(
    'image.nonMaxSuppressionPadded',
    boxes,
    scores,
    [maxOutputSize, iouThreshold, scoreThreshold, 0],
    readSync,
    padded(padToMaxOutputSize),
  ) as NmsPaddedResult;
}

/** nonMaxSuppressionPadded, reading the boxes with `await data()` (works on every backend). */
export async function nonMaxSuppressionPaddedAsync(
  boxes: TensorInput,
  scores: TensorInput,
  maxOutputSize: number,
  iouThreshold = 0.5,
  scoreThreshold = Number.NEGATIVE_INFINITY,
  padToMaxOutputSize = false,
): Promise<NmsPaddedResult> {
  return run(
    'image.nonMaxSuppressionPaddedAsync',
    boxes,
    scores,
    [maxOutputSize, iouThreshold, scoreThreshold, 0],
    readAsync,
    padded(padToMaxOutputSize),
  );
}
