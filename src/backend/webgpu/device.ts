import { ValueError } from '../../core/errors.js';

// Note [Finding a GPU]
// A page reaches the GPU through navigator.gpu. Node has no navigator.gpu: the Node entry installs
// a provider that loads the npm `webgpu` package (Dawn) when the backend is first asked for, so a
// program that never uses the GPU never loads Dawn's 40 MB addon. Opening the device is
// asynchronous everywhere (requestAdapter, requestDevice), which is why the backend is set with
// `await st.setBackend('webgpu')`. Where there is no adapter the reason says what to install.

/** Where the GPU object comes from: navigator.gpu in a page; Node's provider loads `webgpu`. */
export type GpuProvider = () => Promise<GPU>;

let provider: GpuProvider = async () => {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu)
    throw new ValueError(
      'WebGPU is not available here: navigator.gpu is missing (a browser without WebGPU, or a page not served over https or localhost)',
    );
  return gpu;
};
let adapterHint = '';
let onDevice: ((device: GPUDevice) => void) | undefined;

/**
 * Sets how the backend finds WebGPU, what to suggest when no adapter is found, and what to do
 * with each device opened (the Node entry's provider destroys it before the process exits).
 */
export function setGpuProvider(p: GpuProvider, noAdapterHint = '', opened?: (device: GPUDevice) => void): void {
  provider = p;
  adapterHint = noAdapterHint;
  onDevice = opened;
}

/** The opened device and what the backend reports about it. */
export interface OpenedDevice {
  device: GPUDevice;
  /**
   * The GPU object and adapter the device came from. Whoever holds the device holds these too:
   * Dawn's Node binding frees its instance when its GPU object is collected, and a device whose
   * instance is gone corrupts memory at its next submit.
   */
  gpu: GPU;
  adapter: GPUAdapter;
  /** 'vendor architecture (description)', e.g. 'google swiftshader (SwiftShader driver 5.0.0)'. */
  adapterName: string;
}

/**
 * Opens a device with the adapter's largest buffer and binding limits (the defaults cap a storage
 * binding at 128 MiB and a shader at 8 storage buffers, too few for a fused chain).
 */
export async function openDevice(): Promise<OpenedDevice> {
  const gpu = await provider();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new ValueError(`no WebGPU adapter was found${adapterHint ? `: ${adapterHint}` : ''}`);
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxBufferSize: l.maxBufferSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    },
  });
  onDevice?.(device);
  const info = adapter.info;
  const adapterName = [info.vendor, info.architecture].filter(Boolean).join(' ') + (info.description ? ` (${info.description})` : '');
  return { device, gpu, adapter, adapterName: adapterName || 'unnamed adapter' };
}
