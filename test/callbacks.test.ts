// Callbacks driven through CallbackList by a small fake trainer: synthetic logs in, and the
// effects checked against Keras 3's rules, either hand-derived for a short sequence (the
// derivation is in the comment) or replayed by a plain reference written here from Keras's
// description, on random sequences.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { CallbackList, EarlyStopping, History, callbacks, formatPlaceholders, type Callback } from '../src/callbacks/index.js';
import { FakeModel, params, run, series, train } from './callback-helpers.js';
import { assertClose, randomValues, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first; the
// per-backend cases read the weights with `await t.data()`, which every backend has.
await st.ready();
const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

/**
 * The FakeModel for the per-backend cases, reading nothing synchronously (webgpu cannot):
 * getWeights copies on the backend, and values() hands out the weights `await refresh()` read
 * last. `refresher`, placed last in the callback list, refreshes at every epoch's end (the list
 * awaits it) before the fake trainer records values(); after training, call refresh() again.
 */
class AsyncReadModel extends FakeModel {
  private read: number[][] = [];
  readonly refresher: Callback = { onEpochEnd: () => this.refresh() };
  override getWeights(): st.Tensor[] {
    return this.weights.map((w) => st.clone(w));
  }
  override values(): number[][] {
    return this.read;
  }
  async refresh(): Promise<void> {
    this.read = await Promise.all(this.weights.map(async (w) => Array.from(await w.data())));
  }
}

/** Keras 3's EarlyStopping, restated: returns the epoch it stops at (or -1) and the best epoch. */
function referenceEarlyStop(
  values: number[],
  o: { patience: number; minDelta: number; max: boolean; baseline?: number },
): { stopped: number; best: number } {
  const better = (a: number, ref: number | undefined) => ref === undefined || (o.max ? a - o.minDelta > ref : a + o.minDelta < ref);
  let best: number | undefined,
    bestEpoch = 0,
    wait = 0;
  for (let e = 0; e < values.length; e++) {
    wait++;
    if (better(values[e], best)) {
      best = values[e];
      bestEpoch = e;
      if (o.baseline === undefined || better(values[e], o.baseline)) wait = 0;
      continue;
    }
    if (wait >= o.patience && e > 0) return { stopped: e, best: bestEpoch };
  }
  return { stopped: -1, best: bestEpoch };
}

describe('earlyStopping', () => {
  it('stops in min mode once patience runs out', async () => {
    // best 1.0 at e0, 0.8 at e1; e2 and e3 do not improve: wait reaches 2 = patience at e3.
    const es = callbacks.earlyStopping({ patience: 2 });
    const r = await run([es], series('val_loss', [1.0, 0.8, 0.85, 0.9, 0.79, 0.95]));
    assert.equal(r.epochsRun, 4);
    assert.equal(es.stoppedEpoch, 3);
    assert.equal(es.best, 0.8);
  });

  it('uses max mode for accuracy-like names under auto, and min for the rest', async () => {
    // 0.6 at e2 ties the best: no improvement, wait 1 >= patience 1.
    const es = callbacks.earlyStopping({ monitor: 'val_accuracy', patience: 1 });
    const r = await run([es], series('val_accuracy', [0.5, 0.6, 0.6, 0.7]));
    assert.equal(es.mode, 'max');
    assert.equal(r.epochsRun, 3);
    for (const [monitor, mode] of [
      ['val_auc', 'max'],
      ['sparse_categorical_accuracy', 'max'],
      ['val_precision', 'max'],
      ['val_mae', 'min'],
      ['loss', 'min'],
    ]) {
      assert.equal(callbacks.earlyStopping({ monitor }).mode, mode, monitor);
    }
    assert.equal(callbacks.earlyStopping({ monitor: 'val_accuracy', mode: 'min' }).mode, 'min');
  });

  it('counts a change below minDelta as no improvement', async () => {
    // 0.97 + 0.05 is not below 1.0, nor is 0.96 + 0.05: wait 2 at e2.
    const es = callbacks.earlyStopping({ patience: 2, minDelta: 0.05 });
    const r = await run([es], series('val_loss', [1.0, 0.97, 0.96, 0.9]));
    assert.equal(r.epochsRun, 3);
    const plain = await run([callbacks.earlyStopping({ patience: 2 })], series('val_loss', [1.0, 0.97, 0.96, 0.9]));
    assert.equal(plain.epochsRun, 4);
  });

  it('restarts patience only for epochs that also beat the baseline', async () => {
    // Baseline 0.5 is never reached: e0 and e1 improve but leave wait at 1 and 2; e2 does not improve, wait 3 >= 2.
    const withBaseline = callbacks.earlyStopping({ patience: 2, baseline: 0.5 });
    assert.equal((await run([withBaseline], series('val_loss', [0.9, 0.8, 0.8, 0.8, 0.8]))).epochsRun, 3);
    // Without it, e2 and e3 count wait 1 and 2: stop at e3.
    assert.equal((await run([callbacks.earlyStopping({ patience: 2 })], series('val_loss', [0.9, 0.8, 0.8, 0.8, 0.8]))).epochsRun, 4);
  });

  for (const backend of BACKENDS) {
    it(`restores the best epoch's weights at the end (${backend})`, () =>
      withBackendAsync(backend, async () => {
        const es = callbacks.earlyStopping({ patience: 2, restoreBestWeights: true });
        const model = new AsyncReadModel();
        const r = await run([es, model.refresher], series('val_loss', [0.9, 0.5, 0.7, 0.6, 0.4]), model);
        await model.refresh();
        assert.equal(r.epochsRun, 4);
        assert.equal(es.bestEpoch, 1);
        r.model.values().forEach((w, i) => assertClose(w, r.weightsAt[1][i], 0, 0, `weight ${i}`));
        // The weights did move after epoch 1 (one SGD step of 0.1 per batch), so the restore mattered.
        assertClose(
          r.weightsAt[3][0],
          r.weightsAt[1][0].map((v) => v - 0.4),
          1e-6,
          1e-6,
        );
      }));
  }

  it('restores the best weights even when training ran to the end (Keras 3)', async () => {
    const r = await run([callbacks.earlyStopping({ patience: 5, restoreBestWeights: true })], series('val_loss', [0.9, 0.3, 0.7]));
    assert.equal(r.epochsRun, 3);
    r.model.values().forEach((w, i) => assertClose(w, r.weightsAt[1][i], 0, 0));
  });

  it('ignores epochs before startFromEpoch', async () => {
    // Watching starts at e2 (0.9 is the first best); e3, e4 do not improve: stop at e4.
    const es = callbacks.earlyStopping({ patience: 2, startFromEpoch: 2 });
    assert.equal((await run([es], series('val_loss', [0.1, 0.2, 0.9, 0.95, 0.99, 0.5]))).epochsRun, 5);
  });

  it('matches the reference on random sequences', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const [p, d, b, m] = randomValues(4, seed * 7, 0, 1);
      const o = { patience: Math.floor(p * 4), minDelta: d < 0.5 ? 0 : d * 0.05, max: m < 0.5, baseline: b < 0.3 ? 0.3 + b : undefined };
      const values = randomValues(12, seed, 0, 1);
      const es = new EarlyStopping({ patience: o.patience, minDelta: o.minDelta, baseline: o.baseline, mode: o.max ? 'max' : 'min' });
      const r = await run([es], series('val_loss', values));
      const ref = referenceEarlyStop(values, o);
      assert.equal(r.epochsRun, ref.stopped < 0 ? values.length : ref.stopped + 1, `seed ${seed}`);
      assert.equal(es.bestEpoch, ref.best, `seed ${seed} best epoch`);
    }
  });

  it('warns once when the monitored key is missing, and keeps training', async () => {
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (msg: string) => warnings.push(msg);
    try {
      const r = await run([callbacks.earlyStopping({ monitor: 'val_acc' })], series('val_loss', [1, 2, 3]));
      assert.equal(r.epochsRun, 3);
    } finally {
      console.warn = original;
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /val_acc.*not available.*loss,val_loss/);
  });

  it('rejects unknown options and bad values', () => {
    assert.throws(
      () => callbacks.earlyStopping({ patiance: 3 } as never),
      (e: Error) => e instanceof st.ValueError && /unknown option 'patiance'/.test(e.message),
    );
    assert.throws(() => callbacks.earlyStopping({ patience: -1 }), st.ValueError);
    assert.throws(() => callbacks.earlyStopping({ mode: 'largest' as never }), /mode must be one of/);
  });
});

