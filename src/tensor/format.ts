import type { DType, TypedArray } from '../core/dtype.js';
import { sizeOf } from '../core/shape.js';

// NumPy-like printing: aligned columns, a shared number format per tensor, and "..." in the
// middle of any dimension longer than 2 * EDGE once the tensor has more than THRESHOLD values.
const THRESHOLD = 1000;
const EDGE = 3;

function formatter(values: TypedArray, dtype: DType): (v: number) => string {
  if (dtype === 'bool') return (v) => (v ? 'true' : 'false');
  if (dtype === 'int32') return (v) => String(v);
  let allIntegral = true,
    maxAbs = 0,
    minAbs = Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (!Number.isInteger(v)) allIntegral = false;
    const a = Math.abs(v);
    maxAbs = Math.max(maxAbs, a);
    if (a > 0) minAbs = Math.min(minAbs, a);
  }
  const scientific = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity);
  return (v) => {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    if (scientific) return v.toExponential(4);
    if (allIntegral) return `${v}.`;
    return v.toFixed(4);
  };
}

export function formatTensor(values: TypedArray, shape: readonly number[], dtype: DType): string {
  const fmt = formatter(values, dtype);
  const summarize = sizeOf(shape) > THRESHOLD;
  const cells: string[] = [];
  const strides = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
  // First pass renders every printed value, so the column width is known.
  const visit = (dim: number, offset: number, out: (s: string) => void) => {
    if (dim === shape.length) return out(fmt(values[offset]));
    for (const i of visibleIndices(shape[dim], summarize)) if (i >= 0) visit(dim + 1, offset + i * strides[dim], out);
  };
  visit(0, 0, (s) => cells.push(s));
  const width = Math.max(0, ...cells.map((c) => c.length));
  const render = (dim: number, offset: number, indent: string): string => {
    if (dim === shape.length) return fmt(values[offset]).padStart(width);
    const parts = visibleIndices(shape[dim], summarize).map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * strides[dim], indent + ' ')));
    const sep = dim === shape.length - 1 ? ', ' : ',' + '\n'.repeat(shape.length - dim - 1) + indent + ' ';
    return `[${parts.join(sep)}]`;
  };
  const prefix = 'tensor(';
  const body = render(0, 0, ' '.repeat(prefix.length));
  return `${prefix}${body}, shape=[${shape.join(', ')}], dtype=${dtype})`;
}

/** Indices to print along a dimension of length n; -1 marks the "..." gap. */
function visibleIndices(n: number, summarize: boolean): number[] {
  if (!summarize || n <= 2 * EDGE) return Array.from({ length: n }, (_, i) => i);
  return [...Array.from({ length: EDGE }, (_, i) => i), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)];
}
