// The network, built and trained by Strata: a sequential stack of dense layers over the chosen
// features, one output neuron (tanh for classification with labels ±1, linear for regression),
// plain SGD on half the mean squared error, as the TensorFlow Playground trains. This module is
// the only one that holds Strata tensors of the model.
import * as st from '../../browser.js';
import type { Problem } from './datasets.js';
import type { ActivationName, RegularizationName } from './state-url.js';

export interface NetworkConfig {
  inputs: number;
  layers: number[];
  activation: ActivationName;
  problem: Problem;
  lr: number;
  regularization: RegularizationName;
  regularizationRate: number;
  seed: number;
}

/** Everything one forward pass over the evaluation rows gives the views. */
export interface Forward {
  /** Row-major [rows, units] output of each dense layer, the last being the network's output. */
  layerOutputs: Float32Array[];
  /** Kernels [fanIn, units] and biases [units] of each dense layer, row-major. */
  kernels: Float32Array[];
  biases: Float32Array[];
}

/**
 * ½·mean((prediction − target)²): the loss the playground shows, whose gradient is the plain
 * averaged error (no factor 2), so learning rates mean what they mean on TF Playground.
 */
export const halfSquaredError = (yTrue: st.Tensor, yPred: st.Tensor): st.Tensor => st.mul(st.mean(st.square(st.sub(yPred, yTrue))), 0.5);

function regularizer(kind: RegularizationName, rate: number): st.Regularizer | null {
  if (kind === 'l1') return st.regularizers.l1({ l1: rate });
  // Keras's l2 is rate·Σw² (gradient 2·rate·w); the playground's penalty is ½·rate·w² (gradient rate·w).
  if (kind === 'l2') return st.regularizers.l2({ l2: rate / 2 });
  return null;
}

export class Network {
  readonly model: st.Sequential;
  readonly dense: st.Dense[];
  private readonly optimizer: st.Optimizer;

  constructor(readonly config: NetworkConfig) {
    // The seed fixes the initial weights (and fit's shuffles), so a shared link trains the same way.
    st.setSeed(config.seed);
    const kernelRegularizer = regularizer(config.regularization, config.regularizationRate);
    // Small uniform weights and a slightly positive bias (so ReLU units start alive), as TF Playground starts.
    const init = () => ({
      kernelInitializer: st.initializers.randomUniform({ minval: -0.5, maxval: 0.5 }),
      biasInitializer: st.initializers.constant({ value: 0.1 }),
      kernelRegularizer,
    });
    const hidden = config.layers.map((units) => new st.Dense({ units, activation: config.activation, ...init() }));
    const output = new st.Dense({ units: 1, activation: config.problem === 'classification' ? 'tanh' : 'linear', ...init() });
    this.dense = [...hidden, output];
    this.model = st.sequential();
    this.model.add(st.layers.input({ shape: [config.inputs] }));
    for (const layer of this.dense) this.model.add(layer);
    this.optimizer = st.optimizers.sgd({ learningRate: config.lr });
    this.model.compile({ optimizer: this.optimizer, loss: halfSquaredError });
  }

  /** Takes effect at the next step, without losing the weights (as on TF Playground). */
  setLearningRate(lr: number): void {
    this.optimizer.learningRate = lr;
  }

  /** Trains `epochs` epochs over x, y with SGD in batches of `batchSize`, shuffled. */
  async fit(x: st.Tensor, y: st.Tensor, epochs: number, batchSize: number): Promise<void> {
    await this.model.fit(x, y, { epochs, batchSize, shuffle: true, verbose: 0, onNonFinite: 'continue' });
  }

  /** Asks a running fit to stop after its current batch. */
  stop(): void {
    this.model.stopTraining = true;
  }

  /**
   * Every layer's output over the rows of x, in one pass layer by layer (so the hidden neurons'
   * heat maps come from the same batched call as the decision boundary), read with `await data()`
   * (the read every backend has); the intermediate tensors are freed here.
   */
  async forward(x: st.Tensor): Promise<Forward> {
    const outs = st.noGrad(() => {
      const list: st.Tensor[] = [];
      let h = x;
      for (const layer of this.dense) {
        h = layer.apply(h) as st.Tensor;
        list.push(h);
      }
      return list;
    });
    try {
      const layerOutputs = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[];
      const kernels = (await Promise.all(this.dense.map((d) => d.kernel!.data()))) as Float32Array[];
      const biases = (await Promise.all(this.dense.map((d) => d.bias!.data()))) as Float32Array[];
      return { layerOutputs, kernels, biases };
    } finally {
      for (const t of outs) t.dispose();
    }
  }

  /** Frees the weights and the optimizer's state now rather than at the next garbage collection. */
  dispose(): void {
    for (const layer of this.dense) {
      layer.kernel?.dispose();
      layer.bias?.dispose();
    }
  }
}
