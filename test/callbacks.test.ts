// Callbacks driven through CallbackList by a small fake trainer: synthetic logs in, and the
// effects checked against Keras 3's rules, either hand-derived for a short sequence (the
// derivation is in the comment) or replayed by a plain reference written here from Keras's
// description, on random sequences.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as st from '../src/index.js';
import {
  CallbackList,
  EarlyStopping,
  History,
  ProgressBar,
  callbacks,
  formatPlaceholders,
  type Callback,
  type CallbackModel,
  type Logs,
  type ProgressStream,
  type TrainingParams,
} from '../src/callbacks/index.js';
import { assertClose, randomValues, withBackendAsync } from './helpers.js';

const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);

/** A stand-in for Model: two variables, a real optimizer, saves recorded instead of written. */
class FakeModel implements CallbackModel {
  stopTraining = false;
  readonly weights = [st.variable(st.tensor(randomValues(6, 3), [2, 3])), st.variable(st.tensor(randomValues(3, 4), [3]))];
  readonly saved: string[] = [];
  constructor(readonly optimizer: st.Optimizer | null = st.optimizers.sgd({ learningRate: 0.1 })) {}
  getWeights(): st.Tensor[] {
    return this.weights.map((w) => st.tensor(w.dataSync(), [...w.shape]));
  }
  setWeights(weights: readonly st.Tensor[]): void {
    weights.forEach((w, i) => this.weights[i].assign(w));
  }
  async save(path: string): Promise<void> {
    this.saved.push(path);
  }
  values(): number[][] {
    return this.weights.map((w) => Array.from(w.dataSync()));
  }
}

const params = (epochs: number, steps = 2): TrainingParams => ({ epochs, steps, samples: steps * 32, verbose: 0, batchSize: 32 });

interface RunResult {
  epochsRun: number;
  /** The model's weights at the end of each epoch that ran. */
  weightsAt: number[][][];
}

/**
 * What fit does with callbacks: every epoch runs `steps` batches, each one SGD step with a
 * gradient of ones (so the weights move by the learning rate each batch), then reports `epochLogs[e]`.
 */
async function train(list: CallbackList, model: FakeModel, epochLogs: Logs[], steps = 2): Promise<RunResult> {
  const weightsAt: number[][][] = [];
  await list.onTrainBegin();
  let epoch = 0;
  for (; epoch < epochLogs.length && !model.stopTraining; epoch++) {
    await list.onEpochBegin(epoch);
    for (let b = 0; b < steps; b++) {
      await list.onBatchBegin(b);
      model.optimizer?.applyGradients(model.weights.map((variable) => ({ variable, grad: st.onesLike(variable) })));
      await list.onBatchEnd(b, { loss: epochLogs[epoch].loss ?? 0 });
    }
    await list.onEpochEnd(epoch, { ...epochLogs[epoch] });
    weightsAt.push(model.values());
  }
  await list.onTrainEnd();
  return { epochsRun: epoch, weightsAt };
}

async function run(cbs: Callback[], epochLogs: Logs[], model = new FakeModel(), steps = 2): Promise<RunResult & { model: FakeModel }> {
  const list = new CallbackList(cbs, model, params(epochLogs.length, steps));
  return { ...(await train(list, model, epochLogs, steps)), model };
}

const series = (key: string, values: number[]): Logs[] => values.map((v) => ({ loss: v, [key]: v }));

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
        const r = await run([es], series('val_loss', [0.9, 0.5, 0.7, 0.6, 0.4]));
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
        const model = new FakeModel(st.optimizers.sgd({ learningRate: 0.1 }));
        const initial = model.values();
        const schedule = (epoch: number, lr: number) => (epoch < 2 ? lr : lr * Math.exp(-0.1));
        const seen: number[] = [];
        const history = new History();
        const list = new CallbackList([callbacks.learningRateScheduler(schedule), lrRecorder(model, seen), history], model, params(5));
        await train(list, model, series('val_loss', [1, 1, 1, 1, 1]));
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

