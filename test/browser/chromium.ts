// Headless Chromium for the browser tests (Debian's chromium, driven by playwright-core; nothing
// is downloaded). The flags keep it off the network this machine does not have and give pages a
// WebGPU adapter: the machine's GPU where there is one (so no --disable-gpu), else SwiftShader.
import { existsSync } from 'node:fs';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serveStatic, type StaticServer } from './server.js';

export const CHROMIUM = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can (CI installs chromium, so never there). */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium; the browser tests must run in CI`);
  return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set STRATA_CHROMIUM)`;
}

/**
 * `strataKernelsOnly`: the pages run no WebGPU kernels but Strata's, so Dawn's zero fill of
 * workgroup memory can go, as Node's provider turns it off (Note [Workgroup memory left
 * uninitialised] in src/node/webgpu-provider.ts): SwiftShader then compiles a GEMM about five
 * times faster, and the conformance pages ran in 68 s instead of 162. A kernel that read a word
 * it had not written would then fail here as in Node, instead of seeing the fill's zeros. Pages
 * that run tfjs's kernels keep the fill.
 */
export async function launchChromium(options: { strataKernelsOnly?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-unsafe-webgpu',
      ...(options.strataKernelsOnly ? ['--enable-dawn-features=disable_workgroup_init'] : []),
    ],
  });
}

/** Opens `url` and collects the page's console errors and uncaught exceptions. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[]; logs: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const logs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
    else logs.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
  await page.goto(url);
  return { page, errors, logs };
}

/**
 * Inside a describe: starts a static server over `root` and Chromium before the suite's tests and
 * closes both after them. Read `server` and `browser` from the returned object in the tests.
 */
export function chromiumSuite(
  root: string,
  options: { isolated?: boolean; strataKernelsOnly?: boolean } = {},
): { readonly server: StaticServer; readonly browser: Browser } {
  const env = {} as { server: StaticServer; browser: Browser };
  before(async () => {
    env.server = await serveStatic(root, options);
    env.browser = await launchChromium(options);
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}