describe('modelCheckpoint', () => {
  it('saves only improving epochs and fills the placeholders', async () => {
    const cp = callbacks.modelCheckpoint({ filepath: 'ckpt/e{epoch:02d}-{val_loss:.4f}', saveBestOnly: true });
    const r = await run([cp], series('val_loss', [0.5, 0.6, 0.4, 0.4, 0.123456]));
    assert.deepEqual(r.model.saved, ['ckpt/e01-0.5000', 'ckpt/e03-0.4000', 'ckpt/e05-0.1235']);
  });

  it('saves every epoch without saveBestOnly, and compares upwards for accuracy', async () => {
    const all = await run([callbacks.modelCheckpoint({ filepath: 'm-{epoch}' })], series('val_loss', [0.5, 0.6]));
    assert.deepEqual(all.model.saved, ['m-1', 'm-2']);
    const acc = await run(
      [callbacks.modelCheckpoint({ filepath: 'a{epoch}', monitor: 'val_accuracy', saveBestOnly: true })],
      series('val_accuracy', [0.5, 0.4, 0.7, 0.7]),
    );
    assert.deepEqual(acc.model.saved, ['a1', 'a3']);
  });

  it('saves every saveFreq batches, counting across epochs', async () => {
    // 4 batches per epoch, a save after batches 3, 6, 9 and 12 overall: e1 b3, e2 b2, e3 b1, e3 b4.
    const r = await run(
      [callbacks.modelCheckpoint({ filepath: 'b-{epoch}-{batch}', saveFreq: 3 })],
      series('val_loss', [1, 1, 1]),
      new FakeModel(),
      4,
    );
    assert.deepEqual(r.model.saved, ['b-1-3', 'b-2-2', 'b-3-1', 'b-3-4']);
  });

  it('fails clearly on a placeholder that is not logged, and on bad syntax at construction', async () => {
    const cp = callbacks.modelCheckpoint({ filepath: 'x-{val_auc:.2f}' });
    await assert.rejects(
      run([cp], series('val_loss', [1])),
      (e: Error) => e instanceof st.ValueError && /\{val_auc\} is not in the logs; available: loss, val_loss, epoch/.test(e.message),
    );
    assert.throws(() => callbacks.modelCheckpoint({ filepath: 'x-{epoch:q}' }), /unsupported format spec 'q'/);
    assert.throws(() => callbacks.modelCheckpoint({ filepath: 'x-{epoch.__class__}' }), /placeholders must be/);
    assert.throws(() => callbacks.modelCheckpoint({ filepath: 'x-{epoch' }), /unclosed/);
    assert.throws(() => callbacks.modelCheckpoint({ filepath: 'x', saveFreq: 0 }), /saveFreq/);
  });
});

