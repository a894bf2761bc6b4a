// The Node entry: `import * as st from 'strata'` in Node. The shared API (src/api.ts), with
// Node's services installed (the native backend, models saved to folders) and `st.data` with the
// file readers and built-in datasets. Pages get src/browser.ts instead (package.json's "browser"
// condition, and dist/browser/strata.js).
import './node/install.js';

export * from './api.js';
// Takes precedence over api.ts's portable `data`: the same namespace plus files and datasets.
export { data } from './node/data/node.js';
