export type { Backend, TensorInfo, DataHandle, Kernel, CoreKernels, OptionalKernels, MemoryInfo } from './backend.js';
export type { BackendStatus } from './registry.js';
export { setBackend, getBackend, backends, ready, registerBackend, findBackend, setNumThreads, getNumThreads } from './registry.js';
