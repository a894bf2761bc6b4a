// What the callback tests share: a stand-in for the model a CallbackList drives, and the
// training parameters fit hands the callbacks.
import * as st from '../src/index.js';
import { CallbackList, type Callback, type CallbackModel, type Logs, type TrainingParams } from '../src/callbacks/index.js';
import { randomValues } from './helpers.js';

/** A stand-in for Model: two variables, a real optimizer, saves recorded instead of written. */
export class FakeModel implements CallbackModel {
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

export const params = (epochs: number, steps = 2): TrainingParams => ({ epochs, steps, samples: steps * 32, verbose: 0, batchSize: 32 });

export interface RunResult {
  epochsRun: number;
  /** The model's weights at the end of each epoch that ran. */
  weightsAt: number[][][];
}

/**
 * What fit does with callbacks: every epoch runs `steps` batches, each one SGD step with a
 * gradient of ones (so the weights move by the learning rate each batch), then reports `epochLogs[e]`.
 */
export async function train(list: CallbackList, model: FakeModel, epochLogs: Logs[], steps = 2): Promise<RunResult> {
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

export async function run(cbs: Callback[], epochLogs: Logs[], model = new FakeModel(), steps = 2): Promise<RunResult & { model: FakeModel }> {
  const list = new CallbackList(cbs, model, params(epochLogs.length, steps));
  return { ...(await train(list, model, epochLogs, steps)), model };
}

/** Epoch logs whose loss and `key` both follow `values`. */
export const series = (key: string, values: number[]): Logs[] => values.map((v) => ({ loss: v, [key]: v }));
