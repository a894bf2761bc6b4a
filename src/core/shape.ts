import { ShapeError, ValueError, fmtShape, fmtValue } from './errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  // Built by push, not new Array(n): shapes and strides stay packed small-integer arrays, so the
  // hot paths reading them see one array layout and are not deoptimized and recompiled.
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides.push(s);
    s *= shape[i];
  }
  return strides.reverse();
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks that a user-supplied shape is a list of non-negative integers. */
export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`${op}: a shape must be an array of non-negative integers; received ${fmtValue(shape)}`);
  }
  return shape.slice();
}

/** NumPy broadcasting: align from the right; each pair of dims must match or contain a 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = []; // packed, as stridesOf's
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes cannot be broadcast together: a is ${fmtShape(a)}, b is ${fmtShape(b)}`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** The axes of `out` along which an input of shape `inShape` was broadcast (for summing gradients). */
export function broadcastedAxes(inShape: Shape, outShape: Shape): number[] {
  const axes: number[] = [];
  const offset = outShape.length - inShape.length;
  for (let i = 0; i < outShape.length; i++) {
    if (i < offset || (inShape[i - offset] === 1 && outShape[i] !== 1)) axes.push(i);
  }
  return axes;
}

/** Strides for reading an array of `inShape` as if broadcast to `outShape` (0 along broadcast dims). */
export function broadcastStrides(inShape: Shape, outShape: Shape): number[] {
  const own = stridesOf(inShape);
  const offset = outShape.length - inShape.length;
  return outShape.map((_, i) => (i < offset || inShape[i - offset] === 1 ? 0 : own[i - offset]));
}

/** Resolves a possibly negative axis against a rank, naming the op when it is out of range. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new ValueError(`${op}: axis must be an integer in [${-rank}, ${Math.max(rank, 1) - 1}] for a rank-${rank} tensor; received ${axis}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Resolves `axis?: number | number[]` to sorted, unique, non-negative axes (all axes when undefined). */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined | null, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  if (!Array.isArray(list)) throw new ValueError(`${op}: axis must be a number or an array of numbers; received ${fmtValue(axis)}`);
  const axes = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(axes).size !== axes.length) throw new ValueError(`${op}: axis contains a repeated axis: ${fmtValue(axis)}`);
  return axes.sort((x, y) => x - y);
}

/** The shape left after reducing `axes`, keeping them as 1s when `keepDims`. */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

export { fmtShape };
