// The browser build (Note [Platforms] in src/core/platform.ts): src/browser.ts bundles for
// browsers with no Node import anywhere in what it reaches, and the Node-only modules stay out.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url).pathname;

describe('the browser bundle', () => {
  it('src/browser.ts bundles for the browser without a Node import, and leaves the Node-only modules out', async () => {
    const result = await build({
      entryPoints: [`${root}src/browser.ts`],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      metafile: true,
      logLevel: 'silent',
    });
    assert.deepEqual(result.errors, []);
    const inputs = Object.keys(result.metafile.inputs);
    const nodeOnly = inputs.filter((p) => /src\/(node\/|backend\/native\/|backend\/wasm\/(gc-node|workers-node)|cli\/)/.test(p));
    assert.deepEqual(nodeOnly, []);
    assert.ok(!inputs.some((p) => p.includes('cli-progress')), 'the terminal progress bar is Node-only');
    const text = result.outputFiles[0].text;
    // A property named Buffer (protobufjs's feature-tested `util.Buffer.from`, null in browsers) is not the global.
    assert.ok(!/\bprocess\.(stdout|pid|kill)|(?<!\.)\bBuffer\.(from|concat|alloc)/.test(text), 'no Node globals in the bundle');
  });

  it('npm run build wrote dist/browser/strata.js', { skip: existsSync(`${root}dist/browser/strata.js`) ? false : 'run npm run build first' }, () => {
    assert.ok(statSync(`${root}dist/browser/strata.js`).size > 100_000);
  });
});
