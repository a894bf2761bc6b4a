import { broadcastStrides, sizeOf, type Shape } from '../../core/shape.js';

// Note [Strided iteration]
// Broadcasting, transposes and slices all read an input through per-dimension strides
// (0 along a broadcast dimension). `forEachOffset` walks the output in row-major order and
// hands the callback the matching input offsets, updating them incrementally (an odometer)
// so the cost per element is O(1) rather than O(rank).

/** Calls `f(outIndex, offsets...)` for each output element; `strides[k]` reads input k. */
export function forEachOffset2(outShape: Shape, sa: readonly number[], sb: readonly number[], f: (o: number, ia: number, ib: number) => void): void {
  const rank = outShape.length;
  const n = sizeOf(outShape);
  if (n === 0) return;
  if (rank === 0) {
    f(0, 0, 0);
    return;
  }
  const inner = outShape[rank - 1];
  const saI = sa[rank - 1],
    sbI = sb[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let offA = 0,
    offB = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) f(o + j, offA + j * saI, offB + j * sbI);
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      offA += sa[d];
      offB += sb[d];
      if (idx[d] < outShape[d]) break;
      offA -= sa[d] * outShape[d];
      offB -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** Input offsets, in output order, for reading an array through `strides` (one input). */
export function gatherOffsets(outShape: Shape, strides: readonly number[], base = 0): Int32Array {
  const offsets = new Int32Array(sizeOf(outShape));
  forEachOffset2(outShape, strides, strides, (o, ia) => {
    offsets[o] = base + ia;
  });
  return offsets;
}

export { broadcastStrides };
