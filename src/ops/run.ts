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
  const backend = chooseBackend(inputs);
  if (!backend.supportsDtype(outDtype)) {
    throw new DtypeError(`${primitive}: the ${backend.name} backend does not support dtype ${outDtype}`);
  }
  const kernel = backend.kernels[primitive] as
    | ((i: readonly TensorInfo[], a: PrimitiveAttrs[P], o: { shape: readonly number[]; dtype: DType }) => object)
    | undefined;
  if (!kernel) throw new ValueError(`${primitive}: the ${backend.name} backend has no kernel for this primitive`);
  if (primitiveCounts) primitiveCounts.set(primitive, (primitiveCounts.get(primitive) ?? 0) + 1);
  // Copies of inputs from other backends are owned by a tensor for the kernel call, then given
  // back: a kernel that keeps an input (a pending GPU chain) holds its own ownership.
  const copies: Tensor[] = [];
  const infos = inputs.map((t) => toInfo(t, backend, copies));
  let handle: object;
  try {
    handle = kernel(infos, attrs, { shape: outShape, dtype: outDtype });
  } finally {
    for (const c of copies) c.dispose();
  }
  const out = new Tensor(handle, outShape, outDtype, backend);
  record(out, primitive, inputs, attrs);
  return out;
}

let primitiveCounts: Map<string, number> | undefined;

/**
 * Starts counting the primitives run (by name), for st.profile; returns the counts so far and stops.
 * @internal
 */
export function countPrimitives(): () => Map<string, number> {
  const outer = primitiveCounts;
  const mine = new Map<string, number>();
  primitiveCounts = mine;
  return () => {
    primitiveCounts = outer;
    // A profile inside a profile: the outer one counts these calls too.
    if (outer) for (const [k, v] of mine) outer.set(k, (outer.get(k) ?? 0) + v);
    return mine;
  };
}

/** Whether the current backend (or that of `like`) has an optional fast kernel. */
export function hasKernel(primitive: OptionalPrimitive, like?: Tensor): boolean {
  const own = like?.backend ?? getBackend();
  if (own.kernels[primitive] === undefined) return false;
  // `like` on the CPU may meet weights on the active GPU backend, and the op then runs there (Note
  // [Ops across backends]): the fast kernel must exist on both.
  const active = getBackend();
  return own === active || active.readSync !== false || active.kernels[primitive] !== undefined;
}

// Note [Ops across backends]
// An op runs on its first input's backend, and inputs from other backends join it through a host
// copy (tensors stay where they were made). A tensor on a backend that reads only asynchronously
// (webgpu) cannot be copied out synchronously, so an op with such an input runs there instead,
// unless the backend kept its values on the host (Backend.peek: an index tensor made with
// st.tensor). So MNIST loaded on the CPU trains a model on the GPU: each batch is cut on the CPU
// and uploaded when it meets the first weight.
function chooseBackend(inputs: readonly Tensor[]): Backend {
  const first = inputs[0]?.backend ?? getBackend();
  for (const t of inputs) {
    if (t.backend !== first && t.backend.readSync === false && !t.backend.peek?.(t.storage)) return t.backend;
  }
  return first;
}

/** A tensor from another backend joins the op through a host copy (Note [Ops across backends]). */
function toInfo(t: Tensor, backend: Backend, copies: Tensor[]): TensorInfo {
  if (t.backend === backend) return { data: t.storage, shape: t.shape, dtype: t.dtype };
  const values = t.hostValues();
  if (!values) {
    throw new ValueError(
      `a tensor on the '${t.backend.name}' backend cannot join an op on '${backend.name}' without a read: move it first with st.tensor(await t.data(), t.shape, t.dtype)`,
    );
  }
  const copy = new Tensor(backend.upload(values, t.dtype), t.shape, t.dtype, backend);
  copies.push(copy);
  return { data: copy.storage, shape: t.shape, dtype: t.dtype };
}
