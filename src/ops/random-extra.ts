import { isFloat, type DType } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { fillRandom, nextStream, philox4x32 } from '../core/rng.js';
import { checkShape, sizeOf } from '../core/shape.js';
import { randomNormal, randomUniform, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast, div, exp, greaterEqual, lessEqual, maximum, minimum, mul, sub, where } from './elementwise.js';
import { max, sum } from './reduction.js';
import { cumsum } from './scan.js';
import { reshape, slice } from './shape-ops.js';
import { floating } from './math-extra.js';
import { asTensor, type TensorInput } from './operand.js';

// Random ops beyond the backends' uniform and normal sources. Their samples are computed on the
// host from the same Philox stream as every other random op (core/rng.ts), so a seed gives the
// same values on every backend; they carry no gradient, like their tfjs counterparts.

const TWO_POW_MINUS_24 = 1 / 16777216;

/** Uniform integers in [minval, maxval) (tfjs's randomUniformInt). Ranges wider than 2^24 are covered unevenly. */
export function randomUniformInt(shape: readonly number[], minval: number, maxval: number, seed?: number): Tensor {
  const op = 'randomUniformInt';
  const s = checkShape(op, shape as number[]);
  if (!Number.isInteger(minval) || !Number.isInteger(maxval) || !(maxval > minval)) {
    throw new ValueError(`${op}: minval and maxval must be integers with minval < maxval; received ${fmtValue(minval)}, ${fmtValue(maxval)}`);
  }
  const u = new Float64Array(sizeOf(s));
  fillRandom(u, nextStream(u.length, seed), { kind: 'uniform', min: 0, max: 1 });
  const span = maxval - minval;
  return tensor(
    Int32Array.from(u, (v) => minval + Math.min(Math.floor(v * span), span - 1)),
    s,
    'int32',
  );
}

/** A standard normal sample per element (tfjs's randomStandardNormal). */
export function randomStandardNormal(shape: readonly number[], dtype: DType = 'float32', seed?: number): Tensor {
  return randomNormal(shape, { dtype, seed });
}

/** A tensor of `shape` whose elements come from calling `randFunction` (tfjs's rand). */
export function rand(shape: readonly number[], randFunction: () => number, dtype: DType = 'float32'): Tensor {
  const s = checkShape('rand', shape as number[]);
  if (typeof randFunction !== 'function') throw new ValueError(`rand: randFunction must be a function; received ${typeof randFunction}`);
  return tensor(
    Array.from({ length: sizeOf(s) }, () => randFunction()),
    s,
    dtype,
  );
}

// Note [Gamma samples]
// Marsaglia and Tsang's method: for alpha >= 1, with d = alpha - 1/3 and c = 1/sqrt(9d), draw a
// normal z and a uniform u, set v = (1 + cz)^3, and accept d v when v > 0 and
// log u < z^2/2 + d - d v + d log v (more than 95 % of tries are accepted). For alpha < 1 the
// sample for alpha + 1 is scaled by u^(1/alpha). Element i's k-th try reads Philox block
// (offset + i) with counter word k, the way truncatedNormal redraws, so each element is a pure
// function of the seed and its position, whatever the others needed.

const u01 = (w: number) => (w >>> 8) * TWO_POW_MINUS_24;
const u01Open = (w: number) => ((w >>> 8) + 1) * TWO_POW_MINUS_24;

function gammaSample(alpha: number, block: number, key: [number, number], words: Uint32Array): number {
  const boost = alpha < 1;
  const d = (boost ? alpha + 1 : alpha) - 1 / 3,
    c = 1 / Math.sqrt(9 * d);
  const lo = block >>> 0,
    hi = Math.floor(block / 4294967296) >>> 0;
  for (let attempt = 0; ; attempt++) {
    philox4x32(lo, hi, attempt, 1, key[0], key[1], words);
    const z = Math.sqrt(-2 * Math.log(u01Open(words[0]))) * Math.cos(2 * Math.PI * u01(words[1]));
    const cube = 1 + c * z;
    if (cube <= 0) continue;
    const v = cube * cube * cube;
    if (Math.log(u01Open(words[2])) < 0.5 * z * z + d - d * v + d * Math.log(v)) {
      return boost ? d * v * Math.pow(u01Open(words[3]), 1 / alpha) : d * v;
    }
  }
}

/**
 * Gamma samples with shape parameter `alpha` and rate `beta` (mean alpha / beta), as tfjs's
 * randomGamma (Note [Gamma samples]).
 * @throws ValueError unless alpha > 0 and beta > 0, or for a non-floating dtype.
 */
