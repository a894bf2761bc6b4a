import type { Backend, TensorInfo } from '../backend/backend.js';
import type { OptionalPrimitive, Primitive, PrimitiveAttrs } from '../backend/primitives.js';
import { record } from '../tensor/tape.js';
import type { DType } from '../core/dtype.js';
import { DtypeError, ValueError } from '../core/errors.js';
import { getBackend } from '../backend/registry.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * The single path from an op to a kernel: pick the backend, run the primitive's kernel on
 * already-validated inputs, wrap the result and record it on the tape. Every op in ops/ ends here.
 */
export function runPrimitive<P extends Primitive>(
  primitive: P,
  inputs: readonly Tensor[],
  attrs: PrimitiveAttrs[P],
  outShape: readonly number[],
  outDtype: DType,
): Tensor {
  const backend = inputs[0]?.backend ?? getBackend();
  if (!backend.supportsDtype(outDtype)) {
    throw new DtypeError(`${primitive}: the ${backend.name} backend does not support dtype ${outDtype}`);
  }
  const kernel = backend.kernels[primitive] as
    | ((i: readonly TensorInfo[], a: PrimitiveAttrs[P], o: { shape: readonly number[]; dtype: DType }) => object)
    | undefined;
  if (!kernel) throw new ValueError(`${primitive}: the ${backend.name} backend has no kernel for this primitive`);
  const infos = inputs.map((t) => toInfo(t, backend));
  const handle = kernel(infos, attrs, { shape: outShape, dtype: outDtype });
  const out = new Tensor(handle, outShape, outDtype, backend);
  record(out, primitive, inputs, attrs);
  return out;
}

/** Whether the current backend (or that of `like`) has an optional fast kernel. */
export function hasKernel(primitive: OptionalPrimitive, like?: Tensor): boolean {
  return (like?.backend ?? getBackend()).kernels[primitive] !== undefined;
}

/** A tensor from another backend joins the op through a host copy (tensors stay where they were made). */
function toInfo(t: Tensor, backend: Backend): TensorInfo {
  if (t.backend === backend) return { data: t.storage, shape: t.shape, dtype: t.dtype };
  return { data: backend.upload(t.dataSync(), t.dtype), shape: t.shape, dtype: t.dtype };
}
