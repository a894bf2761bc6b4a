// How a two-operand broadcast runs as rows: shared by the native and wasm backends, whose binary
// kernels take [rows, inner] with a row and a column stride per operand instead of walking
// strides element by element.
import { shapesEqual, sizeOf, type Shape } from '../core/shape.js';

/**
 * Views a broadcast as [rows, inner] = [prod(out[:s]), prod(out[s:])] for the first split s at
 * which each operand's leading and trailing parts are each either all of the output's dims or
 * all 1s. Returns [rows, inner, aRow, aCol, bRow, bCol] (element
 * strides), or undefined for broadcasts that need the general strided walk.
 */
export function rowPattern(a: Shape, b: Shape, out: Shape): [number, number, number, number, number, number] | undefined {
  // The common cases first, without the search (which costs microseconds next to a small op).
  const n = sizeOf(out);
  const aFull = shapesEqual(a, out),
    bFull = shapesEqual(b, out);
  if (aFull && (bFull || sizeOf(b) === 1)) return [1, n, 0, 1, 0, bFull ? 1 : 0];
  if (bFull && sizeOf(a) === 1) return [1, n, 0, 0, 0, 1];
  const rank = out.length;
  const dimOf = (x: Shape, i: number) => x[x.length - rank + i] ?? 1;
  const part = (x: Shape, from: number, to: number): 'full' | 'ones' | undefined => {
    let full = true,
      ones = true;
    for (let i = from; i < to; i++) {
      const d = dimOf(x, i);
      if (d !== out[i]) full = false;
      if (d !== 1) ones = false;
    }
    return full ? 'full' : ones ? 'ones' : undefined;
  };
  for (let s = 0; s <= rank; s++) {
    const rows = sizeOf(out.slice(0, s)),
      inner = sizeOf(out.slice(s));
    const strides = [a, b].map((x) => {
      const lead = part(x, 0, s),
        trail = part(x, s, rank);
      if (!lead || !trail) return undefined;
      const col = trail === 'full' ? 1 : 0;
      const row = lead === 'ones' ? 0 : trail === 'full' ? inner : 1;
      return [row, col];
    });
    if (strides[0] && strides[1]) return [rows, inner, ...strides[0], ...strides[1]] as [number, number, number, number, number, number];
  }
  return undefined;
}
