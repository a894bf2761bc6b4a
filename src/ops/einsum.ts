import { arithmeticType, promoteTypes } from '../core/dtype.js';
import { ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { arange } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './elementwise.js';
import { batchMatmul } from './linalg.js';
import { asTensor, type TensorInput } from './operand.js';
import { sum } from './reduction.js';
import { broadcastTo, gather, reshape, transpose } from './shape-ops.js';

// Note [einsum as matmuls]
// An einsum is reduced to the primitives in three moves: a label repeated within one operand
// takes that operand's diagonal (a gather on the two axes merged into one); a label found in one
// operand only and not in the output is summed out at once; then operands are contracted left to
// right, each pair as one batched matmul: axes labelled in both and still needed later are the
// batch, axes labelled in both and needed no more are the inner (contracted) dimension, and the
// rest are the rows of one side and the columns of the other. Ellipsis axes are labels of their
// own, aligned from the right and broadcast (size 1 against n) like NumPy's.

/** One operand: a tensor with one label per axis. */
interface Term {
  t: Tensor;
  labels: string[];
}

const LETTER = /^[a-zA-Z]$/;

/** The labels of one subscript term; '...' covers `rank - letters` axes labelled '.0', '.1', ... from the right. */
function parseTerm(equation: string, term: string, rank: number | null, ellipsisRank: number): string[] {
  const parts = term.split('...');
  if (parts.length > 2) throw new ValueError(`einsum: a term may hold one ellipsis; received '${term}' in '${equation}'`);
  for (const ch of parts.join('')) {
    if (!LETTER.test(ch)) throw new ValueError(`einsum: subscripts must be letters (and '...'); received '${ch}' in '${equation}'`);
  }
  const letters = parts.join('').length;
  if (parts.length === 1) {
    if (rank !== null && rank !== letters) {
      throw new ShapeError(`einsum: the term '${term}' has ${letters} subscripts for an operand of rank ${rank} in '${equation}'`);
    }
    return [...term];
  }
  const covered = rank === null ? ellipsisRank : rank - letters;
  if (covered < 0) throw new ShapeError(`einsum: the term '${term}' has more subscripts than its operand's rank ${rank} in '${equation}'`);
  const dots = Array.from({ length: covered }, (_, i) => `.${ellipsisRank - covered + i}`);
  return [...parts[0], ...dots, ...parts[1]];
}

/** Sums out the axes whose labels are not in `keep`. */
function sumOut(term: Term, keep: ReadonlySet<string>): Term {
  const axes = term.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return term;
  return { t: sum(term.t, axes), labels: term.labels.filter((l) => keep.has(l)) };
}

/** Takes the diagonal over every label repeated within one operand. */
function diagonals(equation: string, term: Term): Term {
  let { t, labels } = term;
  for (;;) {
    const i = labels.findIndex((l, k) => labels.indexOf(l) !== k);
    if (i < 0) return { t, labels };
    const first = labels.indexOf(labels[i]);
    const n = t.shape[first];
    if (t.shape[i] !== n) {
      throw new ShapeError(`einsum: the label '${labels[i]}' is repeated over axes of sizes ${n} and ${t.shape[i]} in '${equation}'`);
    }
    const rest = labels.flatMap((_, k) => (k === first || k === i ? [] : [k]));
    const moved = transpose(t, [...rest, first, i]);
    const merged = reshape(moved, [...rest.map((k) => t.shape[k]), n * n]);
    t = gather(merged, arange(0, n * n, n + 1, 'int32'), rest.length);
    labels = [...rest.map((k) => labels[k]), labels[i]];
  }
}

/** a and b contracted over their shared labels that `keep` does not hold, as one batched matmul. */
function contract(a: Term, b: Term, keep: ReadonlySet<string>, sizes: ReadonlyMap<string, number>): Term {
  const inB = new Set(b.labels),
    inA = new Set(a.labels);
  a = sumOut(a, new Set([...keep, ...b.labels]));
  b = sumOut(b, new Set([...keep, ...a.labels]));
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const inner = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const rows = a.labels.filter((l) => !inB.has(l));
  const cols = b.labels.filter((l) => !inA.has(l));
  const size = (ls: string[]) => ls.map((l) => sizes.get(l)!);
  const arrange = (term: Term, order: string[]) => {
    const moved = transpose(
      term.t,
      order.map((l) => term.labels.indexOf(l)),
    );
    return broadcastTo(moved, size(order));
  };
  const a3 = reshape(arrange(a, [...batch, ...rows, ...inner]), [sizeOf(size(batch)), sizeOf(size(rows)), sizeOf(size(inner))]);
  const b3 = reshape(arrange(b, [...batch, ...inner, ...cols]), [sizeOf(size(batch)), sizeOf(size(inner)), sizeOf(size(cols))]);
  const labels = [...batch, ...rows, ...cols];
  return { t: reshape(batchMatmul(a3, b3), size(labels)), labels };
}

/**
 * Einstein summation: `einsum('ij,jk->ik', a, b)` is a matrix product, `'ii->i'` a diagonal,
 * `'bij,bjk->bik'` a batched product. Subscripts are letters; a label repeated in one operand
 * takes its diagonal, labels missing from the output are summed, '...' stands for broadcast
 * axes, and without '->' the output holds the labels used once, in alphabetical order (after
 * the ellipsis axes), as in NumPy. Any number of operands, contracted left to right (Note [einsum
 * as matmuls]); differentiable in every operand.
 * @throws ValueError for a malformed equation; ShapeError when sizes disagree.
 */
export function einsum(equation: string, ...operands: TensorInput[]): Tensor {
  if (typeof equation !== 'string') throw new ValueError(`einsum: the equation must be a string; received ${typeof equation}`);
  const spec = equation.replace(/\s+/g, '');
  const [lhs, rhs, ...extra] = spec.split('->');
  if (extra.length) throw new ValueError(`einsum: the equation holds more than one '->': '${equation}'`);
  const inputs = lhs.split(',');
  if (inputs.length !== operands.length) {
    throw new ValueError(`einsum: '${equation}' names ${inputs.length} operand(s); received ${operands.length}`);
  }
  const raw = operands.map((x, i) => asTensor('einsum', `operands[${i}]`, x));
  const dtype = arithmeticType(raw.map((t) => t.dtype).reduce(promoteTypes));
  const ellipsisRank = Math.max(0, ...inputs.map((term, i) => (term.includes('...') ? raw[i].rank - (term.length - 3) : 0)));
  let terms: Term[] = inputs.map((term, i) => ({ t: cast(raw[i], dtype), labels: parseTerm(equation, term, raw[i].rank, ellipsisRank) }));

  const sizes = new Map<string, number>();
  for (const term of terms) {
    term.labels.forEach((l, k) => {
      const n = term.t.shape[k],
        seen = sizes.get(l);
      const broadcastable = l.startsWith('.') && (n === 1 || seen === 1);
      if (seen !== undefined && seen !== n && !broadcastable) {
        throw new ShapeError(
          `einsum: the label '${l}' stands for sizes ${seen} and ${n} in '${equation}' (operands ${terms.map((x) => fmtShape(x.t.shape)).join(', ')})`,
        );
      }
      sizes.set(l, seen === undefined || seen === 1 ? n : seen);
    });
  }
  const counts = new Map<string, number>();
  for (const l of terms.flatMap((x) => x.labels)) counts.set(l, (counts.get(l) ?? 0) + 1);
  const output =
    rhs === undefined
      ? [
          ...[...sizes.keys()].filter((l) => l.startsWith('.')).sort(),
          ...[...counts]
            .filter(([l, c]) => c === 1 && !l.startsWith('.'))
            .map(([l]) => l)
            .sort(),
        ]
      : parseTerm(equation, rhs, null, ellipsisRank);
  for (const l of output) {
    if (!sizes.has(l)) throw new ValueError(`einsum: the output label '${l}' is not in any operand of '${equation}'`);
    if (output.indexOf(l) !== output.lastIndexOf(l)) throw new ValueError(`einsum: the output repeats the label '${l}' in '${equation}'`);
  }

  terms = terms.map((term) => diagonals(equation, term));
  const needed = (from: number) => new Set([...output, ...terms.slice(from).flatMap((x) => x.labels)]);
  terms = terms.map((term, i) => sumOut(term, new Set([...output, ...terms.filter((_, k) => k !== i).flatMap((x) => x.labels)])));
  let acc = terms[0];
  for (let i = 1; i < terms.length; i++) acc = contract(acc, terms[i], needed(i + 1), sizes);
  acc = sumOut(acc, new Set(output));
  const y = transpose(
    acc.t,
    output.map((l) => acc.labels.indexOf(l)),
  );
  // Ellipsis axes of size 1 that no contraction broadcast keep the size the other operands give them.
  return broadcastTo(
    y,
    output.map((l) => sizes.get(l)!),
  );
}
