// The projector's one self-contained HTML file: the page's bundled script and CSS (built from
// src/pages/projector/ by scripts/build-pages.mjs into dist/pages/projector/) and the data as a
// JSON script element, all inline, and the thumbnails as one sprite PNG in a data: URL. Opened
// from disk it needs no server and no network.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encode } from 'fast-png';
import * as st from '../index.js';
import type { ProjectorData, ProjectorSprite } from './projector-data.js';

/** Thumbnails wider or taller than this are shrunk (by whole factors, averaging) to keep the file small. */
const MAX_THUMB = 64;

/**
 * The images `x` ([n, h, w, c], values in [0, 1], or in [0, 255] when any exceeds 1) as one PNG
 * sprite, `columns` thumbnails a row, grey for one channel and RGB for three.
 */
export function thumbnailSprite(x: st.Tensor): ProjectorSprite {
  const [n, h, w, c] = x.shape;
  const values = x.dataSync();
  let top = 0;
  for (let i = 0; i < values.length; i++) top = Math.max(top, values[i]);
  const scale = top > 1 ? 1 : 255;
  const factor = Math.ceil(Math.max(h, w) / MAX_THUMB);
  const th = Math.floor(h / factor),
    tw = Math.floor(w / factor);
  const channels = c === 3 ? 3 : 1;
  const columns = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / columns);
  const width = columns * tw,
    height = rows * th;
  const pixels = new Uint8Array(width * height * channels);
  for (let i = 0; i < n; i++) {
    const ox = (i % columns) * tw,
      oy = Math.floor(i / columns) * th;
    for (let y = 0; y < th; y++)
      for (let xx = 0; xx < tw; xx++)
        for (let ch = 0; ch < channels; ch++) {
          // The mean of the factor x factor block this thumbnail pixel covers.
          let sum = 0;
          for (let dy = 0; dy < factor; dy++)
            for (let dx = 0; dx < factor; dx++) sum += values[((i * h + y * factor + dy) * w + xx * factor + dx) * c + ch];
          const v = (sum / (factor * factor)) * scale;
          pixels[((oy + y) * width + ox + xx) * channels + ch] = Math.max(0, Math.min(255, Math.round(v)));
        }
  }
  const png = encode({ width, height, data: pixels, channels, depth: 8 });
  return { url: `data:image/png;base64,${Buffer.from(png).toString('base64')}`, columns, width: tw, height: th };
}

/** dist/pages/projector/<file>, found from dist/cli/ (the installed command) or from src/cli/ (tsx in a clone). */
function pageAsset(file: string): string {
  const candidates = ['../pages/projector/', '../../dist/pages/projector/'].map((dir) => fileURLToPath(new URL(dir + file, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new st.ValueError(
      `project: the projector page is not built (no ${candidates[0]}); run npm run build (scripts/build-pages.mjs bundles src/pages/projector)`,
    );
  return readFileSync(found, 'utf8');
}

/** Text that may sit inside a <script> or <style> element without closing it early. */
const inert = (text: string) => text.replace(/<\/(script|style)/gi, '<\\/$1');

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The whole page for `data`: one HTML document with everything inline. */
export function projectorHtml(data: ProjectorData): string {
  const script = pageAsset('main.js').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  const css = pageAsset('main.css').replace(/\/\*# sourceMappingURL=.*\*\/\s*$/, '');
  // In JSON, < written as \u003c is the same string and can never start a closing tag.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`${data.layer.name} · ${data.run} · Strata projector`)}</title>
<link rel="icon" href="data:,">
<style>${inert(css)}</style>
<script type="application/json" id="projector-data">${json}</script>
<script type="module">${inert(script)}</script>
</html>
`;
}
