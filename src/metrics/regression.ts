import { checkKeys } from '../core/options.js';
import { abs, cast, square, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduction.js';
import type { Tensor } from '../tensor/tensor.js';
import { MeanMetricWrapper, sameShapePair } from './metric.js';
import type { NameOption } from './accuracy.js';

// Regression metrics: Keras 3's per-sample mean over the last axis, averaged over samples (with
// sample weights when given). A rank-1 batch [N] is N samples of one value each.

function perSample(metric: string, yTrue: Tensor, yPred: Tensor, elementwise: (d: Tensor) => Tensor): Tensor {
  const [t, p] = sameShapePair(metric, yTrue, yPred);
  const dt = t.dtype === 'float64' || p.dtype === 'float64' ? 'float64' : 'float32';
  const values = elementwise(sub(cast(p, dt), cast(t, dt)));
  return values.rank >= 2 ? mean(values, -1) : values;
}

export const squaredErrorValues = (yTrue: Tensor, yPred: Tensor, metric = 'mean_squared_error'): Tensor => perSample(metric, yTrue, yPred, square);
export const absoluteErrorValues = (yTrue: Tensor, yPred: Tensor, metric = 'mean_absolute_error'): Tensor => perSample(metric, yTrue, yPred, abs);

export function meanSquaredError(options: NameOption = {}): MeanMetricWrapper {
  checkKeys('meanSquaredError', options, ['name']);
  const { name = 'mean_squared_error' } = options;
  return new MeanMetricWrapper(name, (t, p) => squaredErrorValues(t, p, name));
}

export function meanAbsoluteError(options: NameOption = {}): MeanMetricWrapper {
  checkKeys('meanAbsoluteError', options, ['name']);
  const { name = 'mean_absolute_error' } = options;
  return new MeanMetricWrapper(name, (t, p) => absoluteErrorValues(t, p, name));
}

/** sqrt of the streamed mean squared error (not the mean of per-batch roots), as in Keras. */
export class RootMeanSquaredError extends MeanMetricWrapper {
  constructor(options: NameOption = {}) {
    checkKeys('rootMeanSquaredError', options, ['name']);
    const name = options.name ?? 'root_mean_squared_error';
    super(name, (t, p) => squaredErrorValues(t, p, name));
  }

  override result(): number {
    return Math.sqrt(super.result());
  }
}

export function rootMeanSquaredError(options: NameOption = {}): RootMeanSquaredError {
  return new RootMeanSquaredError(options);
}
