// The browser's model stores in a real page (headless Chromium, as test/browser.test.ts runs it):
// indexeddb:// round trips and its atomic saves, a model saved in Node loaded in the page over
// http and by a URL relative to the page, a model downloaded from the page (downloads://) loaded
// in Node, and picked files (<input type=file multiple>). Predictions are compared number for
// number: the page computes with the 'wasm' backend, whose kernels are the same code in Node, so
// Node's 'wasm' backend must agree to the last bit (the reference one too, where both sides use
// it, and the native one closely). Skipped only where chromium is missing.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Download, Page } from 'playwright-core';
import * as st from '../src/index.js';
import { chromiumMissing, launchChromium, openPage } from './browser/chromium.js';
import { serveStatic, type StaticServer } from './browser/server.js';
import { withBackendAsync } from './helpers.js';

const root = new URL('../', import.meta.url).pathname;
/** The bundle as the page imports it; typed as the browser entry it is built from. */
const BUNDLE = '/dist/browser/strata.js';
type Strata = typeof import('../src/browser.js');
const PAGE = '/test/browser/stores.html';
const missing = chromiumMissing();

/** The inputs both sides predict on. */
const X = Array.from({ length: 5 * 4 }, (_, i) => Math.cos(i * 0.7) * 2);

/**
 * Node's predictions of the model in `location` on X: on the wasm backend, the page's default,
 * whose kernels are the same code in Node and in the page, so the numbers must be identical; on
 * the reference backend (identical in the page too); and on the default (native) one, close.
 */
async function nodePredictions(location: string): Promise<{ wasm: number[]; reference: number[]; native: number[]; iterations: number | undefined }> {
  const predict = async () => {
    const model = await st.loadModel(location);
    return { values: Array.from((model.predict(st.tensor(X, [5, 4])) as st.Tensor).dataSync()), iterations: model.optimizer?.iterations };
  };
  const wasm = await withBackendAsync('wasm', predict);
  const reference = await withBackendAsync('reference', predict);
  return { wasm: wasm.values, reference: reference.values, native: (await predict()).values, iterations: wasm.iterations };
}

const assertClose = (actual: number[], expected: number[]) =>
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-5 * (1 + Math.abs(expected[i])), `${i}: ${v} vs ${expected[i]}`));