export function randomGamma(shape: readonly number[], alpha: number, beta = 1, dtype: DType = 'float32', seed?: number): Tensor {
  const op = 'randomGamma';
  const s = checkShape(op, shape as number[]);
  if (!(alpha > 0) || !(beta > 0) || !Number.isFinite(alpha) || !Number.isFinite(beta)) {
    throw new ValueError(`${op}: alpha and beta must be positive and finite; received alpha ${fmtValue(alpha)}, beta ${fmtValue(beta)}`);
  }
  if (!isFloat(dtype)) throw new ValueError(`${op}: dtype must be floating; received ${dtype}`);
  const n = sizeOf(s);
  const stream = nextStream(n, seed);
  const words = new Uint32Array(4);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = gammaSample(alpha, stream.offset + i, stream.key, words) / beta;
  return tensor(out, s, dtype);
}

/**
 * Draws `numSamples` class indices per row from the categorical distributions given by `logits`
 * ([classes] or [batch, classes]; probabilities instead when `normalized`), as tfjs's
 * multinomial. The result is int32 [numSamples] or [batch, numSamples].
 */
export function multinomial(logits: TensorInput, numSamples: number, seed?: number, normalized = false): Tensor {
  const op = 'multinomial';
  const t = asTensor(op, 'logits', logits);
  if (t.rank !== 1 && t.rank !== 2) throw new ShapeError(`${op}: logits must be 1-D or 2-D; received shape ${fmtShape(t.shape)}`);
  if (!Number.isInteger(numSamples) || numSamples < 0)
    throw new ValueError(`${op}: numSamples must be a non-negative integer; received ${fmtValue(numSamples)}`);
  const classes = t.shape[t.rank - 1],
    rows = t.rank === 2 ? t.shape[0] : 1;
  if (classes < 1) throw new ShapeError(`${op}: logits need at least one class; received shape ${fmtShape(t.shape)}`);
  const u = new Float64Array(rows * numSamples);
  fillRandom(u, nextStream(u.length, seed), { kind: 'uniform', min: 0, max: 1 });
  if (t.backend.readSync === false) return multinomialOnDevice(t, u, rows, classes, numSamples, normalized);
  const values = t.dataSync();
  const out = new Int32Array(rows * numSamples);
  const cumulative = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * classes, (r + 1) * classes);
    // Unnormalized weights: exp(logit - max) or the probabilities themselves; sampling divides by the total.
    let top = -Infinity;
    if (!normalized) for (const v of row) top = Math.max(top, v);
    let total = 0;
    for (let k = 0; k < classes; k++) {
      total += normalized ? Math.max(row[k], 0) : Math.exp(row[k] - top);
      cumulative[k] = total;
    }
    if (!(total > 0) || !Number.isFinite(total)) throw new ValueError(`${op}: row ${r} holds no probability mass (or NaN)`);
    for (let j = 0; j < numSamples; j++) {
      const target = u[r * numSamples + j] * total;
      let lo = 0,
        hi = classes - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] > target) hi = mid;
        else lo = mid + 1;
      }
      out[r * numSamples + j] = lo;
    }
  }
  return tensor(out, t.rank === 2 ? [rows, numSamples] : [numSamples], 'int32');
}

/**
 * multinomial on a backend that reads only asynchronously (webgpu): the same inverse-CDF draw
 * from the same uniforms, on the device. A sample is the first class whose running total passes
 * u · total, that is the count of running totals at or below it (the last class at most). The
 * totals are float32 sums here (float64 on the host), so a uniform within rounding of a boundary
 * may pick the neighbouring class; and a row without probability mass cannot be refused without
 * a read, so it gives the last class.
 */
function multinomialOnDevice(t: Tensor, u: Float64Array, rows: number, classes: number, numSamples: number, normalized: boolean): Tensor {
  const x = reshape(cast(t, 'float32'), [rows, classes]);
  const weights = normalized ? maximum(x, 0) : exp(sub(x, max(x, -1, true)));
  const running = cumsum(weights, 1);
  const total = slice(running, [0, classes - 1], [rows, 1]);
  const target = mul(tensor(u, [rows, numSamples], 'float32'), total);
  const passed = lessEqual(reshape(running, [rows, 1, classes]), reshape(target, [rows, numSamples, 1]));
  const index = minimum(sum(cast(passed, 'int32'), -1), classes - 1);
  return t.rank === 2 ? index : reshape(index, [numSamples]);
}

/**
 * Zeroes each element of x with probability `rate` and scales the others by 1 / (1 - rate), so
 * the expectation is x (tfjs's dropout op; st.layers.dropout is the layer). `noiseShape`, which
 * must broadcast to x's shape, shares one draw along its size-1 axes. Differentiable in x.
 */
export function dropout(x: TensorInput, rate: number, noiseShape?: readonly number[], seed?: number): Tensor {
  const t = floating('dropout', x);
  if (!(rate >= 0 && rate < 1)) throw new ValueError(`dropout: rate must be in [0, 1); received ${fmtValue(rate)}`);
  if (rate === 0) return t;
  const u = randomUniform(noiseShape ?? t.shape, { seed, dtype: t.dtype });
  return where(greaterEqual(u, rate), div(t, 1 - rate), 0);
}
