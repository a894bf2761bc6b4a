// The browser entry: `import * as st from 'strata'` in a bundler's browser build, and
// dist/browser/strata.js for a <script type="module">. The shared API (src/api.ts) with the
// browser's model stores (indexeddb://, downloads://, http(s)://, picked files). Nothing reached
// from here may import a Node module (test/browser-bundle.test.ts).
import './web/install.js';

export * from './api.js';
// Browser-only helpers (tfjs's tf.io ones): st.browser.listModels(), removeModel(url), http(url, {requestInit}).
export * as browser from './web/index.js';
