// WebGPU's numeric flags (fixed by the specification), so the backend does not depend on the
// GPUBufferUsage and GPUMapMode globals, which Node does not have until a WebGPU package installs them.

export const BUFFER_USAGE = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  STORAGE: 0x0080,
} as const;

export const MAP_READ = 0x0001;

export const SHADER_STAGE_COMPUTE = 0x4;
