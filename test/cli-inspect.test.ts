// `strata inspect` end to end (the built dist/, as users run it): a tiny MNIST run is trained
// with the CLI, then one layer is inspected. The activations picture's gray scale is checked
// against the layer's output computed in this process, the pictures' sizes against their tile
// counts, and unknown layers, unreadable images and runs on CSV rows are clear errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decode, encode } from 'fast-png';
import * as st from '../src/index.js';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('strata inspect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-inspect-'));
  const runDir = join(dir, 'run');
  const trained = run(['train', '--limit', '300', '--epochs', '1', '--verbose', '0', '--seed', '1', '--out', runDir]);

  it("a conv layer on the run's first test image: the image, one activation tile per channel, the filters", async () => {
    assert.equal(trained.status, 0, trained.stderr);
    const r = run(['inspect', runDir, '--layer', 'conv2d']);
    assert.equal(r.status, 0, r.stderr);
    const out = join(runDir, 'inspect', 'conv2d');
    for (const name of ['input.png', 'conv2d-activations.png', 'conv2d-filters.png']) {
      assert.ok(existsSync(join(out, name)), name);
      assert.match(r.stdout, new RegExp(`${name}: `));
    }
    assert.match(r.stdout, /the first test image of mnist \(7\)/); // MNIST's first test digit is a 7
    assert.match(r.stdout, /activations, 32 channels of 26x26/);
    assert.match(r.stdout, /filters, 32 of 3x3x1/);
    // Two rows of 16 tiles: wider than tall.
    const grid = decode(readFileSync(join(out, 'conv2d-activations.png')));
    assert.ok(grid.width > 4 * grid.height, `${grid.width}x${grid.height}`);

    // The gray scale the command reports is the range of the layer's output on that image.
    const model = await st.loadModel(runDir, { compile: false });
    const cut = st.model({ inputs: model.inputs, outputs: model.getLayer('conv2d').output as st.SymbolicTensor });
    const { xTest } = await st.data.mnist();
    const activation = cut.predict(xTest.slice([0], [1])) as st.Tensor;
    const [, low, high] = /from ([0-9.e+-]+) \(black\) to ([0-9.e+-]+) \(white\)/.exec(r.stdout) ?? [];
    assert.ok(st.max(activation).item() > 0, 'the layer responds to the digit');
    assert.ok(Math.abs(Number(high) - st.max(activation).item()) <= 5e-3 * st.max(activation).item(), `${high} vs ${st.max(activation).item()}`);
    assert.ok(Math.abs(Number(low) - st.min(activation).item()) <= 1e-3, `${low} vs ${st.min(activation).item()}`);
  });

  it('--image and --out; a dense layer is one tile of its units, with no filters', () => {
    // A white bar on black, 20x20: resized to the model's 28x28 by the command.
    const pixels = new Uint8Array(20 * 20).map((_, i) => (i % 20 >= 8 && i % 20 < 12 ? 255 : 0));
    const png = join(dir, 'bar.png');
    writeFileSync(png, encode({ width: 20, height: 20, data: pixels, channels: 1, depth: 8 }));
    const out = join(dir, 'dense-out');
    const r = run(['inspect', runDir, '--layer', 'dense', '--image', png, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /dense-activations\.png: activations, 10 units/);
    assert.match(r.stdout, /the image \(bar\.png\)/);
    assert.ok(existsSync(join(out, 'input.png')) && existsSync(join(out, 'dense-activations.png')));
    assert.ok(!existsSync(join(out, 'dense-filters.png')));
  });

  it('an unknown layer lists the layers; an unreadable image and a run on CSV rows are errors', () => {
    const unknown = run(['inspect', runDir, '--layer', 'conv9']);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /strata: inspect: no layer 'conv9' .*; its layers are conv2d, max_pooling2d, conv2d_1, .*dense/);
    const missing = run(['inspect', runDir]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /--layer/);

    const notImage = join(dir, 'notes.png');
    writeFileSync(notImage, 'not a picture');
    const bad = run(['inspect', runDir, '--layer', 'conv2d', '--image', notImage]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /strata: inspect: --image .*notes\.png is not an image strata can read/);

    const csv = join(dir, 'points.csv');
    const rows = Array.from({ length: 40 }, (_, i) => `${(i % 7) / 7},${(i % 5) / 5},${i % 2}`);
    writeFileSync(csv, `a,b,label\n${rows.join('\n')}\n`);
    const csvRun = join(dir, 'csv-run');
    const t = run(['train', '--dataset', `csv:${csv}`, '--epochs', '1', '--verbose', '0', '--out', csvRun]);
    assert.equal(t.status, 0, t.stderr);
    const rowsRun = run(['inspect', csvRun, '--layer', 'dense']);
    assert.notEqual(rowsRun.status, 0);
    assert.match(rowsRun.stderr, /strata: inspect: the model in .* was trained on csv rows/);
  });
});
