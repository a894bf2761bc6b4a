import { Model, type ModelArgs } from './model.js';
import { Sequential, type SequentialArgs } from './sequential.js';

export { Model, Sequential, type ModelArgs, type SequentialArgs };
export { loadModel, type LoadOptions } from './load.js';
export { registerModelStore, type ModelStore, type StoredModel } from './model-stores.js';
export type { SaveOptions, EncodedModel, ManifestBody } from './model-encode.js';
export type { NamedBlob } from './files-source.js';
export type { Manifest, TrainingConfig } from './manifest.js';
export type { FileRecord } from '../io/file-record.js';
export type {
  TrainingPosition,
  CompileArgs,
  FitArgs,
  EvaluateArgs,
  PredictArgs,
  XInput,
  YInput,
  ClassWeight,
  TrainOnBatchArgs,
  TestOnBatchArgs,
} from './trainer.js';
export type { SummaryOptions } from './summary.js';

/**
 * A stack of layers, each fed the previous one's output (Keras's Sequential):
 * `st.sequential({layers: [...]})`, then `model.add(layer)` for more. Give the first layer an
 * `inputShape` to build the model at once (for `summary()`); otherwise it builds on first use.
 * @example
 * ```ts
 * const model = st.sequential({
 *   layers: [
 *     st.layers.dense({ units: 64, activation: 'relu', inputShape: [784] }),
 *     st.layers.dense({ units: 10, activation: 'softmax' }),
 *   ],
 * });
 * model.summary();
 * ```
 */
export const sequential = (args: SequentialArgs = {}): Sequential => new Sequential(args);

/**
 * A functional model over `st.input()` tensors (Keras's functional API): the graph of layer
 * calls from `inputs` to `outputs`, with several inputs, outputs and shared layers allowed.
 * @throws ValueError when outputs do not depend on the inputs or inputs are not symbolic.
 * @example
 * ```ts
 * const image = st.input({ shape: [784] });
 * const hidden = st.layers.dense({ units: 64, activation: 'relu' }).apply(image);
 * const digit = st.layers.dense({ units: 10, activation: 'softmax' }).apply(hidden);
 * const parity = st.layers.dense({ units: 1, activation: 'sigmoid' }).apply(hidden);
 * const model = st.model({ inputs: image, outputs: [digit, parity] });
 * ```
 */
export const model = (args: ModelArgs): Model => new Model(args);
