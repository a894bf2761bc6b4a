// Strata in a real page: headless Chromium (Debian's, driven by playwright-core) loads
// dist/browser/strata.js from a local server that makes the page cross-origin isolated, and
// runs the library there. Skipped with a message only where chromium is missing, never in CI.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chromiumMissing, chromiumSuite, openPage } from './browser/chromium.js';

const root = new URL('../', import.meta.url).pathname;
/** The bundle as the page imports it; typed as the browser entry it is built from. */
const BUNDLE = '/dist/browser/strata.js';
type Strata = typeof import('../src/browser.js');
const missing = chromiumMissing();

describe('in Chromium', { skip: missing ?? false }, () => {
  const env = chromiumSuite(root, { strataKernelsOnly: true });

  it('dist/browser/strata.js loads in a cross-origin isolated page and trains a model until its loss falls', async () => {
    const { page, errors } = await openPage(env.browser, `${env.server.url}/test/browser/blank.html`);
    const out = await page.evaluate(async (bundle) => {
      const st: Strata = await import(bundle);
      st.setSeed(7);
      const x = st.randomNormal([256, 4]);
      const y = st.cast(st.greater(st.sum(x, 1), 0), 'int32');
      const model = st.sequential({
        layers: [st.layers.dense({ units: 16, activation: 'relu', inputShape: [4] }), st.layers.dense({ units: 2, activation: 'softmax' })],
      });
      model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const h = await model.fit(x, y, { epochs: 30, verbose: 0, batchSize: 32 });
      const loss = h.history.loss as number[];
      return {
        isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated,
        first: loss[0],
        last: loss.at(-1)!,
        accuracy: (h.history.accuracy as number[]).at(-1)!,
      };
    }, BUNDLE);
    assert.equal(out.isolated, true);
    assert.ok(out.last < 0.2 && out.last < out.first / 2, `loss ${out.first} -> ${out.last}`);
    assert.ok(out.accuracy > 0.9, `accuracy ${out.accuracy}`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('fit with verbose 1 writes one line per epoch to the console (a page has no terminal)', async () => {
    const { page, errors, logs } = await openPage(env.browser, `${env.server.url}/test/browser/blank.html`);
    await page.evaluate(async (bundle) => {
      const st: Strata = await import(bundle);
      const model = st.sequential({ layers: [st.layers.dense({ units: 1, inputShape: [2] })] });
      model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      await model.fit(st.ones([8, 2]), st.ones([8, 1]), { epochs: 2, verbose: 1 });
    }, BUNDLE);
    const epochLines = logs.filter((l) => /^Epoch \d\/2 - .* - loss: /.test(l));
    assert.equal(epochLines.length, 2, logs.join('\n'));
    assert.deepEqual(errors, []);
    await page.close();
  });

  for (const backend of ['wasm', 'webgpu'])
    it(`examples/browser/mnist-mlp.html trains the Keras-book MLP on 2,000 real MNIST images to >= 90 % on 1,000 held-out ones (${backend})`, {
      timeout: 300_000,
    }, async () => {
      const { page, errors } = await openPage(env.browser, `${env.server.url}/examples/browser/mnist-mlp.html?backend=${backend}`);
      await page.click('#train');
      await page.waitForFunction(() => (globalThis as { result?: unknown }).result !== undefined, undefined, { timeout: 280_000 });
      const result = (await page.evaluate(() => (globalThis as { result?: unknown }).result)) as {
        accuracy: number;
        seconds: number;
        backend: string;
        error?: string;
      };
      assert.equal(result.error, undefined);
      assert.equal(result.backend, backend);
      assert.ok(result.accuracy >= 0.9, `held-out accuracy ${result.accuracy}`);
      const text = await page.textContent('#log');
      assert.match(text ?? '', /epoch 5: loss/);
      assert.deepEqual(errors, []);
      console.log(`# MNIST MLP in Chromium on ${result.backend}: ${(100 * result.accuracy).toFixed(2)} % in ${result.seconds.toFixed(1)} s`);
      await page.close();
    });
});
