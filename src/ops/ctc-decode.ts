import { ShapeError, ValueError, fmtShape, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { asTensor, requireFloat, type TensorInput } from './operand.js';

// Note [CTC decoding on the host]
// Decoding turns per-frame class scores into label sequences whose lengths depend on the values,
// so it runs on the host after one asynchronous read (every backend has `await t.data()`), in
// float64. Greedy decoding takes each frame's best class, drops a repeat of the previous frame's
// class (mergeRepeated) and then the blanks. Beam search is the CTC prefix beam search: every
// candidate prefix keeps two log-probabilities, of the alignments so far ending in a blank and
// ending in its last label, because a repeated label extends a prefix only after a blank; each
// frame extends every prefix by every class, merges equal prefixes and keeps the beamWidth most
// probable. Both follow Keras 3.16's ops.ctc_decode: the results are padded with -1, greedy
// scores are minus the sum of the frames' largest raw inputs, beam scores are log-probabilities
// of the log-softmax of the inputs.

/** Options of st.ctcDecode (Keras 3's ops.ctc_decode arguments). */
export interface CtcDecodeOptions {
  /** 'greedy' (default) or 'beamSearch' ('beam_search' is accepted too). */
  strategy?: 'greedy' | 'beamSearch' | 'beam_search';
  /** The prefixes beam search keeps after each frame. Default 100. */
  beamWidth?: number;
  /** The number of best sequences beam search returns. Default 1. */
  topPaths?: number;
  /** Greedy decoding drops a label that repeats the previous frame's. Default true. */
  mergeRepeated?: boolean;
  /** The blank class. Default 0. */
  maskIndex?: number;
}

/** What st.ctcDecode returns. */
export interface CtcDecodeResult {
  /** int32 [topPaths, batch, frames] (topPaths is 1 for greedy): each sequence's labels, then -1. */
  decoded: Tensor;
  /** The scores, shape [batch, topPaths]: for greedy decoding minus the sum of each frame's largest input, for beam search each sequence's log-probability. */
  scores: Tensor;
}

const logAdd = (a: number, b: number) => {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
};

function greedy(x: Float64Array, lengths: number[], t: number, c: number, blank: number, merge: boolean) {
  const paths: number[][] = [],
    scores: number[] = [];
  lengths.forEach((len, b) => {
    const path: number[] = [];
    let score = 0,
      previous = -1;
    for (let f = 0; f < t; f++) {
      let best = blank;
      if (f < len) {
        const row = (b * t + f) * c;
        best = 0;
        for (let k = 1; k < c; k++) if (x[row + k] > x[row + best]) best = k;
        score += x[row + best];
      }
      if (best !== blank && !(merge && best === previous)) path.push(best);
      previous = best;
    }
    paths.push(path);
    scores.push(-score);
  });
  return { paths: [paths], scores: scores.map((s) => [s]) };
}

interface Beam {
  prefix: number[];
  /** log P(alignments so far that give `prefix` and end in a blank). */
  blank: number;
  /** log P(alignments so far that give `prefix` and end in its last label). */
  label: number;
}
const total = (beam: Beam) => logAdd(beam.blank, beam.label);

function beamSearchOne(logp: Float64Array, len: number, c: number, blankClass: number, width: number, topPaths: number) {
  let beams: Beam[] = [{ prefix: [], blank: 0, label: -Infinity }];
  for (let f = 0; f < len; f++) {
    const row = f * c;
    const next = new Map<string, Beam>();
    const at = (prefix: number[]) => {
      const key = prefix.join(',');
      let beam = next.get(key);
      if (!beam) next.set(key, (beam = { prefix, blank: -Infinity, label: -Infinity }));
      return beam;
    };
    for (const beam of beams) {
      const all = total(beam);
      const stay = at(beam.prefix);
      stay.blank = logAdd(stay.blank, all + logp[row + blankClass]);
      const last = beam.prefix.length ? beam.prefix[beam.prefix.length - 1] : -1;
      for (let k = 0; k < c; k++) {
        if (k === blankClass) continue;
        const p = logp[row + k];
        const longer = at([...beam.prefix, k]);
        if (k === last) {
          // The same label again: without a blank between it merges into the prefix.
          stay.label = logAdd(stay.label, beam.label + p);
          longer.label = logAdd(longer.label, beam.blank + p);
        } else longer.label = logAdd(longer.label, all + p);
      }
    }
    // Prefixes no alignment reaches yet (a repeat right after its label) are dropped.
    beams = [...next.values()]
      .filter((b) => total(b) > -Infinity)
      .sort((a, b) => total(b) - total(a))
      .slice(0, width);
  }
  return beams.slice(0, topPaths).map((b) => ({ path: b.prefix, score: total(b) }));
}

function beamSearch(x: Float64Array, lengths: number[], t: number, c: number, blank: number, width: number, topPaths: number) {
  const paths: number[][][] = Array.from({ length: topPaths }, () => []);
  const scores: number[][] = [];
  lengths.forEach((len, b) => {
    // The frames' log-softmax, row by row.
    const logp = new Float64Array(t * c);
    for (let f = 0; f < t; f++) {
      const row = (b * t + f) * c;
      let m = -Infinity;
      for (let k = 0; k < c; k++) m = Math.max(m, x[row + k]);
      let s = 0;
      for (let k = 0; k < c; k++) s += Math.exp(x[row + k] - m);
      const lse = m + Math.log(s);
      for (let k = 0; k < c; k++) logp[f * c + k] = x[row + k] - lse;
    }
    const best = beamSearchOne(logp, len, c, blank, width, topPaths);
    // Fewer distinct sequences than topPaths (tiny vocabularies): the rest are empty, scored -Infinity.
    for (let p = 0; p < topPaths; p++) paths[p].push(best[p]?.path ?? []);
    scores.push(Array.from({ length: topPaths }, (_, p) => best[p]?.score ?? -Infinity));
  });
  return { paths, scores };
}

/**
 * Decodes the per-frame class scores of a CTC model into label sequences (Keras 3's
 * ops.ctc_decode): greedily, or by a prefix beam search that sums the probabilities of all
 * alignments of each candidate (Note [CTC decoding on the host]). `inputs` [batch, frames,
 * classes] are logits, `sequenceLengths` [batch] the frames that count. Asynchronous: it reads
 * the inputs once, on any backend.
 * @throws ShapeError for inputs that are not 3-D or lengths of another batch size;
 * ValueError for lengths outside [0, frames], a maskIndex outside the classes or a bad option.
 * @example
 * ```ts
 * const logits = st.log(st.tensor([[[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]]));
 * const { decoded } = await st.ctcDecode(logits, [4]);
 * console.log(await decoded.array()); // [[[1, 2, -1, -1]]]
 * ```
 */
export async function ctcDecode(
  inputs: TensorInput,
  sequenceLengths: TensorInput | readonly number[],
  options: CtcDecodeOptions = {},
): Promise<CtcDecodeResult> {
  const op = 'ctcDecode';
  checkKeys(op, options, ['strategy', 'beamWidth', 'topPaths', 'mergeRepeated', 'maskIndex']);
  const x = asTensor(op, 'inputs', inputs);
  requireFloat(op, x);
  if (x.rank !== 3) throw new ShapeError(`${op}: inputs must be [batch, frames, classes]; received shape ${fmtShape(x.shape)}`);
  const [batch, t, c] = x.shape;
  const { strategy = 'greedy', beamWidth = 100, mergeRepeated = true, maskIndex = 0 } = options;
  const beam = strategy === 'beamSearch' || strategy === 'beam_search';
  if (!beam && strategy !== 'greedy') throw new ValueError(`${op}: strategy must be 'greedy' or 'beamSearch'; received ${fmtValue(strategy)}`);
  const topPaths = beam ? (options.topPaths ?? 1) : 1;
  for (const [name, v] of [
    ['beamWidth', beamWidth],
    ['topPaths', topPaths],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`${op}: ${name} must be a positive integer; received ${fmtValue(v)}`);
  }
  if (!Number.isInteger(maskIndex) || maskIndex < 0 || maskIndex >= c) {
    throw new ValueError(`${op}: maskIndex must be a class index in [0, ${c}); received ${fmtValue(maskIndex)}`);
  }
  const lengthTensor = asTensor(op, 'sequenceLengths', sequenceLengths as TensorInput);
  if (lengthTensor.rank !== 1 || lengthTensor.shape[0] !== batch) {
    throw new ShapeError(`${op}: sequenceLengths must be [${batch}] (one per sequence); received shape ${fmtShape(lengthTensor.shape)}`);
  }
  const [values, lengthValues] = await Promise.all([x.data(), lengthTensor.data()]);
  const lengths = Array.from(lengthValues, Number);
  const bad = lengths.find((l) => !Number.isInteger(l) || l < 0 || l > t);
  if (bad !== undefined) throw new ValueError(`${op}: sequenceLengths must be integers in [0, ${t}]; received ${bad}`);
  const x64 = Float64Array.from(values as ArrayLike<number>);
  const { paths, scores } = beam
    ? beamSearch(x64, lengths, t, c, maskIndex, beamWidth, topPaths)
    : greedy(x64, lengths, t, c, maskIndex, mergeRepeated);
  const decoded = new Int32Array(topPaths * batch * t).fill(-1);
  paths.forEach((perBatch, p) => perBatch.forEach((path, b) => decoded.set(path, (p * batch + b) * t)));
  return {
    decoded: tensor(decoded, [topPaths, batch, t], 'int32'),
    scores: tensor(scores.flat(), [batch, topPaths], x.dtype),
  };
}
