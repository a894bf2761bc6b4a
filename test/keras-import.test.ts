// st.keras.load: the fixtures of scripts/make_keras_fixtures.py (Keras 3 `.keras` files: a
// Sequential convnet, a Functional model with Add and BatchNormalization, an LSTM and a nested
// model; a legacy Keras 2 `.h5`) against the script's numpy outputs, st.loadModel's and `strata
// import`'s routing by extension, the browser's Node-only error, and a corpus of broken files
// generated here, each a FormatError (or a ValueError for an unsupported layer) naming the file
// and the problem.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import h5wasm, { type File as H5File, type Group as H5Group } from 'h5wasm';
import { importCommand } from '../src/cli/import.js';
import * as st from '../src/index.js';

const fixtures = new URL('./fixtures/keras/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')) as Record<
  string,
  { input: { shape: number[]; values: number[] }; output: { shape: number[]; values: number[] } }
>;
const dir = mkdtempSync(join(tmpdir(), 'strata-keras-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function matchesNumpy(model: st.Model, name: string): Promise<void> {
  const { input, output } = expected[name];
  const y = model.predict(st.tensor(input.values, input.shape)) as st.Tensor;
  assert.deepEqual(y.shape, output.shape);
  const values = await y.data();
  values.forEach((v, i) => assert.ok(Math.abs(v - output.values[i]) <= 1e-5, `${name}[${i}]: ${v} vs ${output.values[i]}`));
}

async function rejectsWith(p: Promise<unknown>, cls: typeof st.StrataError, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls, `${e.constructor.name}: ${e.message}`);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

/** Writes bytes into the temporary folder and returns the path. */
function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const sequential = () => new Uint8Array(readFileSync(join(fixtures, 'sequential.keras')));
/** The sequential fixture's parts, to rebuild broken variants. */
const parts = () => unzipSync(sequential());
const configOf = (p: Record<string, Uint8Array>) => JSON.parse(strFromU8(p['config.json']));

/** HDF5 bytes edited in place through h5wasm. */
async function editH5(bytes: Uint8Array, edit: (f: H5File) => void): Promise<Uint8Array> {
  const { FS } = await h5wasm.ready;
  FS.writeFile('/edit-copy.h5', bytes);
  const f = new h5wasm.File('/edit-copy.h5', 'a');
  edit(f);
  f.close();
  const edited = FS.readFile('/edit-copy.h5');
  FS.unlink('/edit-copy.h5');
  return edited;
}

/** The legacy fixture with its model_config attribute replaced (or removed). */
function legacyWith(change: (config: { config: { layers: { config: Record<string, unknown> }[] } }) => void, remove = false): Promise<Uint8Array> {
  return editH5(readFileSync(join(fixtures, 'legacy.h5')), (f) => {
    const config = JSON.parse(f.attrs.model_config.value as string);
    change(config);
    f.delete_attribute('model_config');
    if (!remove) f.create_attribute('model_config', JSON.stringify(config));
  });
}

describe('keras import: fixtures', () => {
  for (const name of ['sequential.keras', 'functional.keras', 'nested.keras', 'legacy.h5']) {
    it(`${name} matches numpy`, async () => matchesNumpy(await st.keras.load(join(fixtures, name)), name));
  }

  it('reads bytes as well as paths, and keeps the layer names', async () => {
    const model = await st.keras.load(readFileSync(join(fixtures, 'functional.keras')));
    assert.deepEqual(
      model.layers.map((l) => l.name),
      ['input_layer', 'left', 'right', 'add', 'batch_normalization', 'head'],
    );
    await matchesNumpy(model, 'functional.keras');
  });

  it('st.loadModel routes .keras and .h5 paths to the Keras importer', async () => {
    await matchesNumpy(await st.loadModel(join(fixtures, 'sequential.keras')), 'sequential.keras');
    await matchesNumpy(await st.loadModel(join(fixtures, 'legacy.h5')), 'legacy.h5');
  });

  it('strata import writes a Strata model folder', async () => {
    const line = await importCommand(join(fixtures, 'functional.keras'), { out: join(dir, 'cli-imported') }, () => {});
    assert.match(line, /functional\.keras: 6 layers, \d+ parameters, inputs \[N, 5\], outputs \[N, 3\]/);
    await matchesNumpy(await st.loadModel(join(dir, 'cli-imported')), 'functional.keras');
  });

  it('is Node-only: without the Node entry, st.keras.load says so', () => {
    const code = `import('./src/api.ts').then((st) => st.keras.load('m.keras')).catch((e) => { console.log(e.constructor.name + ': ' + e.message); })`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
      cwd: new URL('..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.match(child.stdout, /ValueError: keras\.load is Node-only/);
  });

  it('an imported model trains, saves and loads back', async () => {
    const model = await st.keras.load(join(fixtures, 'legacy.h5'));
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await model.fit(st.randomNormal([8, 4], { seed: 1 }), st.tensor([0, 1, 0, 1, 0, 1, 0, 1], [8], 'int32'), { epochs: 1, verbose: 0 });
    await model.save(join(dir, 'saved'));
    const again = await st.loadModel(join(dir, 'saved'));
    const x = st.tensor(expected['legacy.h5'].input.values, expected['legacy.h5'].input.shape);
    assert.deepEqual(await (again.predict(x) as st.Tensor).data(), await (model.predict(x) as st.Tensor).data());
  });
});

describe('keras import: broken files', () => {
  it('a truncated zip', async () => {
    const path = file('truncated.keras', sequential().subarray(0, 5000));
    await rejectsWith(st.keras.load(path), st.FormatError, /truncated\.keras/, /truncated/);
  });

  it('a zip entry escaping its folder', async () => {
    const p = parts();
    const path = file('escape.keras', zipSync({ ...p, '../evil.json': strToU8('{}') }));
    await rejectsWith(st.keras.load(path), st.FormatError, /escape\.keras/, /'\.\.\/evil\.json' escapes/);
  });

  it('an entry declaring a huge uncompressed size, and one inflating past its declaration', async () => {
    const p = parts();
    const zip = zipSync({ 'config.json': [p['config.json'], { level: 9 }], 'model.weights.h5': [p['model.weights.h5'], { level: 0 }] });
    const view = new DataView(zip.buffer);
    // The central directory's first entry is config.json: its uncompressed size sits 24 bytes in.
    let at = zip.length - 22;
    while (view.getUint32(at, true) !== 0x06054b50) at--;
    const central = view.getUint32(at + 16, true);
    const bomb = zip.slice();
    new DataView(bomb.buffer).setUint32(central + 24, 0xf0000000, true);
    await rejectsWith(
      st.keras.load(file('bomb.keras', bomb)),
      st.FormatError,
      /bomb\.keras/,
      /config\.json' declares 4026531840 bytes/,
      /maxDecodedBytes/,
    );
    const liar = zip.slice();
    new DataView(liar.buffer).setUint32(central + 24, 100, true);
    await rejectsWith(st.keras.load(file('liar.keras', liar)), st.FormatError, /liar\.keras/, /inflates past the 100 bytes/);
  });

  it('a missing config.json, and a config.json that is not JSON', async () => {
    const p = parts();
    const missing = file('missing.keras', zipSync({ 'metadata.json': p['metadata.json'], 'model.weights.h5': p['model.weights.h5'] }));
    await rejectsWith(st.keras.load(missing), st.FormatError, /missing\.keras/, /no config\.json/);
    const garbled = file('garbled.keras', zipSync({ ...p, 'config.json': strToU8('{"module": "keras", "class_name": ') }));
    await rejectsWith(st.keras.load(garbled), st.FormatError, /garbled\.keras \(config\.json\)/);
  });

  it('a truncated h5 file, and one that is not a Keras file', async () => {
    const h5 = new Uint8Array(readFileSync(join(fixtures, 'legacy.h5')));
    await rejectsWith(st.keras.load(file('cut.h5', h5.subarray(0, 4000))), st.FormatError, /cut\.h5/, /truncated: its superblock says \d+ bytes/);
    await rejectsWith(st.loadModel(file('text.h5', strToU8('hello'))), st.FormatError, /text\.h5/, /neither a Keras 3/);
    const p = parts();
    const cutWeights = file('cut-weights.keras', zipSync({ ...p, 'model.weights.h5': p['model.weights.h5'].subarray(0, 3000) }));
    await rejectsWith(st.keras.load(cutWeights), st.FormatError, /cut-weights\.keras \(model\.weights\.h5\)/, /truncated/);
  });

  it('weights whose shapes disagree with the layers, every problem listed', async () => {
    const p = parts();
    const config = configOf(p);
    config.config.layers[4].config.units = 5; // the Dense layer: kernel [12, 5] and bias [5] against the file's [12, 4] and [4]
    config.config.layers[1].config.filters = 2; // the Conv2D: its kernel and bias too, and the Dense's input (8 features)
    const path = file('shapes.keras', zipSync({ ...p, 'config.json': strToU8(JSON.stringify(config)) }));
    await rejectsWith(
      st.keras.load(path),
      st.FormatError,
      /shapes\.keras \(model\.weights\.h5\): 4 problem\(s\)/,
      /layers\/conv2d\/vars\/0 has shape \[3, 3, 2, 3\]; layer 'conv2d' expects \[3, 3, 2, 2\]/,
      /layers\/dense\/vars\/1 has shape \[4\]; layer 'dense' expects \[5\]/,
    );
  });

  it('legacy .h5: shapes that disagree (all listed), weights-only files', async () => {
    const widened = await legacyWith((c) => {
      c.config.layers[1].config.units = 7; // dense: kernel [4, 7] and bias [7]; the batch norm then expects 7 channels too
    });
    await rejectsWith(
      st.keras.load(file('widened.h5', widened)),
      st.FormatError,
      /widened\.h5: weight 'dense\/kernel' has shape \[4, 6\]; layer 'dense' expects \[4, 7\]/,
      /weight 'batch_normalization\/moving_variance' has shape \[6\]; layer 'batch_normalization' expects \[7\]/,
    );
    const weightsOnly = await legacyWith(() => {}, true);
    await rejectsWith(st.keras.load(file('weights-only.h5', weightsOnly)), st.FormatError, /weights-only\.h5/, /weights only \(save_weights\)/);
    const keras3Weights = file('model.weights.h5', parts()['model.weights.h5']);
    await rejectsWith(st.keras.load(keras3Weights), st.FormatError, /model\.weights\.h5/, /Keras 3's model\.weights\.h5 \(weights only\)/);
  });

  it('a weights file whose groups form a cycle', async () => {
    const p = parts();
    const looped = await editH5(p['model.weights.h5'], (f) => (f.get('layers/dense') as H5Group).create_hard_link('/layers', 'loop'));
    const path = file('cycle.keras', zipSync({ ...p, 'model.weights.h5': looped }));
    await rejectsWith(st.keras.load(path), st.FormatError, /cycle\.keras \(model\.weights\.h5\): groups nest deeper than 32 levels/);
  });

  it('a Lambda layer is refused, its code never run', async () => {
    const p = parts();
    const config = configOf(p);
    config.config.layers.splice(3, 0, {
      module: 'keras.layers',
      class_name: 'Lambda',
      config: {
        name: 'lambda',
        function: {
          class_name: '__lambda__',
          config: { code: '4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkAKQHaAXhyAgAAAHICAAAA', defaults: null, closure: null },
        },
      },
    });
    const path = file('lambda.keras', zipSync({ ...p, 'config.json': strToU8(JSON.stringify(config)) }));
    await rejectsWith(st.keras.load(path), st.ValueError, /lambda\.keras/, /Lambda \(layer 'lambda'\)/, /Python code, which Strata never runs/);
  });

  it('a missing file and a bad argument', async () => {
    await rejectsWith(st.keras.load(join(dir, 'absent.keras')), st.FormatError, /absent\.keras: cannot read the Keras file \(no such file\)/);
    await rejectsWith(st.keras.load(42 as unknown as string), st.ValueError, /expected a \.keras or \.h5 path/);
  });
});
