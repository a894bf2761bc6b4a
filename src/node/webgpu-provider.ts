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
  return dawn.create([]);
}

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
