// The browser entry: `import * as st from 'strata'` in a bundler's browser build, and
// dist/browser/strata.js for a <script type="module">. The shared API (src/api.ts) with the
// browser's model stores (indexeddb://, downloads://, http(s)://, picked files). Nothing reached
// from here may import a Node module (test/browser-bundle.test.ts).
import { initWasm, registerWasmBackend, setWasmWorkerFactory } from './backend/wasm/index.js';
import { browserWorkerFactory } from './backend/wasm/workers-browser.js';
import { registerWebGpuBackend } from './backend/webgpu/index.js';
import './web/install.js';

export * from './api.js';
// Browser-only helpers (tfjs's tf.io ones): st.browser.listModels(), removeModel(url), http(url, {requestInit}).
export * as browser from './web/index.js';

// The wasm backend is the page's default (priority 5, above the reference backend). A page's
// main thread may not compile a module this size synchronously, so the module is compiled here,
// before the import resolves (top-level await); a browser without WebAssembly SIMD leaves it
// unavailable, and st.backends() says why.
setWasmWorkerFactory(browserWorkerFactory);
registerWasmBackend();
// The GPU through navigator.gpu, opened by `await st.setBackend('webgpu')`.
registerWebGpuBackend();
try {
  await initWasm();
} catch {
  // The factory reports the failure when the backend is first used.
}
