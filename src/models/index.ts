import { Model, type ModelArgs } from './model.js';
import { Sequential, type SequentialArgs } from './sequential.js';

export { Model, Sequential, type ModelArgs, type SequentialArgs };
export { loadModel, type LoadOptions } from './load.js';
export type { TrainingPosition, CompileArgs, FitArgs, EvaluateArgs, PredictArgs, XInput, YInput, ClassWeight, TrainOnBatchArgs, TestOnBatchArgs } from './trainer.js';
export type { SummaryOptions } from './summary.js';

/** A stack of layers: `st.sequential({layers: [...]})` or `model.add(layer)`. */
export const sequential = (args: SequentialArgs = {}): Sequential => new Sequential(args);

/** A functional model over `st.layers.input()` tensors: `st.model({inputs, outputs})`. */
export const model = (args: ModelArgs): Model => new Model(args);
