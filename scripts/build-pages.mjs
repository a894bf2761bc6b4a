// Builds the pages `strata serve` serves (src/pages -> dist/pages). Each page is a folder with an
// index.html and a main.ts; main.ts is bundled into main.js with everything it imports except
// Strata itself: its imports of src/browser.ts become imports of /strata.js, the one browser
// bundle, so the pages share it (and the browser's cache of it) instead of carrying a copy each.
// HTML and CSS files are copied as they are.
import { build } from 'esbuild';
import { browserBundleOptions } from './browser-bundle-options.mjs';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}src/pages/`;
const target = `${root}dist/pages/`;

/** Import Strata from the page's server instead of bundling it. */
const strataFromServer = {
  name: 'strata-from-server',
  setup(b) {
    b.onResolve({ filter: /(^|\/)browser(\.js|\.ts)?$/ }, (args) =>
      args.resolveDir.startsWith(`${root}src`) && args.kind === 'import-statement' ? { path: '/strata.js', external: true } : undefined,
    );
  },
};

mkdirSync(target, { recursive: true });
cpSync(source, target, { recursive: true, filter: (path) => statSync(path).isDirectory() || /\.(html|css|svg|png)$/.test(path) });
const entryPoints = readdirSync(source)
  .filter((name) => existsSync(`${source}${name}/main.ts`))
  .map((name) => ({ in: `${source}${name}/main.ts`, out: `${name}/main` }));
await build({
  entryPoints,
  outdir: target,
  ...browserBundleOptions,
  plugins: [strataFromServer],
});
console.log(`dist/pages: ${entryPoints.map((e) => e.out.split('/')[0]).join(', ') || 'no pages with a main.ts yet'}`);
