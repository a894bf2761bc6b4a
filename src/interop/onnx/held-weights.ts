// Weights re-laid out once at import for the kernel that reads them (Note [Filters held in
// Strata's layout] in ops-conv.ts): a convolution's filter, and a Gemm's B when the node
// transposes it. Both are FLOAT initializers (the handlers' holdWeight checks).
import { permute } from './export-context.js';
import type { OnnxTensor } from './tensors.js';

type Data = OnnxTensor['data'];
const like = (d: Data, n: number): Data => new (d.constructor as new (n: number) => Data)(n);

/**
 * A 4-D convolution weight [out, in/group, kh, kw] (ONNX) as Strata's filter [kh, kw, in/group,
 * out]. A loop of its own rather than the general permute: filters are most of a network's
 * weights, and this runs at every import (ResNet-18's took about 0.1 s longer through permute).
 */
export function toFilterLayout(t: OnnxTensor): OnnxTensor {
  const [m, c, kh, kw] = t.shape;
  const out = like(t.data, t.data.length);
  for (let o = 0; o < m; o++)
    for (let i = 0; i < c; i++)
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * c + i) * m + o] = t.data[((o * c + i) * kh + y) * kw + x];
  return { ...t, shape: [kh, kw, c, m], data: out };
}

/** A 2-D float32 weight [rows, cols] as its transpose [cols, rows]. */
export function transposed2d(t: OnnxTensor): OnnxTensor {
  return { ...t, shape: [t.shape[1], t.shape[0]], data: permute(t.data as Float32Array, t.shape, [1, 0]) };
}
