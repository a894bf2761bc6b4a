// What a new user met with `strata` runs (issue 15): evaluate and predict on the run's own data,
// nothing written when an option is wrong, drawings of the opposite polarity, what CSV runs
// print, and the small things (plural, padding in predict, the pictures' keys, README and
// package.json agreeing with what exists). The CLI runs from dist/, as users run it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode, encode } from 'fast-png';
import { webgpuSkip } from './webgpu-helpers.js';
import * as st from '../src/index.js';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'strata-cli-runs-'));
after(() => rmSync(root, { recursive: true, force: true }));

const run = (args: string[], cwd = root) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd });
const ok = (args: string[], cwd = root) => {
  const r = run(args, cwd);
  assert.equal(r.status, 0, `strata ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r;
};
/** The test accuracy in percent that `strata train` printed. */
const trainAccuracy = (stdout: string) => Number(/Test accuracy ([\d.]+) %/.exec(stdout)![1]);
/** The accuracy `strata evaluate` printed, in percent. */
const evalAccuracy = (stdout: string) => Number(/accuracy: ([\d.]+)/.exec(stdout)![1]) * 100;
const classesJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'classes.json'), 'utf8'));

/** 200 rows of three features, two classes told apart by the first; the last fifth is the test split. */
function writePoints(file: string): void {
  const rows = ['a,b,c,label'];
  for (let i = 0; i < 200; i++) {
    const label = i % 2;
    rows.push(`${(label ? 1 : -1) + ((i * 37) % 17) / 40},${((i * 11) % 13) / 13},${((i * 5) % 7) / 7},${label}`);
  }
  writeFileSync(file, rows.join('\n') + '\n');
}

/** A test digit as an 8-bit grayscale PNG, as it is (white on black) or inverted (black on white, as people draw). */
async function digitPng(file: string, index: number, inverted: boolean): Promise<number> {
  const { xTest, yTest } = await st.data.mnist();
  const values = st.slice(xTest, [index], [1]).dataSync();
  const pixels = Uint8Array.from(values, (v) => Math.round((inverted ? 1 - v : v) * 255));
  writeFileSync(file, encode({ width: 28, height: 28, data: pixels, channels: 1 }));
  return st.slice(yTest, [index], [1]).dataSync()[0];
}

/** predict's answer for one file: the classes shown with their percentages, and the lines after it. */
function predictions(stdout: string, file: string): { classes: string[]; percents: number[]; rest: string } {
  const at = stdout.indexOf(`${file}: `);
  assert.ok(at >= 0, stdout);
  const line = stdout.slice(at + file.length + 2).split('\n')[0];
  const entries = [...line.matchAll(/(\S+) \(([\d.]+) %\)/g)];
  return { classes: entries.map((m) => m[1]), percents: entries.map((m) => Number(m[2])), rest: stdout.slice(at) };
}

describe('strata runs remember their data', () => {
  const mnist = join(root, 'mnist'),
    fashion = join(root, 'fashion'),
    csv = join(root, 'csv');
  let mnistOut = '',
    fashionOut = '',
    csvOut = '';
  before(() => {
    mnistOut = ok(['train', '--limit', '6000', '--epochs', '2', '--verbose', '0', '--out', mnist]).stdout;
    fashionOut = ok(['train', '--dataset', 'fashion-mnist', '--limit', '1000', '--epochs', '1', '--verbose', '2', '--out', fashion]).stdout;
    // A relative path, trained from one folder and evaluated from another.
    mkdirSync(join(root, 'data'));
    writePoints(join(root, 'data', 'points.csv'));
    csvOut = ok(
      [
        'train',
        '--dataset',
        'csv:points.csv',
        '--epochs',
        '20',
        '--batch-size',
        '16',
        '--optimizer',
        'adam',
        '--learning-rate',
        '0.01',
        '--verbose',
        '2',
        '--out',
        csv,
      ],
      join(root, 'data'),
    ).stdout;
  });

  it("evaluate tests a Fashion-MNIST run on Fashion-MNIST, with the run's limit, unless --dataset says otherwise", () => {
    const ev = ok(['evaluate', fashion]);
    assert.match(ev.stdout, /1000 fashion-mnist test images/);
    assert.ok(Math.abs(evalAccuracy(ev.stdout) - trainAccuracy(fashionOut)) < 0.006, `${ev.stdout} against ${fashionOut}`);
    const other = ok(['evaluate', fashion, '--dataset', 'mnist', '--limit', '500']);
    assert.match(other.stdout, /500 mnist test images/);
  });

  it('evaluate tests a CSV run on the rows it held out, from any folder', () => {
    const ev = ok(['evaluate', csv], ROOT);
    assert.match(ev.stdout, /40 csv test rows/);
    assert.ok(Math.abs(evalAccuracy(ev.stdout) - trainAccuracy(csvOut)) < 0.006, `${ev.stdout} against ${csvOut}`);
    const record = classesJson(csv);
    assert.equal(record.dataset, `csv:${join(root, 'data', 'points.csv')}`);
    assert.equal(record.labelColumn, 'label');
    assert.deepEqual([record.split.trainSamples, record.split.testSamples], [160, 40]);
    assert.deepEqual(classesJson(fashion).imageSize, [28, 28]);
    assert.equal(classesJson(fashion).limit, 1000);
    // A CSV model fed images is told so in words, not with a shape error.
    const wrong = run(['evaluate', csv, '--dataset', 'mnist', '--limit', '10']);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /^strata: .*takes inputs of shape \(None, 3\).*mnist.*\(None, 28, 28, 1\)/);
    const predict = run(['predict', csv, join(root, 'data', 'points.csv')]);
    assert.equal(predict.status, 1);
    assert.match(predict.stderr, /^strata: predict: .* was trained on csv rows/);
  });

  it('a CSV run speaks of rows, shows its test split and prints times with three digits', () => {
    assert.match(csvOut, /Training on 144 csv rows, validating on 16 more \(10 %\), testing on 40 \(the last 20 % of the rows of points\.csv\)/);
    assert.doesNotMatch(csvOut, /csv images/);
    assert.match(csvOut, /Test accuracy [\d.]+ % \(loss [\d.]+\) on 40 test rows/);
    const time = /training took (\S+) s/.exec(csvOut)![1];
    assert.ok(Number(time) >= 100 || time.replace('.', '').replace(/^0+/, '').length >= 3, `training took ${time} s`);
  });

  it('"1 epoch", not "1 epochs"', () => {
    assert.match(fashionOut, /, 1 epoch, batch 64/);
  });

  it('predict inverts a black-on-white digit, says so, and predicts it like the white-on-black one', async () => {
    const plain = join(root, 'seven.png'),
      drawn = join(root, 'seven-drawn.png');
    await digitPng(plain, 0, false);
    await digitPng(drawn, 0, true);
    const background = classesJson(mnist).background;
    assert.ok(background.border < 0.05 && background.spread < 0.1, JSON.stringify(background));
    const p = ok(['predict', mnist, plain, drawn]);
    const a = predictions(p.stdout, plain),
      b = predictions(p.stdout, drawn);
    assert.equal(a.classes[0], '7', p.stdout);
    assert.deepEqual(b.classes, a.classes, p.stdout);
    assert.doesNotMatch(a.rest.split('\n')[1] ?? '', /inverted/);
    assert.match(b.rest, /inverted .*dark on a light background.*light on dark/);
    // --invert never predicts the image as it is and still names the mismatch.
    const kept = ok(['predict', mnist, drawn, '--invert', 'never']);
    assert.match(kept.stdout, /dark on a light background/);
    assert.doesNotMatch(kept.stdout, /inverted/);
    assert.match(mnistOut, /Test accuracy/);
  });

  it('predict shows only classes with a visible share', async () => {
    // Logits 30, 0, 29, -10: 73.1 %, 26.9 % and two classes far below 0.05 %.
    const dir = join(root, 'confident');
    const model = st.sequential({ layers: [st.layers.flatten({ inputShape: [2, 2, 1] }), st.layers.dense({ units: 4, activation: 'softmax' })] });
    model.layers[1].setWeights([st.zeros([4, 4]), st.tensor([30, 0, 29, -10])]);
    await model.save(dir);
    const image = join(root, 'dot.png');
    writeFileSync(image, encode({ width: 2, height: 2, data: new Uint8Array(4), channels: 1 }));
    const p = ok(['predict', dir, image]);
    const shown = predictions(p.stdout, image);
    assert.deepEqual(shown.classes, ['0', '2'], p.stdout);
    assert.deepEqual(shown.percents, [73.1, 26.9]);
  });

  it('mistakes.png carries its key (true → predicted) above the tiles', () => {
    const png = decode(readFileSync(join(mnist, 'mistakes.png')));
    const channels = png.channels;
    const at = (x: number, y: number) => png.data[(y * png.width + x) * channels];
    // The first row of the tile borders (gray 170 across a tile's width) ends the text above the tiles.
    let firstTile = 0;
    while (firstTile < png.height && [...Array(60).keys()].filter((k) => at(20 + k, firstTile) === 170).length < 50) firstTile++;
    assert.ok(firstTile < png.height / 2, `tiles start at ${firstTile}`);
    // Bands of rows holding dark (text) pixels above the tiles: the title and the key.
    let bands = 0,
      inText = false;
    for (let y = 0; y < firstTile; y++) {
      let dark = false;
      for (let x = 0; x < png.width && !dark; x++) dark = at(x, y) < 100;
      if (dark && !inText) bands++;
      inText = dark;
    }
    assert.equal(bands, 2, 'a title line and a key line above the tiles');
  });

  it("README's file table lists every file a run writes, and history.csv holds the time per epoch", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| file | what |'));
    const listed = table.slice(0, table.indexOf('\n\n'));
    for (const f of readdirSync(mnist)) {
      const name = f.replace(/^(weights|optimizer)\.[^.]+\.safetensors$/, '$1.<id>.safetensors');
      assert.ok(listed.includes(`\`${name}\``), `README's table lists ${name}`);
    }
    const csvLines = readFileSync(join(mnist, 'history.csv'), 'utf8').trim().split('\n');
    const header = csvLines[0].split(',');
    assert.ok(header.includes('seconds'), csvLines[0]);
    for (const line of csvLines.slice(1)) assert.ok(Number(line.split(',')[header.indexOf('seconds')]) > 0, line);
  });
});

