// Bundles the browser entry (src/browser.ts) into dist/browser/strata.js: an ES module, every
// dependency included and the WASM kernels inlined, that a page loads with <script type="module">.
// What the library imports only on first use (Graphviz for st.graph.toSvg, about 1.5 MiB) goes to
// chunk files beside it (strata-chunk-*.js), which the browser fetches from the same folder only
// when that code runs, so a page that never draws a graph does not download it. The bundle is
// built for browsers, so a Node import anywhere in what it reaches fails the build (Note
// [Platforms] in src/core/platform.ts).
import { build } from 'esbuild';
import { browserBundleOptions } from './browser-bundle-options.mjs';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/browser`;
// Chunks of an earlier build have other hashes: remove them so the folder holds this build only
// (a fresh clone has no folder yet).
mkdirSync(outdir, { recursive: true });
for (const name of readdirSync(outdir, { withFileTypes: true }).filter((e) => e.isFile() && e.name.startsWith('strata-chunk-'))) {
  rmSync(`${outdir}/${name.name}`);
}

await build({
  entryPoints: { strata: `${root}src/browser.ts` },
  outdir,
  splitting: true,
  chunkNames: 'strata-chunk-[hash]',
  ...browserBundleOptions,
  legalComments: 'eof',
});
const kib = (file) => (statSync(`${outdir}/${file}`).size / 1024).toFixed(0);
const chunks = readdirSync(outdir).filter((f) => f.startsWith('strata-chunk-') && f.endsWith('.js'));
console.log(
  `dist/browser/strata.js: ${kib('strata.js')} KiB, loaded on first use: ${chunks.map((c) => `${c} ${kib(c)} KiB`).join(', ') || 'nothing'}`,
);