describe('formatPlaceholders', () => {
  it("matches Python's str.format", () => {
    // Expected strings printed by Python 3's str.format with these values.
    const v = { epoch: 3, val_loss: 0.123456789, x: 0.000123456, big: 12345.678, neg: -2.5, acc: 0.98765 };
    const cases: [string, string][] = [
      ['ckpt-{epoch:02d}-{val_loss:.4f}', 'ckpt-03-0.1235'],
      ['{x:.2e}', '1.23e-04'],
      ['{x:g}', '0.000123456'],
      ['{big:g}', '12345.7'],
      ['{big:.3g}', '1.23e+04'],
      ['{neg:+.1f}', '-2.5'],
      ['{val_loss:>8.2f}|', '    0.12|'],
      ['{neg:08.3f}', '-002.500'],
      ['{acc:.1%}', '98.8%'],
      ['{{lit}}-{epoch}', '{lit}-3'],
      ['{x}', '0.000123456'],
      ['{big:E}', '1.234568E+04'],
      ['{epoch:<4d}|', '3   |'],
      ['{epoch:*^7d}', '***3***'],
      ['{val_loss:.3}', '0.123'],
      ['{neg: .2f}', '-2.50'],
      ['{x:.10g}', '0.000123456'],
      ['{epoch:.2f}', '3.00'],
      ['{epoch:+d}', '+3'],
    ];
    for (const [template, expected] of cases) assert.equal(formatPlaceholders('t', template, v), expected, template);
    assert.throws(() => formatPlaceholders('t', '{val_loss:d}', v), /needs an integer/);
  });
});

/** A callback that records the learning rate each epoch trains with. */
function lrRecorder(model: FakeModel, into: number[]): Callback {
  return { onEpochBegin: () => void into.push(model.optimizer!.currentLearningRate()) };
}

