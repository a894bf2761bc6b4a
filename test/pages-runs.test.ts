// The runs dashboard (/runs/) in headless Chromium: runs appear without a reload, their curves
// grow as their live logs are written, runs overlay, and a real `strata train --dashboard` shows
// its run from start to end. The page exposes its state as window.dashboard.state() for these
// checks; screenshots go to test-screenshots/.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type RunningServer, startServer } from '../src/node/serve/server.js';
import { chromiumMissing, launchChromium, openPage } from './browser/chromium.js';

const missing = chromiumMissing();
const root = new URL('../', import.meta.url).pathname;
const SHOTS = join(root, 'test-screenshots');

interface RunState {
  name: string;
  status: string;
  selected: boolean;
  records: number;
  points: Record<string, number>;
  test?: Record<string, number>;
}
interface State {
  runs: RunState[];
  focused?: string;
  xMode: string;
  charts: Record<string, Record<string, number>>;
}

const state = (page: Page) => page.evaluate(() => (globalThis as unknown as { dashboard: { state(): unknown } }).dashboard.state()) as Promise<State>;

/** Waits until `check` holds for the page's state (checked in the page at every frame). */
async function until(page: Page, check: string, arg: unknown, timeout = 10_000): Promise<void> {
  await page
    .waitForFunction(
      ({ check, arg }) =>
        new Function('s', 'arg', `return ${check}`)((globalThis as unknown as { dashboard: { state(): unknown } }).dashboard.state(), arg),
      { check, arg },
      { timeout },
    )
    .catch(async (e) => {
      console.log(`# the page's state at the timeout: ${JSON.stringify(await state(page))}`);
      throw e;
    });
}

const line = (record: object) => `${JSON.stringify(record)}\n`;
const config = { model: 'convnet', dataset: 'mnist', optimizer: 'adam', batchSize: 32, epochs: 2, stepsPerEpoch: 5, backend: 'native', seed: 0 };
const batch = (epoch: number, b: number, loss: number) => ({
  type: 'batch',
  time: Date.now(),
  epoch,
  batch: b,
  step: epoch * 5 + b + 1,
  logs: { loss, accuracy: 1 - loss / 3 },
});

