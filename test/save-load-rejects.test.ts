// Loading what a save did not write: corrupt, truncated and foreign data files and model.json, and
// architecture configs with unknown keys or malformed references, must be rejected with an error
// naming the file and what was wrong (Note [Atomic model saves]); every case puts the files back and
// checks they still load. Split from save-load.test.ts, which holds the round trips.
import assert from 'node:assert/strict';
import { copyFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { freshDir, type Json, manifestOf, rejectsLoad, root, savedMlp, sha256, values, withEditedManifest } from './save-load-helpers.js';

type Role = 'weights' | 'optimizer';
/** The name of the data file model.json lists for `role`. */
const dataName = async (dir: string, role: Role): Promise<string> => (await manifestOf(dir)).files[role].path;

/**
 * Replaces a data file's bytes and rewrites model.json's record of it to match, as a save of
 * wrong but consistent files would (so the checks behind the checksum are reached); runs `check`;
 * puts both back.
 */
async function withReplacedData(dir: string, role: Role, bytes: Uint8Array, check: () => Promise<void>): Promise<void> {
  const manifestPath = join(dir, 'model.json');
  const originalManifest = await readFile(manifestPath);
  const manifest = JSON.parse(originalManifest.toString('utf8'));
  const path = join(dir, manifest.files[role].path);
  const original = await readFile(path);
  manifest.files[role].bytes = bytes.byteLength;
  manifest.files[role].sha256 = sha256(bytes);
  await writeFile(path, bytes);
  await writeFile(manifestPath, JSON.stringify(manifest));
  try {
    await check();
  } finally {
    await writeFile(path, original);
    await writeFile(manifestPath, originalManifest);
  }
}

describe('corrupt, truncated and foreign files', () => {
  let dir = '';
  let model: st.Model;
  let x: st.Tensor;
  before(async () => {
    ({ dir, model, x } = await savedMlp(61));
  });
  // Each test restores what it broke; this one proves the directory is intact afterwards.
  const stillLoads = async () => assert.deepEqual(await values((await st.loadModel(dir)).predict(x)), await values(model.predict(x)));

  for (const role of ['weights', 'optimizer'] as const) {
    it(`the ${role} file cut short at every 10 % point fails with a FormatError naming it, with or without a matching record`, async () => {
      const file = await dataName(dir, role);
      const path = join(dir, file);
      const original = await readFile(path);
      try {
        for (let p = 0; p <= 90; p += 10) {
          const cut = original.subarray(0, Math.floor((original.byteLength * p) / 100));
          await writeFile(path, cut);
          await rejectsLoad(dir, file, [new RegExp(`holds ${cut.byteLength} bytes; .*recorded ${original.byteLength}`)]);
          await writeFile(path, original);
          await withReplacedData(dir, role, cut, () => rejectsLoad(dir, file, []));
        }
      } finally {
        await writeFile(path, original);
      }
      await stillLoads();
    });

    it(`a byte changed in the ${role} file is caught by its checksum`, async () => {
      const file = await dataName(dir, role);
      const path = join(dir, file);
      const original = await readFile(path);
      const flipped = Buffer.from(original);
      flipped[flipped.length - 3] ^= 0x40;
      await writeFile(path, flipped);
      try {
        await rejectsLoad(dir, file, [/SHA-256 checksum differs/]);
      } finally {
        await writeFile(path, original);
      }
      await stillLoads();
    });
  }

  it('model.json truncated at every 10 % point fails with a FormatError naming it', async () => {
    const path = join(dir, 'model.json');
    const original = await readFile(path);
    try {
      for (let p = 0; p <= 90; p += 10) {
        await writeFile(path, original);
        await truncate(path, Math.floor((original.byteLength * p) / 100));
        await rejectsLoad(dir, 'model.json', []);
      }
    } finally {
      await writeFile(path, original);
    }
    await stillLoads();
  });

  it('a shape changed in the weights manifest: the error names the weight and both shapes', async () => {
    await withEditedManifest(
      dir,
      (m) => (m.weights[2].shape = [2, 5]),
      () => rejectsLoad(dir, 'model.json', [/'out\/kernel'/, /\[2, 5\]/, /\[5, 2\]/]),
    );
    await withEditedManifest(
      dir,
      (m) => (m.weights[1].dtype = 'int32'),
      () => rejectsLoad(dir, 'model.json', [/'hidden\/bias'/, /int32/, /float32/]),
    );
    await withEditedManifest(
      dir,
      (m) => ([m.weights[0], m.weights[2]] = [m.weights[2], m.weights[0]]),
      () => rejectsLoad(dir, 'model.json', [/out\/kernel/, /hidden\/kernel/]),
    );
    await stillLoads();
  });

  it('unknown layer classes are rejected by name, including names of Object.prototype members', async () => {
    for (const className of ['Dense2', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'eval']) {
      await withEditedManifest(
        dir,
        (m) => (m.model.config.layers[1].className = className),
        () => rejectsLoad(dir, 'model.json', [new RegExp(`unknown layer class '${className}'`)]),
      );
      await withEditedManifest(
        dir,
        (m) => (m.model.className = className),
        () => rejectsLoad(dir, 'model.json', [new RegExp(`'${className}'`)]),
      );
    }
    await withEditedManifest(
      dir,
      (m) => (m.model = m.model.config.layers[1]),
      () => rejectsLoad(dir, 'model.json', [/Dense layer, not a model/]),
    );
    await stillLoads();
  });

  it('unknown config keys are rejected by name (as Keras does)', async () => {
    const dense = (m: Json) => m.model.config.layers[1].config;
    await withEditedManifest(
      dir,
      (m) => (dense(m).foo = 1),
      () => rejectsLoad(dir, 'model.json', [/unknown option 'foo'/, /Dense/]),
    );
    await withEditedManifest(
      dir,
      (m) => Object.defineProperty(dense(m), '__proto__', { value: { units: 99 }, enumerable: true }),
      () => rejectsLoad(dir, 'model.json', [/unknown option '__proto__'/]),
    );
    await withEditedManifest(
      dir,
      (m) => (m.trainingConfig.optimizer.config.foo = 2),
      () => rejectsLoad(dir, 'model.json', [/unknown option 'foo'/, /compile: false/]),
    );
    await stillLoads();
  });

  it('names from the file are looked up, never evaluated: activations, initializers, optimizers, losses, metrics', async () => {
    const dense = (m: Json) => m.model.config.layers[1].config;
    const code = 'globalThis.pwned = 1';
    const cases: [string, (m: Json) => void, RegExp][] = [
      ['activation', (m) => (dense(m).activation = code), /unknown activation/],
      ['activation constructor', (m) => (dense(m).activation = 'constructor'), /unknown activation "constructor"/],
      ['initializer', (m) => (dense(m).kernelInitializer = { className: 'constructor', config: {} }), /unknown initializer "constructor"/],
      ['regularizer', (m) => (dense(m).kernelRegularizer = { className: 'toString', config: {} }), /unknown regularizer "toString"/],
      ['optimizer constructor', (m) => (m.trainingConfig.optimizer.config.name = 'constructor'), /unknown optimizer "constructor"/],
      ['optimizer toString', (m) => (m.trainingConfig.optimizer.config.name = 'toString'), /unknown optimizer "toString"/],
      ['loss', (m) => (m.trainingConfig.loss = [code]), /unknown loss/],
      ['metric', (m) => (m.trainingConfig.metrics = [['constructor']]), /unknown metric 'constructor'/],
      ['trainingConfig', (m) => (m.trainingConfig = { optimizer: 5 }), /"trainingConfig" must be/],
      ['weights', (m) => (m.weights = [null]), /"weights" must be/],
      ['format', (m) => (m.format = 'keras'), /not a Strata model file/],
      ['version', (m) => (m.formatVersion = 3), /format version 3/],
      ['file outside the folder', (m) => (m.files.weights.path = '../weights.safetensors'), /"files.weights" must be/],
      ['files and optimizer state', (m) => (m.files.optimizer = null), /must be present together/],
    ];
    for (const [what, edit, pattern] of cases) {
      await withEditedManifest(dir, edit, () => rejectsLoad(dir, 'model.json', [pattern]).catch((e) => assert.fail(`${what}: ${e.message}`)));
    }
    assert.equal((globalThis as Record<string, unknown>).pwned, undefined);
    await stillLoads();
  });

  it('a missing file or directory: the error names the path', async () => {
    const file = await dataName(dir, 'weights');
    const weights = join(dir, file);
    const saved = join(root, 'weights-aside.safetensors');
    await copyFile(weights, saved);
    await rm(weights);
    try {
      await rejectsLoad(dir, file, [/cannot read/, /ENOENT/]);
    } finally {
      await copyFile(saved, weights);
    }
    const nowhere = join(root, 'no-such-model');
    await rejectsLoad(nowhere, 'model.json', [/ENOENT/]);
    await assert.rejects(st.loadModel(dir, { compile: true, strict: true } as st.LoadOptions), /unknown option 'strict'/);
    await stillLoads();
  });

  it('weights or optimizer state from a different architecture are rejected', async () => {
    const other = await savedMlp(71, 7); // same layer names, hidden layer 7 units instead of 5
    for (const role of ['weights', 'optimizer'] as const) {
      const foreign = await readFile(join(other.dir, await dataName(other.dir, role)));
      const file = await dataName(dir, role);
      await withReplacedData(dir, role, foreign, () => rejectsLoad(dir, file, [/hidden\/(kernel|bias)/, role === 'weights' ? /\[3, 7\]/ : /shape/]));
    }
    await stillLoads();
  });

  it('a weights file whose header lacks a weight names the missing weight', async () => {
    const file = await dataName(dir, 'weights');
    const state = decodeSafetensors(await readFile(join(dir, file)), file);
    const without = encodeSafetensors(state.order.filter((n) => n !== 'out/bias').map((name) => ({ name, tensor: state.tensors.get(name)! })));
    await withReplacedData(dir, 'weights', without, () =>
      rejectsLoad(dir, file, [/missing tensor 'out\/bias' \(needed by the weights model\.json lists\)/]),
    );
    // Without its header entry but with its bytes left in place, the data section has a gap: still named.
    const original = await readFile(join(dir, file));
    const headerLength = Number(new DataView(original.buffer, original.byteOffset, 8).getBigUint64(0, true));
    const header = JSON.parse(original.subarray(8, 8 + headerLength).toString('utf8'));
    delete header['out/bias'];
    const text = JSON.stringify(header).padEnd(headerLength, ' ');
    const gap = Buffer.concat([original.subarray(0, 8), Buffer.from(text, 'utf8'), original.subarray(8 + headerLength)]);
    await withReplacedData(dir, 'weights', gap, () => rejectsLoad(dir, file, [/missing tensor 'out\/bias'/]));
    await stillLoads();
  });

  it('optimizer state that does not fit: extra entries, a bad iteration count', async () => {
    const file = await dataName(dir, 'optimizer');
    const state = decodeSafetensors(await readFile(join(dir, file)), file);
    const rewritten = (edit: (named: { name: string; tensor: st.Tensor }[]) => void) => {
      const named = state.order.map((name) => ({ name, tensor: state.tensors.get(name)! }));
      edit(named);
      return encodeSafetensors(named);
    };
    await withReplacedData(
      dir,
      'optimizer',
      rewritten((n) => n.push({ name: 'ghost/kernel/0', tensor: st.zeros([2]) })),
      () => rejectsLoad(dir, file, [/holds 10 tensors/]),
    );
    await withReplacedData(
      dir,
      'optimizer',
      rewritten((n) => (n[0].tensor = st.tensor(-3, [], 'int32'))),
      () => rejectsLoad(dir, file, [/'iterations' must be a non-negative integer; received -3/]),
    );
    await withReplacedData(
      dir,
      'optimizer',
      rewritten((n) => (n.find((e) => e.name === 'out/bias/0')!.tensor = st.zeros([3]))),
      () => rejectsLoad(dir, file, [/slot 0 has shape \[2\]; received \[3\]/]),
    );
    await stillLoads();
  });
});

// Architecture configs reject what they do not understand, like Keras.
describe('architecture configs reject unknown keys and malformed references', () => {
  const loadEdited = async (build: () => st.Model, edit: (config: Json) => void, pattern: RegExp) => {
    const dir = freshDir('strict');
    await build().save(dir);
    await withEditedManifest(
      dir,
      (m) => edit(m.model),
      () => rejectsLoad(dir, 'model.json', [pattern]),
    );
  };
  const seq = () => st.sequential({ layers: [st.layers.dense({ units: 2, inputShape: [3], name: 'd' })] });
  const fn = () => {
    const i = st.input({ shape: [3], name: 'i' });
    return st.model({ inputs: i, outputs: st.layers.dense({ units: 2, name: 'd' }).apply(i) });
  };

  it('Sequential config with an unknown key', () => loadEdited(seq, (m) => (m.config.foo = 1), /'foo'/));
  it('{className, config} wrapper with an unknown key', () => loadEdited(seq, (m) => (m.config.layers[1].foo = 1), /'foo'/));
  it('Functional config with an unknown key', () => loadEdited(fn, (m) => (m.config.foo = 1), /'foo'/));
  it('Functional config naming two layers alike', () => loadEdited(fn, (m) => m.config.layers.push(structuredClone(m.config.layers[1])), /'d'/));
  it('Functional tensor reference that is not [name, integer, integer]', () =>
    loadEdited(fn, (m) => (m.config.layers[1].inboundNodes[0].args = [['i', 'constructor', 'name']]), /\["i","constructor","name"\]/));
});
