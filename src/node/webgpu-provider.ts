// Node only: how the webgpu backend finds a GPU in Node (Note [Finding a GPU] in
// backend/webgpu/device.ts): the npm `webgpu` package (Dawn), an optional peer dependency loaded
// on first use.
import { ValueError } from '../core/errors.js';

const NO_ADAPTER_HINT =
  "Dawn found no Vulkan device. Install a GPU driver and Debian's libvulkan1; without a GPU, SwiftShader (a software GPU shipped with Debian's chromium) works: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json";

/** Loads Dawn and makes its GPU object (the provider setGpuProvider takes). */
export async function nodeGpu(): Promise<GPU> {
  let dawn: { create(flags: string[]): GPU };
  try {
    dawn = (await import('webgpu')) as unknown as { create(flags: string[]): GPU };
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new ValueError(`the webgpu backend in Node needs the npm package 'webgpu' (Dawn; npm install webgpu): ${why}`);
  }
  return dawn.create([`enable-dawn-features=${DAWN_FEATURES.join(',')}`]);
}

// Note [Workgroup memory left uninitialised]
// WebGPU zero-fills a shader's workgroup arrays before it runs, which Dawn does by adding a loop
// and a barrier to every kernel that has one. Strata's kernels never read a workgroup word they
// have not written: each thread stores its own slots (GEMM tiles, including the zeros past the
// edges; the reductions' partial results; the sort and scatter tiles) before the barrier that
// precedes any read. So the fill only costs compile time, and on SwiftShader that is most of it:
// a tiled GEMM pipeline took about 200 ms to build with the fill and 40 ms without, and the
// PyTorch fixtures on webgpu ran in 16 s instead of 34. A kernel added later must keep the rule
// (write before the barrier, read after); a page's browser keeps its own zero fill.
const DAWN_FEATURES = ['disable_workgroup_init'];

/**
 * Destroys `device` when the process is about to exit. Dawn's software Vulkan (SwiftShader) keeps
 * threads of its own; a process that exits while they still work ends with "terminate called
 * after throwing an instance of 'std::system_error'". Destroying the device first waits for them.
 */
export function destroyAtExit(device: GPUDevice): void {
  const destroy = () => device.destroy();
  process.once('beforeExit', destroy);
  process.once('exit', destroy);
}

export { NO_ADAPTER_HINT };
