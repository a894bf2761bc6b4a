// Shared by the webgpu tests: whether the backend opened (and why not), and a way to run the
// same computation on webgpu and on a reference backend and compare every output, reading the
// GPU's values asynchronously (the backend has no synchronous reads).
import * as st from '../src/index.js';
import { assertClose } from './helpers.js';

await st.ready();
const status = st.backends().find((b) => b.name === 'webgpu');

/**
 * A skip reason for node:test when the webgpu backend is unavailable, else false. CI installs
 * Dawn's Vulkan loader and SwiftShader, so there an unavailable backend fails instead.
 */
export const webgpuSkip: string | false = status?.available ? false : `webgpu unavailable: ${status?.reason ?? 'not registered'}`;
if (webgpuSkip && process.env.CI)
  throw new Error(`${webgpuSkip} (CI must run the webgpu tests: .ci/run installs libvulkan1 and chromium's SwiftShader)`);

/** Runs `f` with `name` as the backend and reads every tensor it returns (asynchronously). */
export async function valuesOn(name: string, f: () => st.Tensor | st.Tensor[]): Promise<{ shape: number[]; values: number[] }[]> {
  const previous = st.getBackend().name;
  await st.setBackend(name);
  try {
    const out = f();
    const list = Array.isArray(out) ? out : [out];
    for (const t of list) if (t.backend.name !== name) throw new Error(`expected a tensor on ${name}, got one on ${t.backend.name}`);
    return await Promise.all(list.map(async (t) => ({ shape: [...t.shape], values: Array.from(await t.data(), Number) })));
  } finally {
    await st.setBackend(previous);
  }
}

/**
 * Computes `f` on webgpu and on `reference` (default 'reference', float32) and compares each
 * output's shape and values.
 */
export async function assertSameOnWebGpu(
  f: () => st.Tensor | st.Tensor[],
  rtol = 1e-5,
  atol = 1e-5,
  what = '',
  reference = 'reference',
): Promise<void> {
  const [gpu, ref] = [await valuesOn('webgpu', f), await valuesOn(reference, f)];
  if (gpu.length !== ref.length) throw new Error(`${what}: ${gpu.length} outputs on webgpu, ${ref.length} on ${reference}`);
  gpu.forEach((g, i) => {
    if (g.shape.join() !== ref[i].shape.join())
      throw new Error(`${what} output ${i}: shape [${g.shape}] on webgpu, [${ref[i].shape}] on ${reference}`);
    assertClose(g.values, ref[i].values, rtol, atol, `${what} output ${i}`);
  });
}