describe('learningRateScheduler', () => {
  for (const backend of BACKENDS) {
    it(`sets the rate at each epoch's start, logs it, and SGD uses it (${backend})`, () =>
      withBackendAsync(backend, async () => {
        const model = new AsyncReadModel(st.optimizers.sgd({ learningRate: 0.1 }));
        await model.refresh();
        const initial = model.values();
        const schedule = (epoch: number, lr: number) => (epoch < 2 ? lr : lr * Math.exp(-0.1));
        const seen: number[] = [];
        const history = new History();
        const list = new CallbackList(
          [callbacks.learningRateScheduler(schedule), lrRecorder(model, seen), history, model.refresher],
          model,
          params(5),
        );
        await train(list, model, series('val_loss', [1, 1, 1, 1, 1]));
        await model.refresh();
        const expected = [0.1, 0.1, 0.1 * Math.exp(-0.1), 0.1 * Math.exp(-0.2), 0.1 * Math.exp(-0.3)];
        assertClose(seen, expected, 1e-12, 0);
        assertClose(history.history.learning_rate, expected, 1e-12, 0);
        // Two SGD steps per epoch with a gradient of ones: w = w0 - 2 * sum(lr).
        const moved = 2 * expected.reduce((a, b) => a + b, 0);
        model.values().forEach((w, i) =>
          assertClose(
            w,
            initial[i].map((x) => x - moved),
            1e-5,
            1e-6,
          ),
        );
      }));
  }

  it('refuses a non-finite rate and an optimizer driven by a schedule', async () => {
    await assert.rejects(
      run([callbacks.learningRateScheduler(() => NaN)], series('val_loss', [1])),
      /must return a finite number >= 0; at epoch 0 it returned NaN/,
    );
    const scheduled = new FakeModel(
      st.optimizers.sgd({ learningRate: st.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 }) }),
    );
    await assert.rejects(run([callbacks.learningRateScheduler((_e, lr) => lr)], series('val_loss', [1]), scheduled), /is a schedule/);
    await assert.rejects(run([callbacks.reduceLROnPlateau()], series('val_loss', [1]), new FakeModel(null)), /has no optimizer/);
  });
});

/** Keras 3's ReduceLROnPlateau, restated: the rate each epoch trains with. */
function referencePlateau(
  values: number[],
  lr0: number,
  o: { factor: number; patience: number; cooldown: number; minLr: number; minDelta: number },
): number[] {
  let lr = lr0,
    best = Infinity,
    wait = 0,
    cooldown = 0;
  const used: number[] = [];
  for (const v of values) {
    used.push(lr);
    if (cooldown > 0) {
      cooldown--;
      wait = 0;
    }
    if (v < best - o.minDelta) {
      best = v;
      wait = 0;
    } else if (cooldown === 0 && ++wait >= o.patience && lr > o.minLr) {
      lr = Math.max(lr * o.factor, o.minLr);
      cooldown = o.cooldown;
      wait = 0;
    }
  }
  return used;
}

describe('reduceLROnPlateau', () => {
  it('reduces after patience, waits out the cooldown and stops at minLr', async () => {
    // A flat loss: reductions at e2, e4, e6 (each cooldown epoch resets wait), the last one
    // clipped to minLr 0.2; at e8 the rate already equals minLr, so nothing changes.
    const model = new FakeModel(st.optimizers.sgd({ learningRate: 1 }));
    const seen: number[] = [];
    const history = new History();
    const plateau = callbacks.reduceLROnPlateau({ factor: 0.5, patience: 2, cooldown: 1, minLr: 0.2 });
    await train(new CallbackList([plateau, lrRecorder(model, seen), history], model, params(10)), model, series('val_loss', Array(10).fill(1)));
    const expected = [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2];
    assert.deepEqual(seen, expected);
    // learning_rate is logged before the epoch's reduction: the rate the epoch trained with.
    assert.deepEqual(history.history.learning_rate, expected);
    assert.equal(model.optimizer!.currentLearningRate(), 0.2);
  });

  it('matches the reference on random sequences', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const [f, p, c, m] = randomValues(4, seed * 13, 0, 1);
      const o = { factor: 0.1 + 0.8 * f, patience: Math.floor(p * 3), cooldown: Math.floor(c * 3), minLr: m < 0.5 ? 0 : 0.01, minDelta: 1e-4 };
      // A noisy decreasing loss, so both improvements and plateaus happen.
      const values = randomValues(15, seed, 0, 1).map((n, i) => 1 / (1 + 0.2 * i) + 0.3 * n);
      const model = new FakeModel(st.optimizers.sgd({ learningRate: 0.1 }));
      const seen: number[] = [];
      await train(new CallbackList([callbacks.reduceLROnPlateau(o), lrRecorder(model, seen)], model, params(15)), model, series('val_loss', values));
      assertClose(seen, referencePlateau(values, 0.1, o), 1e-12, 0, `seed ${seed}`);
    }
  });

  it('rejects factor >= 1 and unknown options', () => {
    assert.throws(() => callbacks.reduceLROnPlateau({ factor: 1 }), /factor must be below 1/);
    assert.throws(() => callbacks.reduceLROnPlateau({ min_lr: 0.1 } as never), /unknown option 'min_lr'/);
  });
});

