// Seeded random float32 tensors and their asynchronous readers (`await t.data()`, which every
// backend has), shared by test/metric-options.test.ts and test/sample-weights.test.ts; seededStream
// also serves test/metric-test-helpers.ts and test/trainer.test.ts.
import * as st from '../src/index.js';
import { randomValues } from './helpers.js';

export const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * A stream of seeds from `start` (7919 apart) and the uniform tensors drawn from it, in [lo, hi)
 * unless a call says otherwise: each test file takes its own, so its data does not depend on
 * what another file drew.
 */
export function seededStream(start: number, lo = 0, hi = 1) {
  let seed = start;
  const nextSeed = () => (seed += 7919);
  const uniform = (shape: number[], min = lo, max = hi, dtype: st.DType = 'float32') =>
    st.tensor(randomValues(count(shape), nextSeed(), min, max), shape, dtype);
  return { nextSeed, uniform };
}

export const { nextSeed, uniform } = seededStream(11);
export const values = async (t: st.Tensor) => Array.from(await t.data());
export async function rows(t: st.Tensor): Promise<number[][]> {
  const v = await values(t),
    c = t.shape[t.rank - 1];
  return Array.from({ length: v.length / c }, (_, i) => v.slice(i * c, (i + 1) * c));
}
export const sumOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
