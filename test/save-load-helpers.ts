// Shared by the save/load tests (save-load.test.ts, save-load-rejects.test.ts): a scratch directory
// per test file, seeded inputs, reading values back, a small saved model, and the helpers that
// edit model.json or expect a load to fail. Importing this module registers the hooks that create
// and remove the scratch directory on the importing file's root test (each test file is its own process).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import * as st from '../src/index.js';
import { randomValues } from './helpers.js';

/** The scratch directory, made before the importing file's tests and removed after them. */
export let root = '';
let dirCount = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'strata-save-load-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
export const freshDir = (label: string) => join(root, `${label}-${dirCount++}`);

export const floats = (shape: number[], seed: number) =>
  st.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
export const values = (t: st.Tensor | st.Tensor[]) => Promise.all((Array.isArray(t) ? t : [t]).map(async (x) => Array.from(await x.data())));
export const weightValues = (m: st.Model) => values(m.getWeights());
export const quiet = { printFn: () => {} };

export const manifestOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A small compiled and trained model saved into a fresh directory, for the file-level tests. */
export async function savedMlp(seed = 31, units = 5): Promise<{ dir: string; model: st.Model; x: st.Tensor }> {
  st.setSeed(seed);
  const model = st.sequential({
    layers: [st.layers.dense({ units, inputShape: [3], activation: 'relu', name: 'hidden' }), st.layers.dense({ units: 2, name: 'out' })],
  });
  model.compile({ optimizer: 'adam', loss: 'mse' });
  const x = floats([8, 3], seed + 1);
  await model.fit(x, floats([8, 2], seed + 2), { epochs: 1, batchSize: 4, verbose: 0 });
  const dir = freshDir('mlp');
  await model.save(dir);
  return { dir, model, x };
}

/** Expects loading `dir` to fail with `kind`, the message naming `file` and matching every pattern. */
export async function rejectsLoad(dir: string, file: string, patterns: RegExp[], kind: typeof st.StrataError = st.FormatError): Promise<void> {
  await assert.rejects(st.loadModel(dir), (e: Error) => {
    assert.ok(e instanceof kind, `expected ${kind.name}; received ${e.constructor.name}: ${e.message}`);
    assert.ok(e.message.includes(join(dir, file)), `message should name ${file}: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

/** Parsed model.json, which the corruption tests edit at any depth (hence untyped). */
// biome-ignore lint/suspicious/noExplicitAny: parsed model.json, edited at any depth by the cases
export type Json = any;

/** Rewrites model.json through `edit`, runs `check`, and puts the original back. */
export async function withEditedManifest(dir: string, edit: (m: Json) => void, check: () => Promise<void>): Promise<void> {
  const path = join(dir, 'model.json');
  const original = await readFile(path, 'utf8');
  const manifest = JSON.parse(original);
  edit(manifest);
  await writeFile(path, JSON.stringify(manifest));
  try {
    await check();
  } finally {
    await writeFile(path, original);
  }
}
