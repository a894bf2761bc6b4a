// The `strata` command end to end (the built dist/, as users run it): train writes its outputs,
// and an interrupted run resumed from its checkpoint ends with the same bytes as an
// uninterrupted one.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { decode, encode } from 'fast-png';
import * as st from '../src/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
/** The bytes of the data file ('weights' or 'optimizer') the model.json in `dir` lists. */
const dataFile = (dir: string, role: string) => readFileSync(join(dir, JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).files[role].path));
const small = ['--limit', '1200', '--epochs', '3', '--seed', '5', '--verbose', '2', '--batch-size', '32'];

describe('strata command', () => {
  it('info lists backends and CPU features', () => {
    const r = run(['info']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backend native/);
    assert.match(r.stdout, /features:/);
  });

  it('train --limit 2000 --epochs 1 writes every output; evaluate, summary and predict read them', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'strata-cli-')), 'run');
    const r = run(['train', '--limit', '2000', '--epochs', '1', '--verbose', '2', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Epoch 1\/1 - .* - loss: [\d.]+ - accuracy: [\d.]+ - val_loss: [\d.]+ - val_accuracy: [\d.]+/);
    assert.match(r.stdout, /Test accuracy \d+\.\d\d %/);
    const saved = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.equal(saved.userDefinedMetadata, undefined, 'a finished run saves no checkpoint');
    for (const f of [
      saved.files.weights.path,
      saved.files.optimizer.path,
      'history.json',
      'history.csv',
      'curves.svg',
      'report.html',
      'classes.json',
    ]) {
      assert.ok(existsSync(join(out, f)), f);
    }
    // Every picture decodes, at a size a page can show.
    for (const f of ['curves.png', 'confusion.png', 'mistakes.png', 'filters.png']) {
      const png = decode(readFileSync(join(out, f)));
      assert.ok(png.width >= 300 && png.width <= 4000 && png.height >= 150 && png.height <= 4000, `${f} is ${png.width}x${png.height}`);
    }
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    assert.deepEqual(history.epoch, [0]);
    for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) assert.equal(history.history[k].length, 1, k);
    const csv = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'epoch,accuracy,loss,val_accuracy,val_loss,seconds');
    assert.equal(csv.length, 2);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const f of ['curves.png', 'confusion.png', 'mistakes.png', 'filters.png']) assert.ok(html.includes(f), f);

    // The saved model loads and predicts like the command measured.
    const { xTest, yTest } = await st.data.mnist();
    const x = st.slice(xTest, [0], [2000]),
      y = st.slice(yTest, [0], [2000]);
    const model = await st.loadModel(out);
    const accuracy = Number(/Test accuracy (\d+\.\d\d) %/.exec(r.stdout)![1]);
    assert.ok(Math.abs((await model.evaluate(x, y, { verbose: 0 })).accuracy * 100 - accuracy) < 0.01);
    const ev = run(['evaluate', out, '--limit', '2000']);
    assert.equal(ev.status, 0, ev.stderr);
    assert.match(ev.stdout, new RegExp(`accuracy: ${(accuracy / 100).toFixed(4).slice(0, 5)}`));
    assert.match(run(['summary', out]).stdout, /Total params: 104,202/);

    // strata predict on the first test digit (a 7) written out as a PNG.
    const digit = join(out, 'digit.png');
    const pixels = Uint8Array.from(st.slice(xTest, [0], [1]).dataSync(), (v) => Math.round(v * 255));
    writeFileSync(digit, encode({ width: 28, height: 28, data: pixels, channels: 1 }));
    const p = run(['predict', out, digit]);
    assert.equal(p.status, 0, p.stderr);
    // Up to three classes, most likely first; classes below 0.05 % are left out.
    const line = /digit\.png: (.*)/.exec(p.stdout);
    assert.ok(line, p.stdout);
    const top = [...line[1].matchAll(/(\d) \(([\d.]+) %\)/g)].map((m) => ({ digit: m[1], percent: Number(m[2]) }));
    assert.ok(top.length >= 1 && top.length <= 3, p.stdout);
    assert.ok(
      top.some((t) => t.digit === '7'),
      `top 3 of a clear 7: ${p.stdout}`,
    );
    top.forEach((t, i) => assert.ok(i === 0 || (t.percent > 0 && t.percent <= top[i - 1].percent), p.stdout));
  });

  it('trains on a CSV file and on a folder of images', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
    // Two separable classes of points.
    const rows = ['a,b,label'];
    for (let i = 0; i < 200; i++) {
      const label = i % 2;
      rows.push(`${(label ? 1 : -1) + ((i * 37) % 17) / 40},${((i * 11) % 13) / 13},${label}`);
    }
    writeFileSync(join(dir, 'points.csv'), rows.join('\n') + '\n');
    const c = run([
      'train',
      '--dataset',
      `csv:${join(dir, 'points.csv')}`,
      '--epochs',
      '20',
      '--batch-size',
      '16',
      '--verbose',
      '0',
      '--out',
      join(dir, 'csv-run'),
      '--optimizer',
      'adam',
      '--learning-rate',
      '0.01',
    ]);
    assert.equal(c.status, 0, c.stderr);
    assert.ok(Number(/Test accuracy ([\d.]+) %/.exec(c.stdout)![1]) >= 95, c.stdout);
    // Bright and dark 8x8 PNGs, one folder per class.
    for (const [name, level] of [
      ['bright', 220],
      ['dark', 30],
    ] as const) {
      mkdirSync(join(dir, 'images', name), { recursive: true });
      for (let i = 0; i < 12; i++) {
        const data = Uint8Array.from({ length: 64 }, (_, k) => Math.max(0, Math.min(255, level + ((k * 7 + i * 13) % 41) - 20)));
        writeFileSync(join(dir, 'images', name, `${i}.png`), encode({ width: 8, height: 8, data, channels: 1 }));
      }
    }
    const d = run([
      'train',
      '--dataset',
      `dir:${join(dir, 'images')}`,
      '--image-size',
      '8,8',
      '--model',
      'mlp',
      '--epochs',
      '10',
      '--batch-size',
      '4',
      '--verbose',
      '0',
      '--out',
      join(dir, 'dir-run'),
    ]);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stdout, /Test accuracy 100\.00 %/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'dir-run', 'classes.json'), 'utf8')).classNames, ['bright', 'dark']);
  });

  it('Ctrl-C writes a checkpoint; --resume reaches the same weights as an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
    const full = join(dir, 'full'),
      cut = join(dir, 'cut');
    assert.equal(run(['train', ...small, '--out', full]).status, 0);
    const child = spawn(process.execPath, [CLI, 'train', ...small, '--out', cut], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (chunk) => {
        output += chunk;
        // Interrupt in the middle of epoch 2.
        if (output.includes('Epoch 1/3') && !child.killed) setTimeout(() => child.kill('SIGINT'), 150);
      });
      child.on('exit', resolve);
    });
    assert.equal(code, 130, output);
    assert.match(output, /Checkpoint written/);
    const resumed = run(['train', '--resume', cut, '--verbose', '2']);
    assert.equal(resumed.status, 0, resumed.stderr);
    for (const role of ['weights', 'optimizer']) assert.deepEqual(dataFile(cut, role), dataFile(full, role), role);
    // The interrupted epoch is recorded whole: its loss and accuracy are the uninterrupted run's.
    const history = (d: string) => JSON.parse(readFileSync(join(d, 'history.json'), 'utf8'));
    assert.deepEqual(history(cut).epoch, history(full).epoch);
    assert.deepEqual(history(cut).history, history(full).history);
    assert.deepEqual(history(cut).test, history(full).test);
    // The finished run's folder is a model, no longer a checkpoint.
    const again = run(['train', '--resume', cut]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^strata: --resume: .* holds a finished model, not a checkpoint/);
  });

  it('--resume refuses a damaged checkpoint with a strata: message naming the file and what to do, and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
    const cut = join(dir, 'cut');
    const child = spawn(process.execPath, [CLI, 'train', ...small, '--out', cut], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes('Epoch 1/3') && !child.killed) setTimeout(() => child.kill('SIGINT'), 150);
      });
      child.on('exit', () => resolve());
    });
    assert.match(output, /Checkpoint written/);
    const manifestPath = join(cut, 'model.json');
    const manifest = readFileSync(manifestPath);
    const weights = join(cut, JSON.parse(manifest.toString('utf8')).files.weights.path);
    const weightBytes = readFileSync(weights);
    const files = readdirSync(cut).sort();
    const cases: [string, () => void, RegExp][] = [
      ['model.json cut short', () => writeFileSync(manifestPath, manifest.subarray(0, manifest.length >> 1)), /model\.json: not valid JSON/],
      ['weights cut short', () => writeFileSync(weights, weightBytes.subarray(0, 100)), /weights\..*\.safetensors: holds 100 bytes/],
      [
        'weights changed',
        () => writeFileSync(weights, Buffer.from(weightBytes.map((b, i) => (i === weightBytes.length - 1 ? b ^ 1 : b)))),
        /SHA-256 checksum differs/,
      ],
      [
        'checkpoint fields',
        () => writeFileSync(manifestPath, manifest.toString('utf8').replace('"batchSize": 32', '"batchSize": -1')),
        /checkpoint's options\.batchSize is missing or malformed/,
      ],
    ];
    // What the interrupted epoch had summed, when Ctrl-C landed inside an epoch.
    if (manifest.includes('"lossSums": [')) {
      cases.push([
        'epoch sums',
        () => writeFileSync(manifestPath, manifest.toString('utf8').replace('"lossSums": [', '"lossSums": ["x", ')),
        /checkpoint's position\.epochSoFar is missing or malformed/,
      ]);
    }
    for (const [what, damage, pattern] of cases) {
      damage();
      const r = run(['train', '--resume', cut]);
      assert.equal(r.status, 1, what);
      assert.match(r.stderr, /^strata: --resume: /, what);
      assert.match(r.stderr, pattern, what);
      assert.match(r.stderr, /without --resume/, what);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
      assert.deepEqual(readdirSync(cut).sort(), files, `${what}: the folder is left as it was`);
      writeFileSync(manifestPath, manifest);
      writeFileSync(weights, weightBytes);
    }
  });

  it('--model takes st.applications networks by name, and their size limits are strata: messages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
    const r = run(['train', '--model', 'lenet5', '--limit', '300', '--epochs', '1', '--verbose', '0', '--out', join(dir, 'lenet')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Test accuracy \d+\.\d\d %/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'lenet', 'model.json'), 'utf8')).model.config.name, 'lenet5');
    const small = run(['train', '--model', 'resNet18', '--limit', '50', '--out', join(dir, 'resnet')]);
    assert.equal(small.status, 1);
    assert.match(small.stderr, /^strata: resNet18: input size must be at least 32x32; received inputShape \(28, 28, 1\)/);
    assert.ok(!existsSync(join(dir, 'resnet')), 'no run folder for a model that cannot be built');
  });

  it('bad options name what was expected', () => {
    const r = run(['train', '--epochs', '0']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--epochs must be an integer >= 1; received 0/);
    assert.match(
      run(['train', '--dataset', 'cifar', '--limit', '10']).stderr,
      /--dataset: expected mnist, fashion-mnist, csv:FILE or dir:FOLDER; received "cifar"/,
    );
  });
});
