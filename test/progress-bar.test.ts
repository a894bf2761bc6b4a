// The progress bar and CallbackList's dispatch, driven by hand: a captured stream for the bar's
// output, a fake model, and the logs each hook receives (and when they are read).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import {
  CallbackList,
  History,
  ProgressBar,
  callbacks,
  type Callback,
  type CallbackModel,
  type Logs,
  type ProgressStream,
  type TrainingParams,
} from '../src/callbacks/index.js';
import { FakeModel, params, run, series } from './callback-helpers.js';

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
