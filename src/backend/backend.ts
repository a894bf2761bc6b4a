import type { DType, TypedArray } from '../core/dtype.js';
import type { Distribution, RandomStream } from '../core/rng.js';
import type { Shape } from '../core/shape.js';
import type { CoreAttrs, CorePrimitive, OptionalAttrs, OptionalPrimitive, PrimitiveAttrs, Primitive } from './primitives.js';

/** Storage owned by one backend; opaque to everything above backend/. */
export type DataHandle = object;

/** What a kernel sees of a tensor: its storage, shape and dtype (always row-major). */
export interface TensorInfo {
  readonly data: DataHandle;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** The output a kernel must produce; ops/ has already checked and inferred it. */
export interface OutputInfo {
  readonly shape: Shape;
  readonly dtype: DType;
}

export type Kernel<P extends Primitive> = (inputs: readonly TensorInfo[], attrs: PrimitiveAttrs[P], out: OutputInfo) => DataHandle;

export type CoreKernels = { [P in CorePrimitive]: Kernel<P> };
export type OptionalKernels = { [P in OptionalPrimitive]?: Kernel<P> };

/**
 * One optimizer step over one variable, for backends with fused update kernels. First the
 * decoupled weight decay w -= decay * w (decay = learning rate * weightDecay), then the rule,
 * with the slots in the order given for each kind. `lr` is the step size the rule multiplies by
 * (for Adam the bias-corrected alpha). Keras 3's formulas; see src/optimizers/.
 */
export type FusedUpdate =
  | { kind: 'sgd'; lr: number; decay: number; momentum: number; nesterov: boolean } // [momentum] if momentum > 0
  | { kind: 'rmsprop'; lr: number; decay: number; rho: number; momentum: number; epsilon: number; centered: boolean } // [velocity, momentum?, averageGrad?]
  | { kind: 'adam'; lr: number; decay: number; beta1: number; beta2: number; epsilon: number; amsgrad: boolean } // [m, v, vhat?]
  | { kind: 'adagrad'; lr: number; decay: number; epsilon: number } // [accumulator]
  | { kind: 'adadelta'; lr: number; decay: number; rho: number; epsilon: number } // [accumulated grad², accumulated delta²]
  | { kind: 'adamax'; lr: number; decay: number; beta1: number; beta2: number; epsilon: number }; // [m, u]; lr / (1 - beta1^t)

export interface MemoryInfo {
  /** Storage buffers the backend holds (several tensors may share one after a reshape). */
  buffers: number;
  bytes: number;
}

/**
 * A backend: storage plus one kernel per primitive. It never sees Tensor or autograd; ops/
 * validates inputs and computes output shapes and dtypes before calling a kernel.
 *
 * Users meet it as `st.getBackend()` and `tensor.backend`; writing one means implementing the
 * kernel table of src/backend/backend.ts and src/backend/primitives.ts, an internal interface
 * that may change between versions.
 */
export interface Backend {
  /** The name `st.setBackend` takes ('native', 'reference'). */
  readonly name: string;
  /** One kernel per primitive; the optional ones fall back to compositions of core ones. */
  readonly kernels: CoreKernels & OptionalKernels;
  /** Whether the backend can store `dtype` (float64 is the reference backend's only). */
  supportsDtype(dtype: DType): boolean;
  /** Copies `values` into new storage of `dtype`. */
  upload(values: TypedArray, dtype: DType): DataHandle;
  /**
   * A copy of the storage's `size` elements that the caller may keep. A backend whose reads
   * complete asynchronously (`readSync: false`) may throw here; Tensor never calls it then.
   */
  download(data: DataHandle, dtype: DType, size: number): TypedArray;
  /**
   * The same copy, delivered when the backend has it: what `await t.data()` calls. A GPU backend
   * maps a staging buffer here instead of waiting for its queue. Default: `download` (Note
   * [Reading values without stalling] in src/models/epoch-loop.ts).
   */
  downloadAsync?(data: DataHandle, dtype: DType, size: number): Promise<TypedArray>;
  /**
   * False for a backend that cannot read synchronously (WebGPU): `dataSync()`, `arraySync()` and
   * `item()` then throw a ValueError naming `await t.data()` / `await t.array()`. Default true.
   */
  readonly readSync?: boolean;
  /**
   * Values the backend knows on the host without reading the device, or undefined: a GPU backend
   * keeps a copy of small uploads (index tensors made with st.tensor), so index checks need no read.
   */
  peek?(data: DataHandle): TypedArray | undefined;
  /** New storage of `shape` with every element `value`. */
  fill(shape: Shape, dtype: DType, value: number): DataHandle;
  /** Must match core/rng.ts `fillRandom` exactly, so seeds reproduce across backends. */
  random(shape: Shape, dtype: DType, stream: RandomStream, dist: Distribution): DataHandle;
  /** A tensor took shared ownership of `data` (backends that free storage early count owners). */
  retain?(data: DataHandle): void;
  /** A tensor gave up its ownership (dispose); storage may be freed when no owner is left. */
  release(data: DataHandle): void;
  /**
   * A fused optimizer step: reads the variable, its gradient and slots once and returns new
   * storage for the variable and each slot (tensors stay immutable; the optimizer assigns them).
   * @internal
   */
  optimizerUpdate?(
    update: FusedUpdate,
    variable: TensorInfo,
    grad: TensorInfo,
    slots: readonly TensorInfo[],
  ): { variable: DataHandle; slots: DataHandle[] };
  /** Threads for multi-threaded kernels (see st.setNumThreads). */
  setNumThreads?(n: number): void;
  /**
   * Called at the end of every gradient computation (backward(), grad, minimize, fit) and of
   * every batch of predict: a backend whose storage the garbage collector frees may collect
   * dead tensors here (Note [Collecting dead tensors between steps]).
   */
  afterBackward?(): unknown;
  /** How the backend runs (SIMD, threads), for `st.backends()`'s `detail`. */
  describe?(): string;
  /** Live storage buffers and their bytes, for `st.memory()`. */
  memory(): MemoryInfo;
  /**
   * Work counters since the backend started (a GPU backend: dispatches, submits, reads, uploads,
   * pipelines compiled), for `st.profile`.
   */
  counters?(): Record<string, number>;
  /** Sends queued work to the device (a GPU backend's open command encoder); `st.profile` calls it. */
  flush?(): void;
}

export type { CoreAttrs, OptionalAttrs };
