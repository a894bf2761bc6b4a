import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys, checkOneOf } from '../core/options.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { matmul } from './linalg.js';
import { floating } from './math-extra.js';
import type { TensorInput } from './operand.js';
import { max } from './reduction.js';
import { gather, reshape, transpose } from './shape-ops.js';

// Note [Adaptive pooling windows]
// Adaptive pooling makes a given number of outputs per spatial axis whatever the input's size:
// output i of an axis of length L pools the steps [floor(i·L/n), ceil((i + 1)·L/n)), PyTorch's
// rule, which Keras 3's adaptive_average_pool and adaptive_max_pool follow. Windows are boxes (a
// product of per-axis windows), so pooling a box is pooling one axis after another. Per axis,
// the average is a matmul with an [L, n] matrix holding 1/len(window) in each window, and the
// maximum a gather of each window's steps (padded to the longest window by repeating its last
// step, which cannot change a maximum) then a max: both ordinary ops, so gradients come free.

/** [start, end) of the n adaptive windows over L steps. */
export function adaptiveWindows(length: number, n: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => [Math.floor((i * length) / n), Math.ceil(((i + 1) * length) / n)]);
}

/** Pools one axis (not the last) of x to n outputs. */
function poolAxis(x: Tensor, axis: number, n: number, kind: 'average' | 'max'): Tensor {
  const length = x.shape[axis];
  const windows = adaptiveWindows(length, n);
  if (kind === 'average') {
    const weights = new Float64Array(length * n);
    windows.forEach(([s, e], i) => {
      for (let t = s; t < e; t++) weights[t * n + i] = 1 / (e - s);
    });
    // The axis moves last, meets the [L, n] matrix, and moves back.
    const order = [...x.shape.keys()].filter((a) => a !== axis).concat(axis);
    const moved = transpose(x, order);
    const pooled = matmul(reshape(moved, [-1, length]), tensor(weights, [length, n], x.dtype));
    const back = reshape(pooled, [...moved.shape.slice(0, -1), n]);
    const inverse = order.map((_, i) => order.indexOf(i));
    return transpose(back, inverse);
  }
  const widest = Math.max(...windows.map(([s, e]) => e - s));
  const index = new Int32Array(n * widest);
  windows.forEach(([s, e], i) => {
    for (let k = 0; k < widest; k++) index[i * widest + k] = Math.min(s + k, e - 1);
  });
  const picked = gather(x, tensor(index, [n * widest], 'int32'), axis);
  const split = reshape(picked, [...x.shape.slice(0, axis), n, widest, ...x.shape.slice(axis + 1)]);
  return max(split, axis + 1);
}

/** Options of st.adaptiveAveragePool and st.adaptiveMaxPool. */
export interface AdaptivePoolOptions {
  /** Only 'channelsLast' ([batch, ...spatial, channels]), Keras's default. */
  dataFormat?: 'channelsLast';
}

function adaptivePool(
  op: string,
  kind: 'average' | 'max',
  x: TensorInput,
  outputSize: number | readonly number[],
  options: AdaptivePoolOptions,
): Tensor {
  checkKeys(op, options, ['dataFormat']);
  checkOneOf(op, 'dataFormat', options.dataFormat ?? 'channelsLast', ['channelsLast'] as const);
  const t = floating(op, x);
  const spatial = t.rank - 2;
  if (spatial < 1 || spatial > 3)
    throw new ShapeError(`${op}: x must be [batch, ...1 to 3 spatial axes, channels] (rank 3, 4 or 5); received ${fmtShape(t.shape)}`);
  const sizes = typeof outputSize === 'number' ? new Array<number>(spatial).fill(outputSize) : [...outputSize];
  if (sizes.length !== spatial || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new ValueError(
      `${op}: outputSize must be a positive integer or ${spatial} of them for ${fmtShape(t.shape)}; received ${fmtValue(outputSize)}`,
    );
  }
  for (let i = 0; i < spatial; i++) {
    if (t.shape[i + 1] === 0) throw new ShapeError(`${op}: spatial axis ${i + 1} of ${fmtShape(t.shape)} is empty`);
  }
  let y = t;
  // An axis already of the output size has one-step windows: nothing to pool.
  sizes.forEach((s, i) => {
    if (s !== y.shape[i + 1]) y = poolAxis(y, i + 1, s, kind);
  });
  return y;
}

/**
 * Average pooling to a fixed output size per spatial axis (Keras's adaptive_average_pool): x
 * channels-last [batch, ...1 to 3 spatial axes, channels]; output i pools the steps
 * [floor(i·L/n), ceil((i + 1)·L/n)) (Note [Adaptive pooling windows]).
 * @throws ShapeError for another rank; ValueError for a bad outputSize.
 */
export function adaptiveAveragePool(x: TensorInput, outputSize: number | readonly number[], options: AdaptivePoolOptions = {}): Tensor {
  return adaptivePool('adaptiveAveragePool', 'average', x, outputSize, options);
}

/**
 * Max pooling to a fixed output size per spatial axis (Keras's adaptive_max_pool), with the
 * windows of adaptiveAveragePool.
 * @throws ShapeError for another rank; ValueError for a bad outputSize.
 */
export function adaptiveMaxPool(x: TensorInput, outputSize: number | readonly number[], options: AdaptivePoolOptions = {}): Tensor {
  return adaptivePool('adaptiveMaxPool', 'max', x, outputSize, options);
}
