// The browser bundle under a strict Content-Security-Policy (no 'unsafe-eval'): st.onnx exports
// and imports a model there. protobufjs's reflection compiled its encoders and decoders with
// `new Function`, which such a page refuses; the messages' code is now generated ahead of time
// (scripts/make-onnx-proto.mjs). Skipped only where chromium is missing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chromiumMissing, chromiumSuite, openPage } from './browser/chromium.js';

const root = new URL('../', import.meta.url).pathname;
type Strata = typeof import('../src/browser.js');
const missing = chromiumMissing();

describe('the browser bundle under a strict Content-Security-Policy', { skip: missing ?? false }, () => {
  const env = chromiumSuite(root);

  it('refuses eval in the page, and st.onnx.toBytes and st.onnx.load still work', async () => {
    const { page, errors } = await openPage(env.browser, `${env.server.url}/test/browser/strict-csp.html`);
    await page.evaluate('globalThis.__name = (f) => f');
    const out = await page.evaluate(async (bundle) => {
      // The policy is in force: an inline script is refused.
      type Doc = {
        createElement(tag: string): { textContent: string };
        addEventListener(type: string, f: () => void, options: object): void;
        body: { append(node: object): void };
      };
      const doc = (globalThis as unknown as { document: Doc }).document;
      const script = doc.createElement('script');
      await new Promise<void>((resolve) => {
        doc.addEventListener('securitypolicyviolation', () => resolve(), { once: true });
        script.textContent = 'window.__ran = true';
        doc.body.append(script);
        setTimeout(resolve, 500);
      });
      const evalRefused = !(globalThis as { __ran?: boolean }).__ran;
      const st: Strata = await import(bundle);
      const model = st.sequential({
        layers: [st.layers.dense({ units: 4, activation: 'relu', inputShape: [3] }), st.layers.dense({ units: 2, activation: 'softmax' })],
      });
      const x = st.tensor([0.1, -0.2, 0.3, 0.5, 0.4, -0.6], [2, 3]);
      const want = Array.from(await (model.predict(x) as { data(): Promise<Float32Array> }).data());
      const bytes = await st.onnx.toBytes(model);
      const imported = await st.onnx.load(bytes);
      const got = Array.from(await (imported.predict(x) as { data(): Promise<Float32Array> }).data());
      return { evalRefused, bytes: bytes.length, want, got };
    }, '/dist/browser/strata.js');
    assert.equal(out.evalRefused, true, 'the page enforces its policy');
    assert.ok(out.bytes > 100);
    assert.equal(out.got.length, 4);
    out.got.forEach((v, i) => assert.ok(Math.abs(v - out.want[i]) < 1e-6, `output ${i}: ${v} vs ${out.want[i]}`));
    // Reported, and nothing else: the inline script the policy refused, and the wasm backend's
    // thread workers (Blob URLs need worker-src blob:), without which it runs on one thread.
    assert.deepEqual(
      errors.filter((e) => !/inline script/i.test(e) && !/Creating a worker from 'blob:/.test(e)),
      [],
    );
  });
});