describe('the runs dashboard in Chromium', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let browser: Browser;
  let runs: string;
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    runs = mkdtempSync(join(tmpdir(), 'strata-pages-runs-'));
    server = await startServer({ port: 0, runs });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(runs, { recursive: true, force: true });
  });

  it('plots a run point by point as its live log grows, shows a new run without a reload, and overlays both', async () => {
    const alpha = join(runs, 'alpha', 'live.jsonl');
    mkdirSync(join(runs, 'alpha'));
    writeFileSync(alpha, line({ type: 'start', time: Date.now(), config }));
    const { page, errors } = await openPage(browser, `${server.url}/runs/`);
    await page.setViewportSize({ width: 1400, height: 1000 });
    await until(page, `s.runs.length === 1 && s.runs[0].selected && s.runs[0].status === 'training'`, null);

    // Each appended line reaches the chart; the delays are measured, from the write to the point in the chart.
    const delays: number[] = [];
    for (let b = 0; b < 5; b++) {
      const t = performance.now();
      appendFileSync(alpha, line(batch(0, b, 2.3 - b * 0.3)));
      await until(page, `s.charts.loss?.alpha === arg`, b + 1);
      delays.push(performance.now() - t);
    }
    appendFileSync(
      alpha,
      line({ type: 'epoch', time: Date.now(), epoch: 0, step: 5, logs: { loss: 1.1, accuracy: 0.63, val_loss: 1.2, val_accuracy: 0.6 } }),
    );
    await until(page, `s.charts.val_loss?.alpha === 1 && s.charts.val_accuracy?.alpha === 1 && s.charts.loss.alpha === 5`, null);
    console.log(`# a live log line reaches the chart in ${delays.map((d) => d.toFixed(0)).join(', ')} ms`);

    // A second run starts: it is listed and, as it trains, plotted over the first.
    mkdirSync(join(runs, 'beta'));
    writeFileSync(
      join(runs, 'beta', 'live.jsonl'),
      line({ type: 'start', time: Date.now(), config: { ...config, optimizer: 'sgd' } }) +
        [0, 1, 2, 3, 4].map((b) => line(batch(0, b, 2.3 - b * 0.1))).join(''),
    );
    await until(page, `s.runs.map((r) => r.name).join() === 'beta,alpha' && s.charts.loss?.beta === 5 && s.charts.loss.alpha === 5`, null);
    for (let b = 0; b < 5; b++) appendFileSync(alpha, line(batch(1, b, 1 - b * 0.1)));
    await until(page, `s.charts.loss.alpha === 10 && s.charts.loss.beta === 5`, null);

    // Unticking a run takes its line away; ticking it brings it back.
    await page.click('li[data-name="beta"] input[type=checkbox]');
    await until(page, `s.charts.loss.beta === undefined && !s.runs[0].selected`, null);
    await page.click('li[data-name="beta"] input[type=checkbox]');
    await until(page, `s.charts.loss.beta === 5`, null);
    await page.click('input[name=x][value=step]');
    await until(page, `s.xMode === 'step'`, null);

    appendFileSync(alpha, line({ type: 'end', time: Date.now(), status: 'finished' }));
    await until(page, `s.runs.find((r) => r.name === 'alpha').status === 'finished'`, null, 5000);
    await page.click('li[data-name="alpha"] button.name');
    await until(page, `s.focused === 'alpha'`, null);
    assert.match((await page.textContent('#details')) ?? '', /alpha[\s\S]*finished[\s\S]*Optimizer\s*adam/);
    await page.screenshot({ path: join(SHOTS, 'runs-live.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('strata train --dashboard serves its run live, and after training until Ctrl-C', { timeout: 60_000 }, async () => {
    const folder = mkdtempSync(join(tmpdir(), 'strata-train-dashboard-'));
    const args = ['train', '--dashboard', '--port', '0', '--limit', '500', '--epochs', '1', '--verbose', '0', '--out', join(folder, 'quick')];
    const child: ChildProcess = spawn(process.execPath, [join(root, 'dist/cli/main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    after(() => {
      child.kill('SIGKILL'); // a failed assertion must not leave it running
      rmSync(folder, { recursive: true, force: true });
    });
    let out = '';
    const said = (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const look = () => {
          const m = out.match(pattern);
          if (m) resolve(m);
          return m;
        };
        if (look()) return;
        child.stdout!.on('data', look);
        child.on('exit', (code) => reject(new Error(`strata train exited (${code}): ${out}`)));
      });
    child.stdout!.on('data', (d: Buffer) => void (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
    const started = performance.now();
    const [, url] = await said(/Dashboard: (http:\/\/127\.0\.0\.1:\d+\/runs\/\?run=quick)/);
    const { page, errors } = await openPage(browser, url);
    await page.setViewportSize({ width: 1400, height: 1100 });
    // While it trains: listed as training, with points already on the loss chart.
    await until(page, `s.runs[0]?.name === 'quick' && s.runs[0].status === 'training' && s.charts.loss?.quick > 0`, null, 20_000);
    const live = performance.now() - started;
    await said(/Ctrl-C stops it/);
    await until(page, `s.runs[0].status === 'finished' && s.runs[0].test?.accuracy > 0 && s.charts.val_loss?.quick === 1`, null, 10_000);
    await page.waitForSelector('#details img[alt^="Confusion"]');
    // Every picture loaded (an expression: this file is typed without the DOM).
    await page.waitForFunction(`[...document.querySelectorAll('#details img')].every((i) => i.complete && i.naturalWidth > 0)`);
    const s = await state(page);
    console.log(
      `# strata train --dashboard: curve in the page ${(live / 1000).toFixed(1)} s after the start, ` +
        `${s.runs[0].points.loss} loss points, finished after ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    assert.equal(s.focused, 'quick');
    await page.screenshot({ path: join(SHOTS, 'runs-train.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });
});
