import { backends as listBackends, findBackend } from './backend/registry.js';
import { liveTensorCounts } from './tensor/tensor.js';

export interface BackendMemory {
  tensors: number;
  buffers: number;
  bytes: number;
}

/** Live tensors and storage bytes per loaded backend (counts drop when the GC frees tensors). */
export function memory(): Record<string, BackendMemory> {
  const out: Record<string, BackendMemory> = {};
  const counts = liveTensorCounts();
  for (const status of listBackends()) {
    const backend = status.available ? findBackend(status.name) : undefined;
    if (!backend) continue;
    out[status.name] = { tensors: counts.get(status.name) ?? 0, ...backend.memory() };
  }
  return out;
}
