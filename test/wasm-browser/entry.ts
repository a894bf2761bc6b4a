// Bundled for the browser by test/wasm-browser.test.ts: the wasm backend alone (its kernels
// called directly), as a page without cross-origin isolation and one with it would run it.
import { initWasm, setWasmWorkerFactory, WasmBackend } from '../../src/backend/wasm/index.js';
import { browserWorkerFactory } from '../../src/backend/wasm/workers-browser.js';

const f32 = (shape: number[]) => ({ shape, dtype: 'float32' as const });

export async function run(): Promise<{ detail: string; isolated: boolean; expError: number; sumError: number }> {
  await initWasm(); // the main thread may not compile the module synchronously
  setWasmWorkerFactory(browserWorkerFactory);
  const backend = new WasmBackend();
  backend.setNumThreads(2);
  await new Promise((resolve) => setTimeout(resolve, 500)); // workers start asynchronously
  const n = 300_000;
  const xs = new Float32Array(n).map((_, i) => Math.sin(i) * 3);
  const x = backend.upload(xs, 'float32');
  const ys = backend.download(backend.kernels.exp([{ data: x, ...f32([n]) }], {}, f32([n])), 'float32', n);
  let expError = 0;
  for (let i = 0; i < n; i++) expError = Math.max(expError, Math.abs(ys[i] - Math.exp(xs[i])) / Math.exp(xs[i]));
  const sums = backend.download(backend.kernels.sum([{ data: x, ...f32([1000, 300]) }], { axes: [0] }, f32([300])), 'float32', 300);
  let sumError = 0;
  for (let j = 0; j < 300; j++) {
    let s = 0;
    for (let i = 0; i < 1000; i++) s += xs[i * 300 + j];
    sumError = Math.max(sumError, Math.abs(sums[j] - s));
  }
  return { detail: backend.describe(), isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true, expError, sumError };
}