/** A stream that keeps what is written; a terminal when `tty`. */
function captureStream(tty: boolean): ProgressStream & { text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  if (tty) {
    stream.isTTY = true;
    stream.columns = 160;
  }
  return Object.assign(stream, { text: () => chunks.join('') });
}

/** A clock that advances by the given milliseconds at each reading. */
function steppingClock(steps: number[]): () => number {
  let t = 0,
    i = 0;
  return () => (t += steps[Math.min(i++, steps.length - 1)]);
}

describe('progressBar', () => {
  const logs: Logs[] = [
    { loss: 0.23514, accuracy: 0.93006, val_loss: 0.30001, val_accuracy: 0.0001234 },
    { loss: 12.5, accuracy: 0.95, val_loss: 0.25, val_accuracy: 0.9 },
  ];

  for (const [verbose, tty] of [
    [1, false],
    [2, false],
    [2, true],
  ] as const) {
    it(`writes one plain line per epoch (verbose ${verbose}, ${tty ? 'terminal' : 'not a terminal'})`, async () => {
      const stream = captureStream(tty);
      // Each epoch: the clock is read at epoch begin and at epoch end, 12.3 s apart.
      const bar = callbacks.progressBar({ verbose, stream, clock: steppingClock([0, 12300, 0, 75000]) });
      await run([bar], logs, new FakeModel(), 3);
      assert.equal(
        stream.text(),
        [
          'Epoch 1/2 - 12.3s - 3/3 - loss: 0.2351 - accuracy: 0.9301 - val_loss: 0.3000 - val_accuracy: 1.2340e-04\n',
          'Epoch 2/2 - 1m 15s - 3/3 - loss: 12.5000 - accuracy: 0.9500 - val_loss: 0.2500 - val_accuracy: 0.9000\n',
        ].join(''),
      );
    });
  }

  it('batchEnd reads the logs only for a callback that wants them now, and hands the others the last ones read', async () => {
    const seen: Array<[number, Record<string, number> | undefined]> = [];
    const sparse: st.Callback = {
      wantsLogs: (batch) => batch % 3 === 2,
      onBatchEnd: (batch, logs) => void seen.push([batch, logs as Record<string, number>]),
    };
    const timer: st.Callback = { wantsLogs: () => false, onBatchEnd: () => {} };
    const list = new CallbackList([timer, sparse], new FakeModel(), params(1, 6));
    let reads = 0;
    for (let b = 0; b < 6; b++) await list.batchEnd('onBatchEnd', b, async () => ({ loss: ++reads }));
    assert.equal(reads, 2, 'batches 2 and 5 read');
    assert.deepEqual(seen, [
      [0, {}],
      [1, {}],
      [2, { loss: 1 }],
      [3, { loss: 1 }],
      [4, { loss: 1 }],
      [5, { loss: 2 }],
    ]);
    // A callback without wantsLogs reads every batch, as before.
    const every = new CallbackList([{ onBatchEnd: () => {} }], new FakeModel(), params(1, 3));
    for (let b = 0; b < 3; b++) await every.batchEnd('onBatchEnd', b, async () => ({ loss: ++reads }));
    assert.equal(reads, 5);
  });

  it('draws a live line on a terminal, then replaces it by the epoch line', async () => {
    const stream = captureStream(true);
    const bar = new ProgressBar({ stream, clock: () => 0 });
    const model = new FakeModel();
    const list = new CallbackList([bar], model, { epochs: 2, steps: 4, samples: 120, verbose: 1, batchSize: 32 });
    await list.onTrainBegin();
    await list.onEpochBegin(0);
    await list.onBatchEnd(0, { loss: 0.5 });
    assert.ok(bar.live);
    const text = stream.text();
    assert.match(text, /Epoch 1\/2 \[=*>?\.*\] [01]\/4/);
    await list.onEpochEnd(0, { loss: 0.25, val_loss: 0.5 });
    await list.onTrainEnd();
    assert.ok(stream.text().endsWith('Epoch 1/2 - 0.0s - 1/4 - loss: 0.2500 - val_loss: 0.5000\n'));
  });

  it('shows progress, ETA, throughput and running logs in the live line', async () => {
    const stream = captureStream(false);
    // Epoch begins at t = 1000 ms; the line is read at t = 3000 ms after 1 of 4 batches.
    const times = [1000, 3000];
    const bar = new ProgressBar({ stream, clock: () => times.shift() ?? 3000 });
    const list = new CallbackList([bar], new FakeModel(), { epochs: 3, steps: 4, samples: 100, verbose: 1, batchSize: 32 });
    await list.onEpochBegin(1);
    await list.onBatchEnd(0, { loss: 0.5, accuracy: 0.75 });
    // 32 samples in 2 s; 3 batches left at 2 s each.
    assert.equal(bar.liveLine(), 'Epoch 2/3 [=====>..............] 1/4 - 2.0s - ETA 6.0s - loss: 0.5000 - accuracy: 0.7500 - 16.0 samples/s');
  });

  it('is added by CallbackList for verbose 1 and 2, and History with it', () => {
    const model = new FakeModel();
    const quiet = new CallbackList([], model, params(1), { addHistory: true, addProgressBar: true });
    assert.equal(quiet.callbacks.length, 1);
    assert.ok(quiet.history instanceof History);
    const loud = new CallbackList([], model, { ...params(1), verbose: 2 }, { addHistory: true, addProgressBar: true });
    assert.equal((loud.callbacks[1] as ProgressBar).verbose, 2);
    const own = new ProgressBar();
    assert.deepEqual(new CallbackList([own], model, { ...params(1), verbose: 1 }, { addProgressBar: true }).callbacks, [own]);
  });
});