/** Waits for `n` more downloads, saves each under its suggested name in `dir`, and returns the names. */
async function saveDownloads(downloads: Download[], n: number, dir: string): Promise<string[]> {
  for (let waited = 0; downloads.length < n; waited += 50) {
    if (waited > 10_000) throw new Error(`${downloads.length} of ${n} downloads arrived: ${downloads.map((d) => d.suggestedFilename()).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await mkdir(dir, { recursive: true });
  const taken = downloads.splice(0, n);
  await Promise.all(taken.map((d) => d.saveAs(join(dir, d.suggestedFilename()))));
  return taken.map((d) => d.suggestedFilename()).sort();
}

describe('model stores in Chromium', { skip: missing ?? false }, () => {
  let server: StaticServer;
  let browser: Browser;
  let scratch = '';
  let downloadsDir = '';
  before(async () => {
    // Under the served root, so the page can fetch what Node saves there (scratch/ is not committed).
    await mkdir(join(root, 'scratch'), { recursive: true });
    scratch = await mkdtemp(join(root, 'scratch', 'browser-stores-'));
    downloadsDir = await mkdtemp(join(tmpdir(), 'strata-downloads-'));
    server = await serveStatic(root);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await rm(scratch, { recursive: true, force: true });
    await rm(downloadsDir, { recursive: true, force: true });
  });

  const open = async (): Promise<{ page: Page; errors: string[] }> => {
    const opened = await openPage(browser, `${server.url}${PAGE}`);
    // tsx compiles this file with esbuild's keepNames, which wraps the functions declared inside
    // page.evaluate's callbacks in a `__name` helper the page does not have: give it one.
    await opened.page.evaluate('globalThis.__name = (f) => f');
    return opened;
  };

  it('indexeddb://: saves and loads back identically; listModels and removeModel; a failed or tampered save leaves a clear state', async () => {
    const { page, errors } = await open();
    const out = await page.evaluate(
      async ({ bundle, xs }) => {
        const st: Strata = await import(bundle);
        const x = st.tensor(xs, [5, 4]);
        const build = async (seed: number) => {
          st.setSeed(seed);
          const m = st.sequential({
            layers: [st.layers.dense({ units: 8, activation: 'relu', inputShape: [4] }), st.layers.dense({ units: 3, activation: 'softmax' })],
          });
          m.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
          await m.fit(x, st.tensor([0, 1, 2, 1, 0], [5], 'int32'), { epochs: 3, verbose: 0 });
          return m;
        };
        const predict = (m: { predict(x: unknown): unknown }) => Array.from((m.predict(x) as { dataSync(): Float32Array }).dataSync());
        const error = (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`;
        const a = await build(1);
        await a.save('indexeddb://net');
        const loaded = await st.loadModel('indexeddb://net');
        const listed = await st.browser.listModels();

        // A save that fails inside its transaction (here: the second of its two writes throws)
        // must leave the model saved before it whole.
        const proto = (globalThis as unknown as { IDBObjectStore: { prototype: { put(v: unknown, k?: unknown): unknown; name: string } } })
          .IDBObjectStore.prototype;
        const put = proto.put;
        proto.put = function (this: { name: string }, value: unknown, key?: unknown) {
          if (this.name === 'info') throw new DOMException('disk gone', 'UnknownError');
          return put.call(this, value, key);
        };
        const b = await build(2);
        const failed = await b.save('indexeddb://net').then(() => 'saved', error);
        proto.put = put;
        const afterFailure = predict(await st.loadModel('indexeddb://net'));

        // Bytes changed after the save (stored here through a put that flips one) fail their checksum.
        proto.put = function (this: { name: string }, value: unknown, key?: unknown) {
          if (this.name === 'files') new Uint8Array((value as { weights: ArrayBuffer }).weights)[20] ^= 1;
          return put.call(this, value, key);
        };
        await b.save('indexeddb://tampered');
        proto.put = put;
        const tampered = await st.loadModel('indexeddb://tampered').then(() => 'loaded', error);

        const removed = await st.browser.removeModel('indexeddb://tampered');
        const afterRemove = Object.keys(await st.browser.listModels());
        const gone = await st.loadModel('indexeddb://tampered').then(() => 'loaded', error);
        const removeAgain = await st.browser.removeModel('indexeddb://tampered').then(() => 'removed', error);
        // A page has no folders: a plain path is a URL to load from, never a place to save.
        const plainSave = await a.save('runs/net').then(() => 'saved', error);
        return {
          original: predict(a),
          loaded: predict(loaded),
          iterations: [a.optimizer?.iterations, loaded.optimizer?.iterations],
          listed: Object.entries(listed).map(([url, info]) => [url, info.dateSaved instanceof Date, info.weightsBytes > 0, info.optimizerBytes > 0]),
          failed,
          afterFailure,
          tampered,
          removedBytes: removed.weightsBytes > 0,
          afterRemove,
          gone,
          removeAgain,
          plainSave,
        };
      },
      { bundle: BUNDLE, xs: X },
    );
    assert.deepEqual(out.loaded, out.original);
    assert.deepEqual(out.iterations, [3, 3]);
    assert.deepEqual(out.listed, [['indexeddb://net', true, true, true]]);
    assert.equal(
      out.failed,
      'StrataError: save to indexeddb://net: IndexedDB did not save the model; what was saved at indexeddb://net before, if anything, is unchanged (UnknownError: disk gone)',
    );
    assert.deepEqual(out.afterFailure, out.original);
    assert.match(
      out.tampered,
      /^FormatError: indexeddb:\/\/tampered\/weights\.safetensors: its SHA-256 checksum differs from the one indexeddb:\/\/tampered\/model\.json recorded/,
    );
    assert.equal(out.removedBytes, true);
    assert.deepEqual(out.afterRemove, ['indexeddb://net']);
    assert.equal(
      out.gone,
      "FormatError: indexeddb://tampered: no model is saved under this name in this site's IndexedDB; saved here: indexeddb://net",
    );
    assert.equal(out.removeAgain, 'ValueError: removeModel: no model is saved at indexeddb://tampered');
    assert.match(
      out.plainSave,
      /^ValueError: .*save: cannot save at "runs\/net": a path without a scheme is not a place models are saved to here; expected indexeddb:\/\/, downloads:\/\/, http:\/\/, https:\/\/$/,
    );
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('indexeddb://: a tab closed in the middle of a save leaves the old model or the new one whole', async (t) => {
    // One context for both tabs: they share the site's IndexedDB.
    const context = await browser.newContext();
    const errors: string[] = [];
    const tab = async () => {
      const page = await context.newPage();
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
      await page.goto(`${server.url}${PAGE}`);
      await page.evaluate('globalThis.__name = (f) => f');
      return page;
    };
    try {
      const first = await tab();
      const expected = await first.evaluate(
        async ({ bundle, xs }) => {
          const st: Strata = await import(bundle);
          const x = st.tensor(xs, [5, 4]);
          const build = (seed: number) => {
            st.setSeed(seed);
            // Large enough (2 MB of weights) that the save is still running when the tab closes.
            return st.sequential({
              layers: [st.layers.dense({ units: 512, inputShape: [4] }), st.layers.dense({ units: 1024 }), st.layers.dense({ units: 3 })],
            });
          };
          const predict = (m: { predict(x: unknown): unknown }) => Array.from((m.predict(x) as { dataSync(): Float32Array }).dataSync());
          const a = build(1);
          await a.save('indexeddb://net');
          const b = build(2);
          const values = { old: predict(a), new: predict(b) };
          void b.save('indexeddb://net'); // not awaited: the tab closes under it
          return values;
        },
        { bundle: BUNDLE, xs: X },
      );
      await first.close();
      const second = await tab();
      const loaded = await second.evaluate(
        async ({ bundle, xs }) => {
          const st: Strata = await import(bundle);
          const m = await st.loadModel('indexeddb://net');
          return Array.from((m.predict(st.tensor(xs, [5, 4])) as { dataSync(): Float32Array }).dataSync());
        },
        { bundle: BUNDLE, xs: X },
      );
      assert.ok(
        JSON.stringify(loaded) === JSON.stringify(expected.old) || JSON.stringify(loaded) === JSON.stringify(expected.new),
        'the model loaded is neither the old one nor the new one',
      );
      assert.notDeepEqual(expected.old, expected.new);
      t.diagnostic(
        JSON.stringify(loaded) === JSON.stringify(expected.old)
          ? 'the closed tab cut the save off: the old model'
          : 'the save had committed: the new model',
      );
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('a model saved in Node loads in the page over http, by absolute and relative URLs, and predicts as in Node', async () => {
    st.setSeed(11);
    const model = st.sequential({ layers: [st.layers.dense({ units: 6, activation: 'tanh', inputShape: [4] }), st.layers.dense({ units: 2 })] });
    model.compile({ optimizer: st.optimizers.rmsprop({ learningRate: 0.01 }), loss: 'meanSquaredError' });
    await model.fit(st.tensor(X, [5, 4]), st.ones([5, 2]), { epochs: 2, verbose: 0 });
    const folder = join(scratch, 'node-model');
    await model.save(folder);
    const node = await nodePredictions(folder);
    const served = `/${folder.slice(root.length)}`; // the folder's path on the server

    const { page, errors } = await open();
    const out = await page.evaluate(
      async ({ bundle, xs, locations }) => {
        const st: Strata = await import(bundle);
        const x = st.tensor(xs, [5, 4]);
        const results = [];
        for (const location of locations) {
          const m = await st.loadModel(location);
          const values = Array.from((m.predict(x) as { dataSync(): Float32Array }).dataSync());
          st.setBackend('reference');
          const reference = Array.from(((await st.loadModel(location)).predict(st.tensor(xs, [5, 4])) as { dataSync(): Float32Array }).dataSync());
          st.setBackend('wasm');
          results.push({ location, values, reference, iterations: m.optimizer?.iterations });
        }
        const missing = await st.loadModel('no-such-model').then(
          () => 'loaded',
          (e: Error) => `${e.name}: ${e.message}`,
        );
        return { results, missing, backend: st.getBackend().name };
      },
      { bundle: BUNDLE, xs: X, locations: [`${server.url}${served}/model.json`, served, `../..${served}/model.json`, `${served}/`] },
    );
    assert.equal(out.backend, 'wasm');
    for (const r of out.results) {
      assert.deepEqual(r.values, node.wasm, r.location);
      assert.deepEqual(r.reference, node.reference, r.location);
      assertClose(r.values, node.native);
      assert.equal(r.iterations, node.iterations);
    }
    assert.equal(out.missing, `FormatError: ${server.url}/test/browser/no-such-model/model.json: the server answered 404 Not Found`);
    // The browser logs the failed request itself; nothing else may appear.
    assert.deepEqual(
      errors.filter((e) => !/Failed to load resource: .* 404/.test(e)),
      [],
    );
    await page.close();
  });

  it('downloads:// files load in Node from a folder, and in the page as picked files', async () => {
    const { page, errors } = await open();
    const downloads: Download[] = [];
    page.on('download', (d) => downloads.push(d));
    const predictions = await page.evaluate(
      async ({ bundle, xs }) => {
        const st: Strata = await import(bundle);
        st.setSeed(5);
        const m = st.sequential({ layers: [st.layers.dense({ units: 7, activation: 'relu', inputShape: [4] }), st.layers.dense({ units: 3 })] });
        m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
        await m.fit(st.tensor(xs, [5, 4]), st.ones([5, 3]), { epochs: 2, verbose: 0 });
        (globalThis as unknown as { saved: unknown }).saved = m;
        await m.save('downloads://');
        return Array.from((m.predict(st.tensor(xs, [5, 4])) as { dataSync(): Float32Array }).dataSync());
      },
      { bundle: BUNDLE, xs: X },
    );
    const plain = join(downloadsDir, 'plain');
    assert.deepEqual(await saveDownloads(downloads, 3, plain), ['model.json', 'model.optimizer.safetensors', 'model.weights.safetensors']);
    const node = await nodePredictions(plain);
    assert.deepEqual(node.wasm, predictions);
    assertClose(node.reference, predictions);
    assertClose(node.native, predictions);
    assert.equal(node.iterations, 2);

    await page.evaluate(() => (globalThis as unknown as { saved: { save(to: string): Promise<void> } }).saved.save('downloads://my-net'));
    const named = join(downloadsDir, 'named');
    const names = await saveDownloads(downloads, 3, named);
    assert.deepEqual(names, ['my-net.json', 'my-net.optimizer.safetensors', 'my-net.weights.safetensors']);
    // In Node the model file of a folder is model.json.
    await copyFile(join(named, 'my-net.json'), join(named, 'model.json'));
    assert.deepEqual((await nodePredictions(named)).wasm, predictions);

    // Picked in a page: the files as downloaded, matched by the names my-net.json records.
    const picker = await open();
    await picker.page.setInputFiles(
      '#files',
      names.map((n) => join(named, n)),
    );
    const picked = await picker.page.evaluate(
      async ({ bundle, xs }) => {
        const st: Strata = await import(bundle);
        const input = (globalThis as unknown as { document: { getElementById(id: string): { files: ArrayLike<File> } } }).document.getElementById(
          'files',
        );
        const m = await st.loadModel(input.files);
        const noWeights = Array.from(input.files).filter((f) => !f.name.includes('weights'));
        const missing = await st.loadModel(noWeights).then(
          () => 'loaded',
          (e: Error) => `${e.name}: ${e.message}`,
        );
        return {
          values: Array.from((m.predict(st.tensor(xs, [5, 4])) as { dataSync(): Float32Array }).dataSync()),
          iterations: m.optimizer?.iterations,
          missing,
        };
      },
      { bundle: BUNDLE, xs: X },
    );
    assert.deepEqual(picked.values, predictions);
    assert.equal(picked.iterations, 2);
    assert.equal(
      picked.missing,
      "FormatError: my-net.json: lists weights file 'my-net.weights.safetensors', which is not among the files given (my-net.json, my-net.optimizer.safetensors)",
    );
    assert.deepEqual([...errors, ...picker.errors], []);
    await page.close();
    await picker.page.close();
  });
});
