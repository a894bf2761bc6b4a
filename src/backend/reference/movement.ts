import { typedArrayFor, type TypedArray } from '../../core/dtype.js';
import { broadcastStrides, sizeOf, stridesOf } from '../../core/shape.js';
import type { Kernel } from '../backend.js';
import { forEachOffset2, gatherOffsets } from './iterate.js';

const values = (d: object) => d as TypedArray;

/** Reads the input through `strides` starting at `base`, in output order. */
function stridedCopy(xs: TypedArray, outShape: readonly number[], strides: readonly number[], dtypeArray: TypedArray, base = 0): TypedArray {
  const offsets = gatherOffsets(outShape, strides, base);
  for (let o = 0; o < offsets.length; o++) dtypeArray[o] = xs[offsets[o]];
  return dtypeArray;
}

// Row-major data does not change under a reshape, so the storage is shared.
export const reshapeKernel: Kernel<'reshape'> = ([x]) => x.data;

export const transposeKernel: Kernel<'transpose'> = ([x], { perm }, out) => {
  const own = stridesOf(x.shape);
  return stridedCopy(
    values(x.data),
    out.shape,
    perm.map((p) => own[p]),
    typedArrayFor(out.dtype, sizeOf(out.shape)),
  );
};

export const broadcastToKernel: Kernel<'broadcastTo'> = ([x], { shape }, out) =>
  stridedCopy(values(x.data), shape, broadcastStrides(x.shape, shape), typedArrayFor(out.dtype, sizeOf(shape)));

export const sliceKernel: Kernel<'slice'> = ([x], { begin }, out) => {
  const own = stridesOf(x.shape);
  const base = begin.reduce((acc, b, i) => acc + b * own[i], 0);
  return stridedCopy(values(x.data), out.shape, own, typedArrayFor(out.dtype, sizeOf(out.shape)), base);
};

export const padKernel: Kernel<'pad'> = ([x], { paddings, value }, out) => {
  const ys = typedArrayFor(out.dtype, sizeOf(out.shape)).fill(value);
  // Write the input into the interior: the output offset of input element i.
  const outStrides = stridesOf(out.shape);
  const base = paddings.reduce((acc, [before], i) => acc + before * outStrides[i], 0);
  const xs = values(x.data);
  forEachOffset2(x.shape, outStrides, outStrides, (i, o) => {
    ys[base + o] = xs[i];
  });
  return ys;
};

export const concatKernel: Kernel<'concat'> = (inputs, { axis }, out) => {
  const ys = typedArrayFor(out.dtype, sizeOf(out.shape));
  const outer = sizeOf(out.shape.slice(0, axis));
  const outRow = sizeOf(out.shape.slice(axis));
  let col = 0;
  for (const t of inputs) {
    const xs = values(t.data);
    const row = sizeOf(t.shape.slice(axis));
    for (let o = 0; o < outer; o++) ys.set(xs.subarray(o * row, (o + 1) * row), o * outRow + col);
    col += row;
  }
  return ys;
};

/** x viewed as [outer, dim, inner] and indices flattened to [count]. */
function gatherGeometry(shape: readonly number[], axis: number) {
  return { outer: sizeOf(shape.slice(0, axis)), dim: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

export const gatherKernel: Kernel<'gather'> = ([x, indices], { axis }, out) => {
  const xs = values(x.data),
    idx = values(indices.data);
  const { outer, dim, inner } = gatherGeometry(x.shape, axis);
  const ys = typedArrayFor(out.dtype, sizeOf(out.shape));
  const count = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < count; c++) {
      const src = (o * dim + idx[c]) * inner,
        dst = (o * count + c) * inner;
      for (let i = 0; i < inner; i++) ys[dst + i] = xs[src + i];
    }
  }
  return ys;
};

export const scatterAddKernel: Kernel<'scatterAdd'> = ([updates, indices], { axis, size }, out) => {
  const us = values(updates.data),
    idx = values(indices.data);
  const count = idx.length;
  const outer = sizeOf(updates.shape.slice(0, axis));
  const inner = sizeOf(out.shape.slice(axis + 1));
  const ys = typedArrayFor(out.dtype, sizeOf(out.shape));
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < count; c++) {
      const dst = (o * size + idx[c]) * inner,
        src = (o * count + c) * inner;
      for (let i = 0; i < inner; i++) ys[dst + i] += us[src + i];
    }
  }
  return ys;
};