describe('CallbackList', () => {
  it('calls hooks in order, awaiting async ones, sharing one logs object', async () => {
    const events: string[] = [];
    const slow: Callback = {
      async onEpochEnd(epoch, logs) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        logs!.extra = epoch * 10;
        events.push(`slow ${epoch}`);
      },
    };
    const lambda = callbacks.lambdaCallback({
      onTrainBegin: () => void events.push('begin'),
      onEpochEnd: (epoch, logs) => void events.push(`lambda ${epoch} extra=${logs!.extra}`),
      onTrainEnd: () => void events.push('end'),
    });
    const history = new History();
    await run([slow, lambda, history], series('val_loss', [3, 2]));
    assert.deepEqual(events, ['begin', 'slow 0', 'lambda 0 extra=0', 'slow 1', 'lambda 1 extra=10', 'end']);
    assert.deepEqual(history.epoch, [0, 1]);
    assert.deepEqual(history.history, { loss: [3, 2], val_loss: [3, 2], extra: [0, 10] });
  });

  it('hands the model and params to callbacks that want them', () => {
    const model = new FakeModel();
    const got: { model?: CallbackModel; params?: TrainingParams } = {};
    const cb: Callback = { setModel: (m) => void (got.model = m), setParams: (p) => void (got.params = p) };
    new CallbackList([cb], model, params(7));
    assert.equal(got.model, model);
    assert.equal(got.params?.epochs, 7);
  });

  it('propagates a hook error unchanged and stops calling later callbacks', async () => {
    let reached = false;
    class Failing implements Callback {
      onEpochEnd(): void {
        throw new st.ValueError('failing: epoch end');
      }
    }
    await assert.rejects(
      run([new Failing(), { onEpochEnd: () => void (reached = true) }], series('loss', [1])),
      (e: Error) => e instanceof st.ValueError && e.message === 'failing: epoch end',
    );
    assert.equal(reached, false);
  });

  it('rejects things that are not callbacks', () => {
    const model = new FakeModel();
    assert.throws(() => new CallbackList([42 as never], model, params(1)), /callbacks\[0\] must be an object/);
    assert.throws(() => new CallbackList([{ on_epoch_end: () => {} } as never], model, params(1)), /camelCase/);
    assert.throws(() => new CallbackList([{ onEpochEnd: 3 } as never], model, params(1)), /onEpochEnd must be a function/);
    assert.throws(() => new CallbackList([{ onEpochEnds: () => {} } as never], model, params(1)), /defines none of the hooks/);
    assert.throws(() => callbacks.lambdaCallback({ onEpochEnds: () => {} } as never), /unknown option 'onEpochEnds'/);
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