describe('strata train --backend webgpu', () => {
  // The data stay on the CPU and the model trains on the GPU (SwiftShader here); the run's
  // pictures and report are made from values read with await.
  it('trains, saves and writes every picture', { skip: webgpuSkip }, () => {
    const out = join(root, 'gpu-run');
    const r = run(['train', '--model', 'mlp', '--backend', 'webgpu', '--epochs', '1', '--limit', '600', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backend 'webgpu'/);
    assert.ok(trainAccuracy(r.stdout) > 50, r.stdout);
    for (const file of ['model.json', 'curves.png', 'confusion.png', 'mistakes.png', 'filters.png', 'report.html'])
      assert.ok(existsSync(join(out, file)), file);
  });
});

describe('strata train checks every option before writing anything', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown optimizer', ['--optimizer', 'adamm'], /--optimizer: expected one of .*received "adamm"/],
    [
      'an unknown model',
      ['--model', 'resnet'],
      /--model: expected convnet, mlp, lenet5, .*, wideResNet or a path to a model \.json file; received "resnet"/,
    ],
    ['a missing model file', ['--model', 'nowhere.json'], /--model: cannot read nowhere\.json/],
    ['a convnet for CSV rows', ['--model', 'convnet', '--dataset', 'csv:points.csv'], /--model convnet needs images/],
    ['a model for other inputs', ['--model', 'wide.json'], /--model: wide\.json takes inputs of shape \(None, 5\); mnist gives \(None, 28, 28, 1\)/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: a strata: message, no run folder`, () => {
      const cwd = mkdtempSync(join(root, 'bad-'));
      writePoints(join(cwd, 'points.csv'));
      const wide = st.sequential({ layers: [st.layers.dense({ units: 10, activation: 'softmax', inputShape: [5] })] });
      writeFileSync(join(cwd, 'wide.json'), JSON.stringify(st.layers.serialize(wide)));
      const r = run(['train', ...args, '--limit', '100', '--epochs', '1', '--out', 'run'], cwd);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, /^strata: /);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(join(cwd, 'run')), `${what}: no run folder was created`);
      const unnamed = run(['train', ...args, '--limit', '100', '--epochs', '1'], cwd);
      assert.equal(unnamed.status, 1);
      assert.ok(!existsSync(join(cwd, 'runs')), `${what}: no runs/ folder was created`);
    });
  }
});

describe('package.json', () => {
  it('claims no GPU support while no GPU backend exists', () => {
    const { description } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const gpu = st.backends().some((b) => /gpu|cuda|metal/i.test(b.name));
    if (!gpu) assert.doesNotMatch(description, /GPU/i);
  });
});
