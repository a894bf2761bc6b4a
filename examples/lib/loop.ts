// Small pieces that custom training loops in the examples share: a seeded shuffle of the
// training set, and the moving average that makes a noisy per-step loss readable in a chart.

/** A seeded random order of 0..n-1 (Fisher-Yates driven by a 32-bit linear congruential generator). */
export function permutation(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let state = (Math.imul(seed, 2654435761) + 1) >>> 0;
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * The moving average of `values` over `window` steps, as [step, value] pairs (steps count from 1)
 * starting at the first full window. A window of 0 picks one tenth of the series, at most 50.
 */
export function movingAverage(values: readonly number[], window = 0): [number, number][] {
  const w = window > 0 ? window : Math.max(1, Math.min(50, Math.round(values.length / 10)));
  const out: [number, number][] = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v - (i >= w ? values[i - w] : 0);
    if (i >= w - 1) out.push([i + 1, sum / w]);
  });
  return out;
}

/** The mean of the last `count` values (all when fewer). */
export function meanOfLast(values: readonly number[], count: number): number {
  const tail = values.slice(-count);
  return tail.reduce((a, b) => a + b, 0) / tail.length;
}
