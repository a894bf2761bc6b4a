import { toTypedArray, typedArrayFor, type DType, type TypedArray } from '../../core/dtype.js';
import { fillRandom } from '../../core/rng.js';
import { sizeOf } from '../../core/shape.js';
import type { Backend, CoreKernels, DataHandle, MemoryInfo, OptionalKernels } from '../backend.js';
import { ARITHMETIC_PRIMITIVES, COMPARISON_PRIMITIVES, REDUCE_PRIMITIVES, UNARY_PRIMITIVES } from '../primitives.js';
import { conv2dBackpropFilterKernel, conv2dBackpropInputKernel, conv2dKernel, fusedConv2dKernel } from './conv.js';
import { binaryKernel, castKernel, reluGradKernel, unaryKernel, whereKernel } from './elementwise.js';
import { matmulKernel } from './matmul.js';
import {
  broadcastToKernel,
  concatKernel,
  gatherKernel,
  padKernel,
  reshapeKernel,
  scatterAddKernel,
  sliceKernel,
  transposeKernel,
} from './movement.js';
import { avgPool2dGradKernel, avgPool2dKernel, maxPool2dGradKernel, maxPool2dKernel } from './pool.js';
import { gruCellGradKernel, gruCellKernel, lstmCellGradKernel, lstmCellKernel } from './recurrent.js';
import { argReduceKernel, reduceKernel } from './reduce.js';
import { logSoftmaxKernel, softmaxKernel } from './softmax.js';

/** One kernel per name from a kernel factory (the unary, binary and reduce families). */
function table<K extends keyof CoreKernels>(keys: readonly K[], make: (k: K) => unknown): Pick<CoreKernels, K> {
  return Object.fromEntries(keys.map((k) => [k, make(k)])) as Pick<CoreKernels, K>;
}

const kernels: CoreKernels & OptionalKernels = {
  ...table(UNARY_PRIMITIVES, unaryKernel),
  ...table([...ARITHMETIC_PRIMITIVES, ...COMPARISON_PRIMITIVES], binaryKernel),
  ...table(REDUCE_PRIMITIVES, reduceKernel),
  argMax: argReduceKernel((x, best) => x > best),
  argMin: argReduceKernel((x, best) => x < best),
  matmul: matmulKernel,
  reshape: reshapeKernel,
  transpose: transposeKernel,
  broadcastTo: broadcastToKernel,
  cast: castKernel,
  slice: sliceKernel,
  pad: padKernel,
  concat: concatKernel,
  gather: gatherKernel,
  scatterAdd: scatterAddKernel,
  where: whereKernel,
  reluGrad: reluGradKernel,
  conv2d: conv2dKernel,
  conv2dBackpropInput: conv2dBackpropInputKernel,
  conv2dBackpropFilter: conv2dBackpropFilterKernel,
  fusedConv2d: fusedConv2dKernel,
  maxPool2d: maxPool2dKernel,
  maxPool2dGrad: maxPool2dGradKernel,
  avgPool2d: avgPool2dKernel,
  avgPool2dGrad: avgPool2dGradKernel,
  softmax: softmaxKernel,
  logSoftmax: logSoftmaxKernel,
  lstmCell: lstmCellKernel,
  lstmCellGrad: lstmCellGradKernel,
  gruCell: gruCellKernel,
  gruCellGrad: gruCellGradKernel,
};

/**
 * The reference backend: plain TypeScript over TypedArrays, the executable specification the
 * other backends are tested against. Storage is the TypedArray itself, freed by the garbage
 * collector; a FinalizationRegistry keeps the byte count honest.
 */
export class ReferenceBackend implements Backend {
  readonly name = 'reference';
  readonly kernels = kernels;
  private live = { buffers: 0, bytes: 0 };
  private tracked = new WeakSet<object>();
  private registry = new FinalizationRegistry<number>((bytes) => {
    this.live.buffers--;
    this.live.bytes -= bytes;
  });

  constructor() {
    // Count every buffer a kernel returns; a reshape returns its input's buffer, counted once.
    const counted = {} as Record<string, unknown>;
    for (const [name, kernel] of Object.entries(kernels)) {
      counted[name] = (...args: unknown[]) => this.track((kernel as (...a: unknown[]) => DataHandle)(...args));
    }
    this.kernels = counted as unknown as typeof kernels;
  }

  supportsDtype(_dtype: DType): boolean {
    return true;
  }

  upload(values: TypedArray, dtype: DType): DataHandle {
    return this.track(toTypedArray(values, dtype));
  }

  download(data: DataHandle, dtype: DType, size: number): TypedArray {
    const src = data as TypedArray;
    const copy = typedArrayFor(dtype, size);
    copy.set(src.subarray(0, size));
    return copy;
  }

  fill(shape: readonly number[], dtype: DType, value: number): DataHandle {
    return this.track(typedArrayFor(dtype, sizeOf(shape)).fill(value));
  }

  random(shape: readonly number[], dtype: DType, stream: Parameters<Backend['random']>[2], dist: Parameters<Backend['random']>[3]): DataHandle {
    const out = typedArrayFor(dtype, sizeOf(shape));
    fillRandom(out, stream, dist);
    return this.track(out);
  }

  release(_data: DataHandle): void {
    // Nothing to do: the buffer goes when the last tensor sharing it is collected.
  }

  memory(): MemoryInfo {
    return { ...this.live };
  }

  private track(data: DataHandle): DataHandle {
    if (!this.tracked.has(data)) {
      this.tracked.add(data);
      const bytes = (data as TypedArray).byteLength;
      this.live.buffers++;
      this.live.bytes += bytes;
      this.registry.register(data, bytes);
    }
    return data;
  }
}
