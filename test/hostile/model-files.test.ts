// Hostile model folders: sizes a file declares are never trusted before allocation (Note
// [Weights on a file's word], Note [Trust no size]). Each bomb is a folder of well under 1 MB;
// loading it must end in a FormatError naming the file and the field, in a fresh process whose
// resident memory grows by far less than 256 MB.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../../src/index.js';
import { measureInChild } from './measure.js';

const root = mkdtempSync(join(tmpdir(), 'strata-model-bombs-'));
after(() => rmSync(root, { recursive: true, force: true }));

// biome-ignore lint/suspicious/noExplicitAny: parsed model.json, edited at any depth by the cases
type Json = any;

describe('model.json bombs', () => {
  const template = join(root, 'template');
  before(async () => {
    st.setSeed(3);
    const model = st.sequential({
      layers: [
        st.layers.embedding({ inputDim: 20, outputDim: 4, inputShape: [6], name: 'embed' }),
        st.layers.flatten(),
        st.layers.dense({ units: 8, activation: 'relu', name: 'hidden' }),
        st.layers.dense({ units: 3, name: 'out' }),
      ],
    });
    await model.save(template);
  });

  /** A copy of the template with model.json edited (and nothing else: the weights file stays small). */
  function bomb(name: string, edit: (m: Json) => undefined | string): string {
    const dir = join(root, name);
    cpSync(template, dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const replaced = edit(m);
    writeFileSync(join(dir, 'model.json'), typeof replaced === 'string' ? replaced : JSON.stringify(m));
    const bytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    assert.ok(bytes < 1 << 20, `${name} is ${bytes} bytes`);
    return dir;
  }

  const layer = (m: Json, name: string) => m.model.config.layers.find((l: Json) => l.config.name === name).config;
  const cases: [string, (m: Json) => undefined | string, RegExp[]][] = [
    [
      'a dense layer claiming 2^28 units',
      (m) => void (layer(m, 'hidden').units = 2 ** 28),
      [/'hidden\/kernel' \[24, 268435456\] needs 25769803776 bytes/, /hold only \d+ more/],
    ],
    ['a dense layer claiming 10^12 units', (m) => void (layer(m, 'out').units = 1e12), [/'hidden\/kernel'|'out\/kernel'/, /needs \d+ bytes/]],
    ['an embedding claiming 10^9 rows', (m) => void (layer(m, 'embed').inputDim = 1e9), [/'embed\/embeddings' \[1000000000, 4\]/]],
    ['an input shape of 10^12 features', (m) => void (m.model.config.layers[0].config.batchInputShape = [null, 1e6, 1e6]), [/needs \d+ bytes/]],
    [
      'arrays nested 100,000 deep',
      () => '{"format": "strata-model", "formatVersion": 2, "model": ' + '['.repeat(100_000) + ']'.repeat(100_000) + '}',
      [/nest deeper than the limit of 128 levels/, /maxJsonDepth/],
    ],
  ];
  for (const [what, edit, patterns] of cases) {
    it(`${what}: a FormatError naming model.json, without allocating`, () => {
      const dir = bomb(what.replace(/\W+/g, '-'), edit);
      const { error, peakGrowth } = measureInChild(`await st.loadModel(${JSON.stringify(dir)})`);
      assert.ok(error, `${what} loaded`);
      assert.equal(error.name, 'FormatError', error.message);
      assert.ok(error.message.includes(join(dir, 'model.json')), error.message);
      for (const p of patterns) assert.match(error.message, p);
      assert.ok(peakGrowth < 64 * 2 ** 20, `${what}: the peak resident size grew by ${(peakGrowth / 2 ** 20).toFixed(0)} MiB`);
    });
  }

  it('the depth limit is st.setReadLimits({maxJsonDepth}), and a trusted deep file loads once it is raised', async () => {
    const previous = st.setReadLimits({ maxJsonDepth: 4 });
    try {
      await assert.rejects(st.loadModel(template), (e: Error) => e instanceof st.FormatError && /limit of 4 levels/.test(e.message));
    } finally {
      st.setReadLimits(previous);
    }
    await st.loadModel(template);
    assert.throws(() => st.setReadLimits({ maxJsonDepth: 0 }), /maxJsonDepth must be a positive integer; received 0/);
    assert.throws(() => st.setReadLimits({ maxJsonDeph: 3 } as Partial<st.ReadLimits>), /unknown limit 'maxJsonDeph'/);
  });
});
