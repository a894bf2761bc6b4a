import { STRATA_THREADS_WASM, STRATA_WASM } from './binary.gen.js';
import { WA, type WasmModule } from './wasm-api.js';

// Compiling the wasm modules. Node and browser Workers may compile synchronously; a browser main
// thread may not compile more than 4 KB synchronously, so a page calls `await initWasm()` first
// and the backend's factory then finds the modules compiled.

export type WasmFlavor = 'single' | 'threads';

const compiled: Partial<Record<WasmFlavor, WasmModule>> = {};

function bytesOf(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

const binaryOf = (flavor: WasmFlavor) => bytesOf(flavor === 'threads' ? STRATA_THREADS_WASM : STRATA_WASM);

/**
 * Whether this environment can run the threaded module: SharedArrayBuffer and Atomics exist (in
 * a page only when it is cross-origin isolated) and a shared WebAssembly.Memory can be made.
 */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  try {
    return new WA.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** The compiled module: the one initWasm() compiled, else compiled now (synchronously). */
export function wasmModule(flavor: WasmFlavor): WasmModule {
  return (compiled[flavor] ??= new WA.Module(binaryOf(flavor)));
}

/**
 * Compiles the wasm backend's module off the main thread's synchronous path (browsers refuse
 * synchronous compilation of large modules on the main thread). Call before the first use of
 * the wasm backend in a page; in Node it is optional.
 */
export async function initWasm(): Promise<void> {
  const flavor: WasmFlavor = threadsSupported() ? 'threads' : 'single';
  compiled[flavor] ??= await WA.compile(binaryOf(flavor));
}
