// The part of the WebAssembly JavaScript API the backend uses, typed here: the project compiles
// with lib ES2022 and @types/node, neither of which declares the WebAssembly namespace (lib DOM
// would, and would bring the whole browser). The object itself is the runtime's global.

export interface WasmModule {
  readonly __brand?: 'WebAssembly.Module';
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
export interface WasmGlobal {
  value: number;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

/** A function the module exports (numbers in, a number or nothing out). */
export type ExportFn = (...args: number[]) => unknown;

export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
