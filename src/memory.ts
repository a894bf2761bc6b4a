import { backends as listBackends, findBackend } from './backend/registry.js';

export interface BackendMemory {
  /**
   * Live tensor storages. Tensors that share storage (a reshape, a variable made from a tensor)
   * count once; counting every Tensor object would need a finalizer per tensor, which costs
   * more than a small op.
   */
  tensors: number;
  bytes: number;
}

/** Live tensors and storage bytes per loaded backend (reference storage goes when the GC runs). */
export function memory(): Record<string, BackendMemory> {
  const out: Record<string, BackendMemory> = {};
  for (const status of listBackends()) {
    const backend = status.available ? findBackend(status.name) : undefined;
    if (!backend) continue;
    const { buffers, bytes } = backend.memory();
    out[status.name] = { tensors: buffers, bytes };
  }
  return out;
}
