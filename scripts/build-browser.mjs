// Bundles the browser entry (src/browser.ts) into dist/browser/strata.js: one self-contained ES
// module, every dependency included and the WASM kernels inlined, that a page loads with
// <script type="module">. The bundle is built for browsers, so a Node import anywhere in what it
// reaches fails the build (Note [Platforms] in src/core/platform.ts).
import { build } from 'esbuild';
import { browserBundleOptions } from './browser-bundle-options.mjs';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}dist/browser/strata.js`;

await build({
  entryPoints: [`${root}src/browser.ts`],
  outfile,
  ...browserBundleOptions,
  legalComments: 'eof',
});
const kib = (statSync(outfile).size / 1024).toFixed(0);
console.log(`dist/browser/strata.js: ${kib} KiB`);
