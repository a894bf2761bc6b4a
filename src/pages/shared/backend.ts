// Which backend a page trains on. `?backend=wasm|webgpu|reference` in the address decides; without
// it a page picks webgpu when the browser has a hardware GPU adapter and wasm otherwise. A software
// adapter (SwiftShader, which headless Chromium gives when there is no GPU) emulates the GPU on the
// CPU and is many times slower there than the wasm backend on the same cores, so "auto" skips it.
import * as st from '../../browser.js';

export type BackendChoice = 'auto' | 'wasm' | 'webgpu' | 'reference';

export function requestedBackend(): BackendChoice {
  const asked = new URLSearchParams(location.search).get('backend');
  return asked === 'wasm' || asked === 'webgpu' || asked === 'reference' ? asked : 'auto';
}

/** True when the webgpu backend opened on a software adapter (detail names SwiftShader or a fallback). */
function softwareAdapter(detail: string | undefined): boolean {
  return /swiftshader|llvmpipe|lavapipe|fallback/i.test(detail ?? '');
}

/**
 * Opens the requested backend (or the best one for "auto") and makes it active. Returns a line for
 * the page to show: the backend's name and detail, and why another one was not used.
 */
export async function chooseBackend(choice: BackendChoice = requestedBackend()): Promise<string> {
  if (choice === 'wasm' || choice === 'reference') {
    await st.setBackend(choice);
    return describeActive();
  }
  try {
    await st.setBackend('webgpu');
  } catch (e) {
    if (choice === 'webgpu') throw e;
    return `${describeActive()}; no WebGPU here (${e instanceof Error ? e.message : String(e)})`;
  }
  const gpu = st.backends().find((b) => b.name === 'webgpu');
  if (choice === 'auto' && softwareAdapter(gpu?.detail)) {
    await st.setBackend('wasm');
    return `${describeActive()}; WebGPU is a software adapter here (${gpu?.detail}), slower than wasm: add ?backend=webgpu to use it anyway`;
  }
  return describeActive();
}

export function describeActive(): string {
  const active = st.backends().find((b) => b.active);
  if (!active) return 'no backend';
  return `${active.name}${active.detail ? ` (${active.detail})` : ''}`;
}
