// Seeded random float32 tensors and their asynchronous readers (`await t.data()`, which every
// backend has), shared by test/metric-options.test.ts and test/sample-weights.test.ts.
import * as st from '../src/index.js';
import { randomValues } from './helpers.js';

let seed = 11;
export const nextSeed = () => (seed += 7919);
export const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
export const uniform = (shape: number[], lo = 0, hi = 1) => st.tensor(randomValues(count(shape), nextSeed(), lo, hi), shape);
export const values = async (t: st.Tensor) => Array.from(await t.data());
export async function rows(t: st.Tensor): Promise<number[][]> {
  const v = await values(t),
    c = t.shape[t.rank - 1];
  return Array.from({ length: v.length / c }, (_, i) => v.slice(i * c, (i + 1) * c));
}
export const sumOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
