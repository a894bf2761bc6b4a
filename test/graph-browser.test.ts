// st.graph.toSvg in a real page: the browser bundle carries Graphviz's WebAssembly build
// (@viz-js/viz, inlined by esbuild and evaluated on the first call), so a page draws the same
// graph as Node, with no server-side help.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chromiumMissing, chromiumSuite, openPage } from './browser/chromium.js';
import * as st from '../src/index.js';

const root = new URL('../', import.meta.url).pathname;
const BUNDLE = '/dist/browser/strata.js';
type Strata = typeof import('../src/browser.js');
const missing = chromiumMissing();

describe('graph.toSvg in Chromium', { skip: missing ?? false }, () => {
  const env = chromiumSuite(root);

  it("lays out the course's x*y + 5*y + 5 with its backward pass as Node does", async () => {
    const { page, errors } = await openPage(env.browser, `${env.server.url}/test/browser/blank.html`);
    const inPage = await page.evaluate(async (bundle) => {
      const s: Strata = await import(bundle);
      const x = s.variable(s.tensor(2));
      const y = s.variable(s.tensor(3));
      const z = s.add(s.add(s.mul(x, y), s.mul(5, y)), 5);
      const svg = await s.graph.toSvg(z, { names: { x, y, z }, gradients: true });
      // Drawn in the page: the document parses as SVG and has a size.
      // (The page's DOMParser, typed here by hand: the tests compile without the DOM library.)
      type Parsed = { documentElement: { nodeName: string; getAttribute(name: string): string | null } };
      const { DOMParser } = globalThis as unknown as { DOMParser: new () => { parseFromString(text: string, type: string): Parsed } };
      const element = new DOMParser().parseFromString(svg, 'image/svg+xml').documentElement;
      return { svg, root: element.nodeName, width: element.getAttribute('width') };
    }, BUNDLE);
    assert.equal(inPage.root, 'svg');
    assert.match(inPage.width ?? '', /^\d+pt$/);
    const x = st.variable(st.tensor(2));
    const y = st.variable(st.tensor(3));
    const z = st.add(st.add(st.mul(x, y), st.mul(5, y)), 5);
    // The same Graphviz build and the same DOT: the same picture, byte for byte.
    assert.equal(inPage.svg, await st.graph.toSvg(z, { names: { x, y, z }, gradients: true }));
    assert.deepEqual(errors, []);
    await page.close();
  });
});
