import { backends as listBackends, findBackend } from './backend/registry.js';
import { countPrimitives } from './ops/run.js';

/** What `st.profile` measured while its function ran. */
export interface ProfileInfo<T> {
  /** What the function returned (awaited). */
  result: T;
  /** Wall-clock time, milliseconds, including the wait for the GPU to finish the queued work. */
  ms: number;
  /** Primitives run, by name (a fused or composite op counts each primitive it is made of). */
  kernels: Record<string, number>;
  /** Their total. */
  kernelCount: number;
  /**
   * Per backend with work counters, their change over the call: the webgpu backend's `dispatches`
   * (compute passes' dispatches), `submits`, `reads`, `bytesRead`, `uploads`, `bytesUploaded`
   * `pipelines` (kernels compiled) and `deferred` (dispatches recorded while a kernel they or
   * earlier work needed was still compiling).
   */
  backends: Record<string, Record<string, number>>;
  /** Live storage bytes per backend, after minus before. */
  newBytes: Record<string, number>;
}

function snapshot(): Map<string, { counters: Record<string, number>; bytes: number }> {
  const out = new Map<string, { counters: Record<string, number>; bytes: number }>();
  for (const status of listBackends()) {
    const backend = status.available ? findBackend(status.name) : undefined;
    if (backend) out.set(status.name, { counters: backend.counters?.() ?? {}, bytes: backend.memory().bytes });
  }
  return out;
}

/**
 * Runs `f` (synchronous or async) and reports the primitives it ran and, on a GPU backend, the
 * dispatches, submits, reads and uploads it caused: how to see what one training step costs.
 * Queued GPU work is submitted before the counts are taken.
 * @example
 * ```ts
 * const step = await st.profile(() => model.trainOnBatch(x, y));
 * console.log(step.kernelCount, step.backends.webgpu?.dispatches);
 * ```
 */
export async function profile<T>(f: () => T | Promise<T>): Promise<ProfileInfo<T>> {
  const before = snapshot();
  const stop = countPrimitives();
  const start = performance.now();
  let counts: Map<string, number>;
  let result: T;
  try {
    result = await f();
  } finally {
    counts = stop();
  }
  for (const status of listBackends()) (status.available ? findBackend(status.name) : undefined)?.flush?.();
  const ms = performance.now() - start;
  const after = snapshot();
  const backends: Record<string, Record<string, number>> = {};
  const newBytes: Record<string, number> = {};
  for (const [name, a] of after) {
    const b = before.get(name);
    newBytes[name] = a.bytes - (b?.bytes ?? 0);
    const keys = Object.keys(a.counters);
    if (keys.length) backends[name] = Object.fromEntries(keys.map((k) => [k, a.counters[k] - (b?.counters[k] ?? 0)]));
  }
  const kernels = Object.fromEntries([...counts].sort((x, y) => y[1] - x[1]));
  return { result, ms, kernels, kernelCount: [...counts.values()].reduce((s, v) => s + v, 0), backends, newBytes };
}
