// The wasm backend in a real browser (headless Chromium through playwright-core, where both are
// installed): bundled by esbuild for the browser, served once plainly (no SharedArrayBuffer: the
// single-threaded module) and once cross-origin isolated (the threaded module with Blob-URL
// workers). Skipped where Chromium, playwright-core or esbuild is missing.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

async function tryImport<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch {
    return undefined;
  }
}

type Esbuild = { build(options: Record<string, unknown>): Promise<unknown> };
type Playwright = {
  chromium: {
    launch(o: Record<string, unknown>): Promise<{
      newPage(): Promise<{ goto(url: string): Promise<unknown>; evaluate<T>(f: string): Promise<T> }>;
      close(): Promise<void>;
    }>;
  };
};

const esbuild = await tryImport<Esbuild>('esbuild');
const playwright = await tryImport<Playwright>('playwright-core');
const skip = !CHROMIUM ? 'no Chromium' : !esbuild ? 'no esbuild' : !playwright ? 'no playwright-core' : false;

describe('wasm backend in a browser', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-wasm-browser-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const bundle = async () => {
    // registry.ts still imports node:os (for the default thread count) until the platform entries
    // land; the page gets a stand-in.
    writeFileSync(join(dir, 'os.js'), 'export const availableParallelism = () => navigator.hardwareConcurrency || 1;\n');
    await esbuild!.build({
      entryPoints: [new URL('./wasm-browser/entry.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outfile: join(dir, 'bundle.js'),
      alias: { 'node:os': join(dir, 'os.js') },
      logLevel: 'error',
    });
    return readFileSync(join(dir, 'bundle.js'));
  };

  for (const isolated of [false, true]) {
    it(isolated ? 'cross-origin isolated: threads over shared memory' : 'not isolated: one thread, no SharedArrayBuffer', async () => {
      const code = await bundle();
      const headers: Record<string, string> = isolated
        ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
        : {};
      const server = createServer((req, res) => {
        const js = req.url?.endsWith('bundle.js');
        res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html', ...headers });
        res.end(js ? code : '<!doctype html><title>strata wasm</title>');
      }).listen(0);
      const browser = await playwright!.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage();
        await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
        const result = await page.evaluate<{ detail: string; isolated: boolean; expError: number; sumError: number }>(
          `import('./bundle.js').then((m) => m.run())`,
        );
        assert.equal(result.isolated, isolated);
        assert.equal(result.detail, isolated ? 'simd, 2 threads' : 'simd, 1 thread (no SharedArrayBuffer)');
        assert.ok(result.expError < 4e-7, `exp relative error ${result.expError}`);
        assert.ok(result.sumError < 1e-3, `column sums off by ${result.sumError}`);
      } finally {
        await browser.close();
        server.close();
      }
    });
  }
});
