import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { noGrad } from '../tensor/tape.js';
import { full, tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, cast, exp, greater, less, log, maximum, neg, notEqual, sub, where } from './elementwise.js';
import { reduceLoss, type LossOptions } from './loss-common.js';
import { floating } from './math-extra.js';
import { logSoftmax } from './nn.js';
import { asTensor, requireDtype, type TensorInput } from './operand.js';
import { sum } from './reduction.js';
import { gather, pad, reshape, slice } from './shape-ops.js';

// Note [CTC by the forward recursion]
// The connectionist temporal classification loss (Graves et al., 2006) is -log of the total
// probability of the alignments of T frames that collapse to the label sequence. With the labels
// interleaved with blanks (l' = blank, l1, blank, l2, ..., blank: S = 2L + 1 states), the log
// forward variables obey
//   a_t(s) = logsumexp(a_{t-1}(s), a_{t-1}(s-1), a_{t-1}(s-2) if l'_s is no blank and differs
//            from l'_{s-2}) + log p_t(l'_s),
// which is T steps of shifts (pad and slice), a three-way logsumexp and a gather of the frame
// log-probabilities, over all samples at once; autograd differentiates the recursion, which is
// the backward recursion. States beyond a sample's own S, and impossible ones, hold -1e30 rather
// than -Infinity: a logsumexp of three -Infinity values has a NaN gradient, and -1e30 absorbs every
// log-probability added to it without overflowing float32. A sample whose labels cannot fit its
// frames (each repeated label needs a blank between) gets an Infinite loss, as in TensorFlow.

const IMPOSSIBLE = -1e30;

/** x moved `by` states to the right, IMPOSSIBLE filling the start. */
function shiftRight(x: Tensor, by: number): Tensor {
  const s = x.shape[1];
  if (by >= s) return full(x.shape, IMPOSSIBLE, x.dtype);
  return pad(
    slice(x, [0, 0], [x.shape[0], s - by]),
    [
      [0, 0],
      [by, 0],
    ],
    IMPOSSIBLE,
  );
}

/** log(sum(e^x)) of finite tensors, shifted by their maximum (cut from the tape, as st.logSumExp does). */
function logSumExpOf(...xs: Tensor[]): Tensor {
  const m = noGrad(() => xs.reduce((a, b) => maximum(a, b)));
  return add(log(xs.map((x) => exp(sub(x, m))).reduce((a, b) => add(a, b))), m);
}

function hostInts(op: string, name: string, x: TensorInput, shape: number[]): Int32Array {
  const t = asTensor(op, name, x, 'int32');
  requireDtype(op, name, t, ['int32']);
  if (fmtShape(t.shape) !== fmtShape(shape)) throw new ShapeError(`${op}: ${name} must have shape ${fmtShape(shape)}; received ${fmtShape(t.shape)}`);
  // The recursion is planned on the host from these; a backend without synchronous reads has them
  // only when it kept an uploaded copy (st.tensor's).
  const values = t.hostValues() as Int32Array | undefined;
  if (!values) {
    throw new ValueError(
      `${op}: ${name} must be known on the host, and the '${t.backend.name}' backend computed it on the device: read it first (st.tensor(await t.data(), t.shape, 'int32'))`,
    );
  }
  return values;
}

/**
 * The CTC loss of each sample (Note [CTC by the forward recursion]), as Keras's ops.ctc_loss:
 * `target` [B, L] int32 labels (the first targetLength[b] of each row count), `output` [B, T, C]
 * logits (log-softmax is applied here), `outputLength` [B] the frames of each sample, and
 * `maskIndex` the blank class. Returns [B]: -log p(target | output).
 * @throws ValueError for labels out of range or the blank among a sample's labels, lengths out of range.
 */