describe('csvLogger', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-csv-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes a sorted header with val_ columns, one row as each epoch ends', async () => {
    const filename = join(dir, 'log.csv');
    const rows: string[] = [];
    const lines: string[] = [];
    // A callback after the logger reads the file while training is still going.
    const reader: Callback = { onEpochEnd: async () => void lines.push(await readFile(filename, 'utf8')) };
    const [a, l] = randomValues(2, 5, 0, 1);
    await run(
      [callbacks.csvLogger({ filename }), reader],
      [
        { loss: l, accuracy: a },
        { loss: 0.25, accuracy: 0.5, val_loss: 0.75, val_accuracy: 0.125 },
      ],
    );
    rows.push('epoch,accuracy,loss,val_accuracy,val_loss', `0,${a},${l},NA,NA`, '1,0.5,0.25,0.125,0.75');
    assert.equal(lines[0], `${rows.slice(0, 2).join('\n')}\n`);
    assert.equal(lines[1], `${rows.join('\n')}\n`);
    // Values survive the round trip exactly.
    const cells = lines[1].split('\n')[1].split(',');
    assert.equal(Number(cells[1]), a);
    assert.equal(Number(cells[2]), l);
  });

  it('appends without a second header, with a custom separator, and replaces otherwise', async () => {
    const filename = join(dir, 'append.csv');
    await run([callbacks.csvLogger({ filename, separator: ';' })], [{ loss: 1, val_loss: 2 }]);
    await run([callbacks.csvLogger({ filename, separator: ';', append: true })], [{ val_loss: 4, loss: 3 }]);
    assert.equal(await readFile(filename, 'utf8'), 'epoch;loss;val_loss\n0;1;2\n0;3;4\n');
    await run([callbacks.csvLogger({ filename, separator: ';' })], [{ loss: 5, val_loss: 6 }]);
    assert.equal(await readFile(filename, 'utf8'), 'epoch;loss;val_loss\n0;5;6\n');
  });

  it('keeps the finished rows intact when training fails', async () => {
    const filename = join(dir, 'crash.csv');
    await writeFile(filename, 'stale');
    const boom: Callback = {
      onEpochEnd: (e) => {
        if (e === 1) throw new Error('boom at epoch 1');
      },
    };
    await assert.rejects(run([callbacks.csvLogger({ filename }), boom], [{ loss: 0.5 }, { loss: 0.25 }, { loss: 0.125 }]), /boom at epoch 1/);
    assert.equal(await readFile(filename, 'utf8'), 'epoch,loss,val_loss\n0,0.5,NA\n1,0.25,NA\n');
  });
});

describe('optimizer learning rate', () => {
  it('is settable, validated and reflected in getConfig', () => {
    const opt = st.optimizers.adam({ learningRate: 0.01 });
    opt.learningRate = 0.5;
    assert.equal(opt.currentLearningRate(), 0.5);
    assert.equal(opt.getConfig().learningRate, 0.5);
    opt.setLearningRate((step) => 1 / (step + 2));
    assert.equal(opt.currentLearningRate(), 0.5);
    assert.equal(opt.getConfig().learningRate, 'custom function');
    assert.throws(() => (opt.learningRate = -1), /learningRate must be a finite number >= 0/);
    assert.throws(() => opt.setLearningRate('fast' as never), /learningRate must be a number, a schedule/);
  });
});
