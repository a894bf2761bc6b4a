// Data and float64 references shared by the streaming-metric tests (test/metrics.test.ts on each
// backend, test/metrics-float64.test.ts on float64 inputs). The references are plain JavaScript,
// written independently of src/metrics; they read tensor values fetched beforehand with fetchValues.
import type * as st from '../src/index.js';
import { seededStream } from './seeded-tensor-helpers.js';

export const BATCH_SIZES = [17, 32, 5, 40];

export interface Batch {
  yTrue: st.Tensor;
  yPred: st.Tensor;
  weight?: st.Tensor;
}

export const { nextSeed, uniform } = seededStream(1);
// The references are synchronous; they take tensor values read beforehand with `await t.data()`
// (every backend has it; webgpu has no synchronous read) by fetchValues.
const fetched = new WeakMap<st.Tensor, number[]>();
export async function fetchValues(...ts: (st.Tensor | undefined)[]): Promise<void> {
  for (const t of ts) if (t && !fetched.has(t)) fetched.set(t, Array.from(await t.data()));
}
export function values(t: st.Tensor): number[] {
  const v = fetched.get(t);
  if (!v) throw new Error('test: read the tensor with fetchValues before its values are used');
  return v;
}

/** Rows of a [n, c] (or [n]) tensor as arrays of numbers. */
export function rows(t: st.Tensor): number[][] {
  const v = values(t),
    c = t.rank === 1 ? 1 : t.shape[t.rank - 1];
  return Array.from({ length: v.length / c }, (_, i) => v.slice(i * c, (i + 1) * c));
}
export const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per-sample mean of f(yPred - yTrue) over each row (the error metrics' reference). */
export const errors = (f: (d: number) => number) => (b: Batch) => rows(b.yPred).map((p, i) => meanOf(p.map((x, j) => f(x - rows(b.yTrue)[i][j]))));

/** Confusion counts by direct comparison of every prediction with every threshold. */
export function confusionAt(thresholds: number[], preds: number[], labels: number[], weights: number[], soft: boolean) {
  return thresholds.map((t) => {
    let tp = 0,
      fp = 0,
      fn = 0,
      tn = 0;
    preds.forEach((p, i) => {
      const pos = soft ? labels[i] : labels[i] !== 0 ? 1 : 0;
      if (p > t) {
        tp += pos * weights[i];
        fp += (1 - pos) * weights[i];
      } else {
        fn += pos * weights[i];
        tn += (1 - pos) * weights[i];
      }
    });
    return { tp, fp, fn, tn };
  });
}

export const safeDiv = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Keras's AUC formulas over 200 (or n) thresholds, written independently of src/metrics/auc.ts. */
export function referenceAuc(
  preds: number[],
  labels: number[],
  weights: number[],
  options: { n?: number; curve?: 'ROC' | 'PR'; summation?: string } = {},
): number {
  const n = options.n ?? 200,
    curve = options.curve ?? 'ROC',
    summation = options.summation ?? 'interpolation';
  const thresholds = [-1e-7];
  for (let i = 1; i < n - 1; i++) thresholds.push(i / (n - 1));
  thresholds.push(1 + 1e-7);
  const c = confusionAt(thresholds, preds, labels, weights, true);
  let area = 0;
  for (let i = 0; i + 1 < n; i++) {
    const a = c[i],
      b = c[i + 1];
    if (curve === 'PR' && summation === 'interpolation') {
      const dtp = a.tp - b.tp,
        pa = a.tp + a.fp,
        pb = b.tp + b.fp;
      const slope = safeDiv(dtp, Math.max(pa - pb, 0));
      const ratio = pa > 0 && pb > 0 ? pa / pb : 1;
      area += safeDiv(slope * (dtp + (b.tp - slope * pb) * Math.log(ratio)), b.tp + b.fn);
      continue;
    }
    const xa = curve === 'ROC' ? safeDiv(a.fp, a.fp + a.tn) : safeDiv(a.tp, a.tp + a.fn);
    const xb = curve === 'ROC' ? safeDiv(b.fp, b.fp + b.tn) : safeDiv(b.tp, b.tp + b.fn);
    const ya = curve === 'ROC' ? safeDiv(a.tp, a.tp + a.fn) : safeDiv(a.tp, a.tp + a.fp);
    const yb = curve === 'ROC' ? safeDiv(b.tp, b.tp + b.fn) : safeDiv(b.tp, b.tp + b.fp);
    const h = summation === 'interpolation' ? (ya + yb) / 2 : summation === 'minoring' ? Math.min(ya, yb) : Math.max(ya, yb);
    area += (xa - xb) * h;
  }
  return area;
}