export function ctcLoss(target: TensorInput, output: TensorInput, targetLength: TensorInput, outputLength: TensorInput, maskIndex = 0): Tensor {
  const op = 'ctcLoss';
  const logits = floating(op, output, 'output');
  if (logits.rank !== 3) throw new ShapeError(`${op}: output must be [batch, frames, classes]; received ${fmtShape(logits.shape)}`);
  const [batch, frames, classes] = logits.shape;
  const targetT = asTensor(op, 'target', target, 'int32');
  if (targetT.rank !== 2 || targetT.shape[0] !== batch)
    throw new ShapeError(`${op}: target must be [${batch}, maxLabels]; received ${fmtShape(targetT.shape)}`);
  const maxLabels = targetT.shape[1];
  const labels = hostInts(op, 'target', targetT, [batch, maxLabels]);
  const labelLengths = hostInts(op, 'targetLength', targetLength, [batch]);
  const frameLengths = hostInts(op, 'outputLength', outputLength, [batch]);
  if (!Number.isInteger(maskIndex) || maskIndex < 0 || maskIndex >= classes)
    throw new ValueError(`${op}: maskIndex must be a class in [0, ${classes}); received ${maskIndex}`);

  const states = 2 * maxLabels + 1;
  const ext = new Int32Array(batch * states).fill(maskIndex);
  const valid = new Uint8Array(batch * states),
    skip = new Uint8Array(batch * states),
    first = new Uint8Array(batch * states);
  const ends = new Int32Array(batch * 2);
  for (let b = 0; b < batch; b++) {
    const len = labelLengths[b],
      t = frameLengths[b];
    if (!(len >= 0 && len <= maxLabels)) throw new ValueError(`${op}: targetLength[${b}] = ${len} is outside [0, ${maxLabels}]`);
    if (!(t >= 1 && t <= frames)) throw new ValueError(`${op}: outputLength[${b}] = ${t} is outside [1, ${frames}]`);
    for (let i = 0; i < len; i++) {
      const l = labels[b * maxLabels + i];
      if (!(l >= 0 && l < classes) || l === maskIndex) {
        throw new ValueError(`${op}: target[${b}][${i}] = ${l} must be a class in [0, ${classes}) other than the blank ${maskIndex}`);
      }
      ext[b * states + 2 * i + 1] = l;
    }
    const used = 2 * len + 1;
    for (let s = 0; s < used; s++) {
      valid[b * states + s] = 1;
      first[b * states + s] = s < 2 ? 1 : 0;
      if (s >= 2 && s % 2 === 1 && ext[b * states + s] !== ext[b * states + s - 2]) skip[b * states + s] = 1;
    }
    ends[2 * b] = b * states + used - 1;
    ends[2 * b + 1] = used >= 2 ? b * states + used - 2 : b * states + used - 1;
  }

  // Frame log-probabilities of each state's label: one gather, [batch, frames, states].
  const picks = new Int32Array(batch * frames * states);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < frames; t++) {
      for (let s = 0; s < states; s++) picks[(b * frames + t) * states + s] = (b * frames + t) * classes + ext[b * states + s];
    }
  }
  const emissions = reshape(gather(reshape(logSoftmax(logits, -1), [batch * frames * classes]), tensor(picks, [picks.length], 'int32'), 0), [
    batch,
    frames,
    states,
  ]);
  const frame = (t: number) => reshape(slice(emissions, [0, t, 0], [batch, 1, states]), [batch, states]);
  const mask = (m: Uint8Array) => tensor(m, [batch, states], 'bool');
  const validMask = mask(valid),
    skipMask = mask(skip);
  const lengths = tensor(frameLengths, [batch, 1], 'int32');

  let alpha = where(mask(first), frame(0), IMPOSSIBLE);
  for (let t = 1; t < frames; t++) {
    const step = logSumExpOf(alpha, shiftRight(alpha, 1), where(skipMask, shiftRight(alpha, 2), IMPOSSIBLE));
    const next = where(validMask, add(step, frame(t)), IMPOSSIBLE);
    // Samples with fewer frames keep their last forward variables.
    alpha = where(less(t, lengths), next, alpha);
  }
  const flat = reshape(alpha, [batch * states]);
  const last = reshape(gather(flat, tensor(ends, [batch, 2], 'int32'), 0), [batch, 2]);
  const [end, beforeEnd] = [0, 1].map((k) => reshape(slice(last, [0, k], [batch, 1]), [batch]));
  const sameState = tensor(
    Uint8Array.from({ length: batch }, (_, b) => +(ends[2 * b] === ends[2 * b + 1])),
    [batch],
    'bool',
  );
  // With no labels the last two states are one: count it once.
  const loss = neg(logSumExpOf(end, where(sameState, IMPOSSIBLE, beforeEnd)));
  return where(greater(loss, -IMPOSSIBLE / 10), Infinity, loss);
}

/**
 * Keras's CTC loss: yTrue [B, L] int labels padded with 0 (class 0 is the blank; a sample's
 * length is its count of non-zero labels), yPred [B, T, C] logits over all T frames; the
 * per-sample losses reduced over the batch.
 */
export function ctc(yTrue: TensorInput, yPred: TensorInput, options: LossOptions = {}): Tensor {
  checkKeys('ctc', options, ['reduction']);
  const labels = asTensor('ctc', 'yTrue', yTrue, 'int32');
  const logits = asTensor('ctc', 'yPred', yPred);
  if (labels.rank !== 2) throw new ShapeError(`ctc: yTrue must be [batch, maxLabels] integer labels; received ${fmtShape(labels.shape)}`);
  if (logits.rank !== 3) throw new ShapeError(`ctc: yPred must be [batch, frames, classes] logits; received ${fmtShape(logits.shape)}`);
  const ints = cast(labels, 'int32');
  // Counted on the host when the labels are there, so ctcLoss gets lengths it can read on every backend.
  const known = ints.hostValues() as Int32Array | undefined;
  const [batch, maxLabels] = labels.shape;
  const counts = known
    ? tensor(
        Int32Array.from({ length: batch }, (_, b) => known.subarray(b * maxLabels, (b + 1) * maxLabels).reduce((c, v) => c + (v !== 0 ? 1 : 0), 0)),
        [batch],
        'int32',
      )
    : sum(notEqual(ints, 0), -1);
  const frames = tensor(new Int32Array(logits.shape[0]).fill(logits.shape[1]), [logits.shape[0]], 'int32');
  return reduceLoss('ctc', ctcLoss(ints, logits, counts, frames, 0), options.reduction);
}
