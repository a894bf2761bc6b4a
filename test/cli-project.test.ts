// `strata project` end to end (the built dist/, as users run it): a tiny MNIST run trained by the
// command, projected with PCA in 2-D and UMAP in 3-D, and each page opened from disk in headless
// Chromium: every point drawn, hovering one shows its image, label and prediction, the legend
// hides a class, dragging rotates the 3-D view, and nothing is fetched. Bad arguments fail with
// messages that say what was expected. Screenshots go to test-screenshots/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import * as st from '../src/index.js';
import { chromiumMissing, launchChromium, openPage } from './browser/chromium.js';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const SHOTS = new URL('../test-screenshots/', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const missing = chromiumMissing();

interface Hovered {
  index: number;
  label: number;
  predicted: number;
  text: string;
  ink: number;
  visible: boolean;
}
interface State {
  points: number;
  drawn: number;
  spriteReady: boolean;
  hovered: Hovered | null;
}
const state = (page: Page) => page.evaluate(() => (globalThis as unknown as { projector: { state(): unknown } }).projector.state()) as Promise<State>;
const pointOnPage = (page: Page, i: number) =>
  page.evaluate((i) => (globalThis as unknown as { projector: { pointOnPage(i: number): { x: number; y: number } } }).projector.pointOnPage(i), i);

/** Moves the mouse onto point i and returns the hovered point's state (a point drawn on top of i may win). */
async function hover(page: Page, i: number): Promise<Hovered> {
  const { x, y } = await pointOnPage(page, i);
  await page.mouse.move(x, y);
  await page.waitForFunction(() => {
    const s = (globalThis as unknown as { projector: { state(): State } }).projector.state();
    return s.hovered !== null && s.spriteReady && s.hovered.ink > 0;
  });
  return (await state(page)).hovered!;
}

describe('strata project', () => {
  let dir: string;
  let runDir: string;
  let labels: number[];
  /** Ink of the first 300 test images as the tooltip draws them: 3 channels, each pixel 3 x 3 (28 px shown at 84). */
  let inks: number[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-project-'));
    runDir = join(dir, 'run');
    const r = run(['train', '--limit', '400', '--epochs', '1', '--batch-size', '32', '--verbose', '0', '--out', runDir]);
    assert.equal(r.status, 0, r.stderr);
    const { xTest, yTest } = await st.data.mnist();
    labels = Array.from(st.slice(yTest, [0], [300]).dataSync(), Number);
    const pixels = st.slice(xTest, [0], [300]).dataSync();
    inks = Array.from(
      { length: 300 },
      (_, i) => 27 * Array.from(pixels.subarray(i * 784, (i + 1) * 784)).reduce((a, v) => a + Math.round(v * 255), 0),
    );
    mkdirSync(SHOTS, { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names what it expected for an unknown layer, a bad --method or --dims, and a run that is not an image classifier', () => {
    const layer = run(['project', runDir, '--layer', 'dense_9']);
    assert.equal(layer.status, 1);
    assert.match(
      layer.stderr,
      /project: convnet has no layer "dense_9"; --layer takes one of: conv2d, max_pooling2d, conv2d_1, max_pooling2d_1, conv2d_2, flatten, dense/,
    );
    const method = run(['project', runDir, '--layer', 'flatten', '--method', 'tsne']);
    assert.notEqual(method.status, 0);
    assert.match(method.stderr, /'--method <name>' argument 'tsne' is invalid\. Allowed choices are pca, umap/);
    const dims = run(['project', runDir, '--layer', 'flatten', '--dims', '4']);
    assert.notEqual(dims.status, 0);
    assert.match(dims.stderr, /'--dims <n>' argument '4' is invalid\. Allowed choices are 2, 3/);
    assert.match(run(['project', runDir]).stderr, /required option '--layer <name>' not specified/);

    const rows = ['a,b,label', ...Array.from({ length: 40 }, (_, i) => `${(i % 2) * 2 - 1 + (i % 7) / 10},${(i % 5) / 5},${i % 2}`)];
    writeFileSync(join(dir, 'points.csv'), `${rows.join('\n')}\n`);
    const csvRun = join(dir, 'csv-run');
    const t = run(['train', '--dataset', `csv:${join(dir, 'points.csv')}`, '--epochs', '1', '--verbose', '0', '--out', csvRun]);
    assert.equal(t.status, 0, t.stderr);
    const csv = run(['project', csvRun, '--layer', 'dense']);
    assert.equal(csv.status, 1);
    assert.match(csv.stderr, /project: the run in .*csv-run was trained on csv rows \(csv:.*points\.csv\); the projector shows image classifiers/);
  });

  describe('pages in Chromium', { skip: missing ?? false }, () => {
    let browser: Browser;
    before(async () => {
      browser = await launchChromium();
    });
    after(async () => browser?.close());

    it('PCA in 2-D: every point drawn, hovering shows the image, label and prediction, the legend hides a class', async () => {
      const out = join(dir, 'pca.html');
      const r = run(['project', runDir, '--layer', 'flatten', '--limit', '300', '--out', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /300 test images at layer flatten \(1152 features\) -> PCA 2-D \(PC1 \d+\.\d %, PC2 \d+\.\d %\)/);
      const html = readFileSync(out, 'utf8');
      // Self-contained: no file or address is loaded, only data: URLs.
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+rel="stylesheet"|https?:\/\//);

      const requests: string[] = [];
      const { page, errors } = await openPage(browser, pathToFileURL(out).href);
      page.on('request', (q) => {
        if (!q.url().startsWith('data:')) requests.push(q.url());
      });
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.waitForFunction(() => (globalThis as unknown as { projector?: { state(): State } }).projector?.state().spriteReady);
      let s = await state(page);
      assert.equal(s.points, 300);
      assert.equal(s.drawn, 300);
      const text = await page.textContent('main');
      assert.match(text!, /Layer flatten \(Flatten, output \[1152\]\) of convnet/);
      assert.match(text!, /PCA to 2-D: explained variance PC1 \d+\.\d %, PC2 \d+\.\d % \(\d+\.\d % together\)/);
      assert.match(text!, /300 images: the first 300 of the MNIST test set\. The model classifies \d+\.\d % of them correctly/);

      const h = await hover(page, 17);
      assert.ok(h.visible, 'the tooltip shows');
      // The tooltip shows the hovered image itself: its pixels, enlarged, sum to the image's.
      assert.ok(Math.abs(h.ink - inks[h.index]) <= 0.01 * inks[h.index], `ink ${h.ink}, image ${inks[h.index]}`);
      assert.equal(h.label, labels[h.index]);
      assert.match(h.text, new RegExp(`label ${labels[h.index]}predicted ${h.predicted}test image #${h.index}`));
      await page.screenshot({ path: `${SHOTS}projector-pca-2d.png` });

      // Hiding the class of the hovered point takes its points away.
      await page.mouse.move(5, 5);
      await page.click(`#legend li[data-class="${h.label}"]`);
      await page.waitForFunction(
        (n) => (globalThis as unknown as { projector: { state(): State } }).projector.state().drawn === n,
        300 - labels.filter((l) => l === h.label).length,
      );
      s = await state(page);
      assert.equal(s.drawn, 300 - labels.filter((l) => l === h.label).length);
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, []);
      await page.close();
    });

    it('UMAP in 3-D: every point drawn, dragging rotates the view, hovering shows the image', async () => {
      const out = join(dir, 'umap.html');
      const r = run(['project', runDir, '--layer', 'conv2d_2', '--method', 'umap', '--dims', '3', '--limit', '300', '--out', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /300 test images at layer conv2d_2 \(1152 features\) -> UMAP 3-D/);
      const { page, errors } = await openPage(browser, pathToFileURL(out).href);
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.waitForFunction(() => (globalThis as unknown as { projector?: { state(): State } }).projector?.state().spriteReady);
      assert.equal((await state(page)).drawn, 300);
      assert.match((await page.textContent('main'))!, /UMAP \(umap-js\) with 15 neighbours, min distance 0\.1, seed 0, to 3-D/);

      const before = await pointOnPage(page, 0);
      const box = (await page.locator('#plot').boundingBox())!;
      await page.mouse.move(box.x + 200, box.y + 200);
      await page.mouse.down();
      await page.mouse.move(box.x + 320, box.y + 260, { steps: 6 });
      await page.mouse.up();
      await page.waitForTimeout(100);
      const moved = await pointOnPage(page, 0);
      assert.ok(Math.hypot(moved.x - before.x, moved.y - before.y) > 1, `point 0 moved from ${JSON.stringify(before)} to ${JSON.stringify(moved)}`);
      assert.equal((await state(page)).drawn, 300);

      const h = await hover(page, 42);
      assert.ok(h.visible);
      assert.ok(Math.abs(h.ink - inks[h.index]) <= 0.01 * inks[h.index], `ink ${h.ink}, image ${inks[h.index]}`);
      assert.equal(h.label, labels[h.index]);
      await page.screenshot({ path: `${SHOTS}projector-umap-3d.png` });
      assert.deepEqual(errors, []);
      await page.close();
    });
  });
});
