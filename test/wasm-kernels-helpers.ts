// Shared by test/wasm-kernels-*.test.ts.
import assert from 'node:assert/strict';
import * as st from '../src/index.js';

/**
 * Waits (up to 5 s) until the wasm backend's worker threads report ready, so that the kernels
 * under test really run split across threads; a no-op without threads.
 */
export async function wasmThreadsReady(): Promise<void> {
  const wasm = st.backends().find((b) => b.name === 'wasm');
  if (!wasm?.available) return;
  const previous = st.getBackend().name;
  st.setBackend('wasm');
  // biome-ignore lint/suspicious/noExplicitAny: the pool is the backend's private member
  const backend = st.getBackend() as any;
  st.setBackend(previous);
  for (let i = 0; i < 500 && backend.pool && !backend.pool.ready; i++) await new Promise((r) => setTimeout(r, 10));
}

/** Plain values with a shape, so each backend makes its own tensors. */
export interface Input {
  shape: number[];
  values: number[];
}

/**
 * Runs f on `backend` in `dtype`: its outputs and the gradients of L = Σ_k sum(out_k · w_k) with
 * respect to every float input (ints, such as labels, are passed as they are).
 */
export function outputsAndGrads(
  backend: string,
  dtype: st.DType,
  f: (...xs: st.Tensor[]) => st.Tensor[],
  inputs: (Input & { dtype?: st.DType })[],
): number[][] {
  const previous = st.getBackend().name;
  st.setBackend(backend);
  try {
    const xs = inputs.map((i) => (i.dtype ? st.tensor(i.values, i.shape, i.dtype) : st.variable(st.tensor(i.values, i.shape, dtype))));
    const floats = xs.filter((_, k) => !inputs[k].dtype);
    const loss = (...ts: st.Tensor[]) => {
      const all = xs.map((x) => (floats.includes(x) ? ts[floats.indexOf(x)] : x));
      return f(...all)
        .map((o, k) => st.sum(st.mul(o, st.tensor(randomWeights(o.size, 700 + k), o.shape, dtype))))
        .reduce((a, b) => st.add(a, b));
    };
    const { grads } = st.valueAndGrad(loss)(...floats);
    return [...f(...xs).map((o) => Array.from(o.dataSync())), ...grads.map((g) => Array.from(g.dataSync()))];
  } finally {
    st.setBackend(previous);
  }
}

function randomWeights(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 0.5 + (s >>> 8) / 16777216;
  });
}

/** `run()` on two threads and on one must give the same bits (the thread count is restored after). */
export function assertSameOnOneAndTwoThreads<T>(run: () => T): void {
  const previous = st.getNumThreads();
  try {
    st.setNumThreads(2);
    const two = run();
    st.setNumThreads(1);
    assert.deepEqual(run(), two);
  } finally {
    st.setNumThreads(previous);
  }
}
