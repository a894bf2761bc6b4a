// The entry of the page bundle test/browser-conformance.test.ts builds: the in-page runner (the
// node:test stand-in the bundled test files register with) and the library as the page has it
// (src/browser.ts, the same module the bundled tests get for '../src/index.js'). The test files
// themselves are imported after this module by the generated entry, so they register here.
export { runRegistered, type CaseResult } from './node-test.js';
export * as st from '../../../src/browser.js';
