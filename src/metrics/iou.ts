import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { cast, greaterEqual, mul, notEqual } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { oneHot } from '../ops/nn.js';
import { argMax } from '../ops/reduction.js';
import { broadcastTo, reshape, transpose } from '../ops/shape-ops.js';
import { noGrad } from '../tensor/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBatch, metricInput } from './metric.js';
import { SummedStateMetric } from './summed-state.js';

// Keras 3's IoU metrics (keras/src/metrics/iou_metrics.py, Keras 3.16.0). Every element of yTrue
// and yPred is one class id (or, with sparseYTrue/sparseYPred false, the argmax over `axis` of a
// score vector is); they add weighted counts to a numClasses x numClasses confusion matrix (rows:
// true class, columns: predicted). Pairs where either id is outside [0, numClasses), or the true
// id is `ignoreClass`, count nothing. The result, for the target classes c with a non-empty
// union: IoU_c = tp_c / (tp_c + fp_c + fn_c + 1e-7), summed and divided by (the number of such
// classes + 1e-7). Ids are truncated to integers as Keras's int cast does; weights stay
// fractional (Keras's default int dtype would truncate them too, with a warning).

/** Options shared by the IoU metrics. */
export interface IoUOptions {
  /** The key in the logs. */
  name?: string;
  /** The number of classes (the confusion matrix is numClasses x numClasses). Required. */
  numClasses: number;
  /** A class id whose pixels or samples are not counted (e.g. a 'void' label). */
  ignoreClass?: number;
  /** yTrue holds class ids (true, default) or score vectors to take the argmax of. */
  sparseYTrue?: boolean;
  /** yPred holds class ids (true, default) or score vectors to take the argmax of. */
  sparseYPred?: boolean;
  /** The axis of the score vectors when not sparse. Default -1. */
  axis?: number;
}

/** Options of `st.metrics.iou` and `oneHotIoU`: the classes to average over are given. */
export interface TargetIoUOptions extends IoUOptions {
  /** The classes whose IoU is averaged (each in [0, numClasses)). */
  targetClassIds: readonly number[];
}

/** Options of `st.metrics.binaryIoU`. */
export interface BinaryIoUOptions {
  /** The key in the logs. Default 'binary_iou'. */
  name?: string;
  /** Which of classes 0 and 1 to average. Default [0, 1]. */
  targetClassIds?: readonly number[];
  /** A prediction >= threshold is class 1, else class 0. Default 0.5. */
  threshold?: number;
}

const EPSILON = 1e-7;

/** Keras's IoU: the mean intersection-over-union of the target classes, from a streamed confusion matrix. */
export class IoU extends SummedStateMetric {
  /** The number of classes. */
  readonly numClasses: number;
  /** The classes whose IoU is averaged. */
  readonly targetClassIds: readonly number[];
  /** The class id not counted, if any. */
  readonly ignoreClass: number | undefined;
  /** Whether yTrue holds class ids (else score vectors). */
  readonly sparseYTrue: boolean;
  /** Whether yPred holds class ids (else score vectors). */
  readonly sparseYPred: boolean;
  /** The axis of the score vectors. */
  readonly axis: number;

  constructor(options: TargetIoUOptions, op = 'iou', defaultName = 'iou', extraKeys: readonly string[] = []) {
    checkKeys(op, options, ['name', 'numClasses', 'targetClassIds', 'ignoreClass', 'sparseYTrue', 'sparseYPred', 'axis', ...extraKeys]);
    const n = options?.numClasses;
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`${op}: numClasses must be a positive integer; received ${fmtValue(n)}`);
    super(options.name ?? defaultName, n * n);
    this.numClasses = n;
    const ids = options.targetClassIds;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((c) => Number.isInteger(c) && c >= 0 && c < n)) {
      throw new ValueError(`${op}: targetClassIds must be a non-empty array of class ids in [0, ${n}); received ${fmtValue(ids)}`);
    }
    this.targetClassIds = ids.slice();
    if (options.ignoreClass !== undefined && !Number.isInteger(options.ignoreClass)) {
      throw new ValueError(`${op}: ignoreClass must be an integer; received ${fmtValue(options.ignoreClass)}`);
    }
    this.ignoreClass = options.ignoreClass;
    this.sparseYTrue = options.sparseYTrue ?? true;
    this.sparseYPred = options.sparseYPred ?? true;
    this.axis = options.axis ?? -1;
  }

  /** The class ids of yPred (thresholded in BinaryIoU). */
  protected predictedIds(yPred: Tensor): Tensor {
    return this.sparseYPred ? yPred : argMax(yPred, this.axis);
  }

  override update(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): void {
    noGrad(() => {
      let t = metricInput(this.name, 'yTrue', yTrue),
        p = metricInput(this.name, 'yPred', yPred);
      checkBatch(this.name, t, p);
      if (!this.sparseYTrue) t = argMax(t, this.axis);
      p = this.predictedIds(p);
      const ids = (x: Tensor) => cast(reshape(x, [x.size]), 'int32');
      const [ti, pi] = [ids(t), ids(p)];
      if (ti.size !== pi.size) {
        throw new ShapeError(
          `${this.name}: yTrue and yPred must hold as many class ids; yTrue is ${fmtShape(yTrue.shape)}, yPred is ${fmtShape(yPred.shape)}`,
        );
      }
      // Counts are float64 when the inputs are (exact weights), float32 otherwise.
      const dt = yPred.dtype === 'float64' || sampleWeight?.dtype === 'float64' ? 'float64' : 'float32';
      let w =
        sampleWeight === undefined || sampleWeight === null
          ? undefined
          : cast(reshape(metricInput(this.name, 'sampleWeight', sampleWeight), [-1]), dt);
      if (w && w.size !== ti.size) {
        if (w.size !== 1) {
          throw new ShapeError(
            `${this.name}: sampleWeight must have one entry per class id (${ti.size}) or be a scalar; received ${fmtShape(sampleWeight!.shape)}`,
          );
        }
        w = broadcastTo(w, [ti.size]);
      }
      if (this.ignoreClass !== undefined) {
        const keep = cast(notEqual(ti, this.ignoreClass), dt);
        w = w ? mul(w, keep) : keep;
      }
      // Out-of-range ids give all-zero one-hot rows, so such pairs add nothing.
      const trueRows = cast(oneHot(ti, this.numClasses, { dtype: 'float32' }), dt);
      const predRows = cast(oneHot(pi, this.numClasses, { dtype: 'float32' }), dt);
      const weightedTrue = w ? mul(trueRows, reshape(w, [ti.size, 1])) : trueRows;
      this.addSums(matmul(transpose(weightedTrue, [1, 0]), predRows));
    });
  }

  /** The IoU of each target class (0 for a class with an empty union). */
  perClass(): number[] {
    const cm = this.totals(),
      n = this.numClasses;
    return this.targetClassIds.map((c) => {
      let predicted = 0,
        actual = 0;
      for (let k = 0; k < n; k++) {
        predicted += cm[k * n + c];
        actual += cm[c * n + k];
      }
      const tp = cm[c * n + c];
      const union = predicted + actual - tp;
      return union > 1e-9 ? tp / (union + EPSILON) : 0;
    });
  }

  override result(): number {
    const cm = this.totals(),
      n = this.numClasses;
    let valid = 0;
    for (const c of this.targetClassIds) {
      let union = -cm[c * n + c];
      for (let k = 0; k < n; k++) union += cm[k * n + c] + cm[c * n + k];
      if (union > 1e-9) valid++;
    }
    return this.perClass().reduce((a, b) => a + b, 0) / (valid + EPSILON);
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = {
      name: this.name,
      numClasses: this.numClasses,
      targetClassIds: this.targetClassIds.slice(),
      sparseYTrue: this.sparseYTrue,
      sparseYPred: this.sparseYPred,
      axis: this.axis,
    };
    if (this.ignoreClass !== undefined) config.ignoreClass = this.ignoreClass;
    return config;
  }
}

