// `st.browser`: what only the browser entry exports (src/browser.ts): tfjs's `tf.io` helpers.
export { listModels, removeModel, type SavedModelInfo } from './indexeddb-store.js';
export { http, type HttpOptions } from './http-store.js';
