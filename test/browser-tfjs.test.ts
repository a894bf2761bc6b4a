// st.tfjs.load in a real page (headless Chromium, the browser bundle): a tfjs model.json by URL,
// its shard fetched beside it, and the same model from in-memory artifacts. The page computes on
// 'wasm', whose kernels are the same code in Node, so Node's wasm predictions must agree to the
// last bit. Skipped only where chromium is missing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { chromiumMissing, chromiumSuite, openPage } from './browser/chromium.js';
import { withBackendAsync } from './helpers.js';
import { toArtifacts, upscalerFiles } from './tfjs-fixtures.js';

const root = new URL('../', import.meta.url).pathname;
const BUNDLE = '/dist/browser/strata.js';
const MODEL = '/node_modules/@upscalerjs/default-model/models/model.json';
type Strata = typeof import('../src/browser.js');
const missing = chromiumMissing();

/** The input both sides predict on: one 6x6 RGB image. */
const X = Array.from({ length: 6 * 6 * 3 }, (_, i) => Math.sin(i * 0.37));

describe('st.tfjs.load in Chromium', { skip: missing ?? false }, () => {
  const env = chromiumSuite(root);

  it('loads a tfjs model.json by URL and from artifacts, predicting as Node does', async () => {
    const { page, errors } = await openPage(env.browser, `${env.server.url}/test/browser/blank.html`);
    await page.evaluate('globalThis.__name = (f) => f');
    const artifacts = toArtifacts(upscalerFiles());
    const out = await page.evaluate(
      async ({ bundle, url, xs, topology, specs, data }) => {
        const st: Strata = await import(bundle);
        const x = st.tensor(xs, [1, 6, 6, 3]);
        const predict = (m: { predict(x: unknown): unknown }) => Array.from((m.predict(x) as { dataSync(): Float32Array }).dataSync());
        const byUrl = await st.tfjs.load(url);
        const fromArtifacts = await st.tfjs.load({ modelTopology: topology, weightSpecs: specs, weightData: new Uint8Array(data).buffer });
        const error = await st.tfjs.load('web_model/model.json').then(
          () => 'loaded',
          (e: Error) => `${e.name}: ${e.message}`,
        );
        return { backend: st.getBackend().name, byUrl: predict(byUrl), fromArtifacts: predict(fromArtifacts), error };
      },
      {
        bundle: BUNDLE,
        url: `${env.server.url}${MODEL}`,
        xs: X,
        topology: artifacts.modelTopology,
        specs: artifacts.weightSpecs,
        data: Array.from(new Uint8Array(artifacts.weightData)),
      },
    );
    assert.deepEqual(errors, []);
    assert.equal(out.backend, 'wasm');
    const expected = await withBackendAsync('wasm', async () => {
      const model = await st.tfjs.load(toArtifacts(upscalerFiles()));
      return Array.from(await (model.predict(st.tensor(X, [1, 6, 6, 3])) as st.Tensor).data());
    });
    assert.deepEqual(out.byUrl, expected);
    assert.deepEqual(out.fromArtifacts, expected);
    // A page has no file system: a path is refused with what to pass instead.
    assert.match(out.error, /ValueError: tfjs\.load: cannot read the path 'web_model\/model\.json' here; pass the model's artifacts/);
  });
});