/** Keras's BinaryIoU: IoU over classes 0 and 1 with predictions thresholded (>= threshold is 1). */
export class BinaryIoU extends IoU {
  /** A prediction at or above it is class 1. */
  readonly threshold: number;

  constructor(options: BinaryIoUOptions = {}) {
    checkKeys('binaryIoU', options, ['name', 'targetClassIds', 'threshold']);
    super({ numClasses: 2, targetClassIds: options.targetClassIds ?? [0, 1], name: options.name ?? 'binary_iou' }, 'binaryIoU', 'binary_iou');
    const threshold = options.threshold ?? 0.5;
    if (typeof threshold !== 'number' || Number.isNaN(threshold))
      throw new ValueError(`binaryIoU: threshold must be a number; received ${fmtValue(threshold)}`);
    this.threshold = threshold;
  }

  protected override predictedIds(yPred: Tensor): Tensor {
    return cast(greaterEqual(yPred, this.threshold), 'int32');
  }

  override getConfig(): Record<string, unknown> {
    return { name: this.name, targetClassIds: this.targetClassIds.slice(), threshold: this.threshold };
  }
}

type MeanIoUOptions = IoUOptions;
const allClasses = (options: IoUOptions) =>
  Array.from({ length: Number.isInteger(options?.numClasses) && options.numClasses > 0 ? options.numClasses : 0 }, (_, i) => i);

/** IoU with every class a target (Keras's MeanIoU). */
export const meanIoU = (options: MeanIoUOptions): IoU => {
  checkKeys('meanIoU', options, ['name', 'numClasses', 'ignoreClass', 'sparseYTrue', 'sparseYPred', 'axis']);
  return new IoU({ ...options, targetClassIds: allClasses(options) }, 'meanIoU', 'mean_iou');
};
/** IoU of the given classes (Keras's IoU). */
export const iou = (options: TargetIoUOptions): IoU => new IoU(options, 'iou', 'iou');
/** IoU over one-hot labels and score vectors (Keras's OneHotIoU): both are turned into class ids by argmax. */
export const oneHotIoU = (options: Omit<TargetIoUOptions, 'sparseYTrue' | 'sparseYPred'>): IoU =>
  new IoU({ ...checkedOneHot('oneHotIoU', options), sparseYTrue: false, sparseYPred: false }, 'oneHotIoU', 'one_hot_iou');
/** MeanIoU over one-hot labels and score vectors (Keras's OneHotMeanIoU). */
export const oneHotMeanIoU = (options: Omit<IoUOptions, 'sparseYTrue' | 'sparseYPred'>): IoU =>
  new IoU(
    { ...checkedOneHot('oneHotMeanIoU', options), targetClassIds: allClasses(options), sparseYTrue: false, sparseYPred: false },
    'oneHotMeanIoU',
    'one_hot_mean_iou',
  );
/** BinaryIoU (Keras's). */
export const binaryIoU = (options: BinaryIoUOptions = {}): BinaryIoU => new BinaryIoU(options);

function checkedOneHot<T extends object>(op: string, options: T): T {
  checkKeys(
    op,
    options,
    op === 'oneHotMeanIoU' ? ['name', 'numClasses', 'ignoreClass', 'axis'] : ['name', 'numClasses', 'targetClassIds', 'ignoreClass', 'axis'],
  );
  return options;
}
