// Training the Keras book's convnet in the page (the same network as `strata train`'s builtin
// convnet, src/cli/builtin-models.ts), with `fit`, reporting every step and every epoch.
import * as st from '../../browser.js';
import type { Digits } from './data.js';

export interface TrainSettings {
  images: number;
  epochs: number;
  batchSize: number;
  /** Fixes the initial weights and the shuffling (the tests use it); undefined leaves them random. */
  seed?: number;
}

export interface EpochResult {
  epoch: number;
  /** The step count at the epoch's end, where the chart puts its points. */
  step: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
}

/** What the page shows and the tests read: filled in as training runs. */
export interface TrainState {
  running: boolean;
  done: boolean;
  stopped: boolean;
  step: number;
  totalSteps: number;
  epoch: number;
  /** Each step's own loss and accuracy (not the epoch's running means fit logs). */
  losses: number[];
  accuracies: number[];
  epochs: EpochResult[];
  /** The last epoch's accuracy on the held-out test images. */
  accuracy?: number;
  msPerStep?: number;
  seconds?: number;
  error?: string;
}

export const newState = (): TrainState => ({
  running: false,
  done: false,
  stopped: false,
  step: 0,
  totalSteps: 0,
  epoch: 0,
  losses: [],
  accuracies: [],
  epochs: [],
});

/** Deep Learning with Python, ch. 8: conv 32-64-128 with max pooling, a softmax over 10 classes (104,202 parameters). */
export function convnet(): st.Model {
  return st.sequential({
    name: 'convnet',
    layers: [
      st.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
      st.layers.maxPooling2d({ poolSize: 2 }),
      st.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      st.layers.maxPooling2d({ poolSize: 2 }),
      st.layers.conv2d({ filters: 128, kernelSize: 3, activation: 'relu' }),
      st.layers.flatten(),
      st.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

export interface TrainHooks {
  /** After each step (cheap: the state only). */
  onStep(state: TrainState): void;
  /** After each epoch, awaited: the page predicts its sample digits here. */
  onEpoch(state: TrainState, model: st.Model): Promise<void>;
}

/**
 * Trains a new convnet on `train`, validating on `test` after each epoch. The model is returned at
 * once (so a Stop button can set its stopTraining) with the promise of the run.
 */
export function startTraining(
  settings: TrainSettings,
  train: Digits,
  test: Digits,
  state: TrainState,
  hooks: TrainHooks,
): { model: st.Model; finished: Promise<void> } {
  if (settings.seed !== undefined) st.setSeed(settings.seed);
  const model = convnet();
  model.compile({ optimizer: 'rmsprop', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const stepsPerEpoch = Math.ceil(train.count / settings.batchSize);
  Object.assign(state, newState(), { running: true, totalSteps: stepsPerEpoch * settings.epochs });
  // fit logs the epoch's running means after each batch; each batch's own values follow from two
  // successive means and the batch sizes (mean_b * seen_b - mean_(b-1) * seen_(b-1)) / size_b.
  let seen = 0,
    size = 0,
    lossSum = 0,
    accuracySum = 0;
  const started = performance.now();
  const callback: st.Callback = {
    onEpochBegin: (epoch) => {
      state.epoch = epoch;
      seen = lossSum = accuracySum = 0;
    },
    onBatchBegin: (_batch, logs) => void (size = logs?.size ?? settings.batchSize),
    onBatchEnd: (_batch, logs) => {
      seen += size;
      const loss = (logs?.loss ?? Number.NaN) * seen;
      const accuracy = (logs?.accuracy ?? Number.NaN) * seen;
      state.losses.push((loss - lossSum) / size);
      state.accuracies.push((accuracy - accuracySum) / size);
      lossSum = loss;
      accuracySum = accuracy;
      state.step++;
      state.msPerStep = (performance.now() - started) / state.step;
      hooks.onStep(state);
    },
    onEpochEnd: async (epoch, logs) => {
      const result = {
        epoch,
        step: state.step,
        loss: logs?.loss ?? Number.NaN,
        accuracy: logs?.accuracy ?? Number.NaN,
        valLoss: logs?.val_loss ?? Number.NaN,
        valAccuracy: logs?.val_accuracy ?? Number.NaN,
      };
      state.epochs.push(result);
      state.accuracy = result.valAccuracy;
      await hooks.onEpoch(state, model);
    },
  };
  const finished = model
    .fit(train.x, train.y, {
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      validationData: [test.x, test.y],
      verbose: 0,
      callbacks: [callback],
    })
    .then(
      () => {
        state.stopped = state.step < state.totalSteps;
        state.done = true;
      },
      (e: unknown) => {
        state.error = e instanceof Error ? e.message : String(e);
      },
    )
    .finally(() => {
      state.running = false;
      state.seconds = (performance.now() - started) / 1000;
    });
  return { model, finished };
}
