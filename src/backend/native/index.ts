import { fmtIndex, int32OverflowError, int32RangeError, toTypedArray, type DType, type TypedArray } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import type { Distribution, RandomStream } from '../../core/rng.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { Backend, CoreKernels, DataHandle, FusedUpdate, Kernel, MemoryInfo, OptionalKernels, TensorInfo } from '../backend.js';
import {
  ARITHMETIC_PRIMITIVES, COMPARISON_PRIMITIVES, REDUCE_PRIMITIVES, UNARY_PRIMITIVES,
  type Conv2dAttrs, type Pool2dAttrs, type RecurrentCell,
} from '../primitives.js';
import { registerBackend } from '../registry.js';
import { loadAddon, type NativeAddon } from './addon.js';
import { DeadTensorCollector } from './dead-tensors.js';

// The native CPU backend: kernels in a C++ addon (native/src), oneDNN for matmul and
// convolutions, OpenMP loops for the rest. Storage is a 64-byte-aligned native buffer shared by
// the tensors that own it (reshape shares) and freed by the GC or by the last dispose().

const DTYPE_CODE: Partial<Record<DType, number>> = { float32: 0, int32: 1, bool: 2 };
const code = (d: DType): number => DTYPE_CODE[d] as number;
const BINARY = [...ARITHMETIC_PRIMITIVES, ...COMPARISON_PRIMITIVES];
const DISTRIBUTION_CODE = { uniform: 0, normal: 1, truncatedNormal: 2, bernoulli: 3 } as const;

function table<K extends keyof CoreKernels>(keys: readonly K[], make: (k: K, index: number) => unknown): Pick<CoreKernels, K> {
  return Object.fromEntries(keys.map((k, i) => [k, make(k, i)])) as Pick<CoreKernels, K>;
}

/**
 * Views a broadcast as [rows, inner] = [prod(out[:s]), prod(out[s:])] for the first split s at
 * which each operand's leading part and trailing part are each either all of the output's
 * dims or all 1s. Returns [rows, inner, aRow, aCol, bRow, bCol] (element strides), or undefined
 * for broadcasts that need the general strided walk.
 */
function rowPattern(a: Shape, b: Shape, out: Shape): [number, number, number, number, number, number] | undefined {
  const rank = out.length;
  const dimOf = (x: Shape, i: number) => x[x.length - rank + i] ?? 1;
  const part = (x: Shape, from: number, to: number): 'full' | 'ones' | undefined => {
    let full = true, ones = true;
    for (let i = from; i < to; i++) {
      const d = dimOf(x, i);
      if (d !== out[i]) full = false;
      if (d !== 1) ones = false;
    }
    return full ? 'full' : ones ? 'ones' : undefined;
  };
  for (let s = 0; s <= rank; s++) {
    const rows = sizeOf(out.slice(0, s)), inner = sizeOf(out.slice(s));
    const strides = [a, b].map((x) => {
      const lead = part(x, 0, s), trail = part(x, s, rank);
      if (!lead || !trail) return undefined;
      const col = trail === 'full' ? 1 : 0;
      const row = lead === 'ones' ? 0 : trail === 'full' ? inner : 1;
      return [row, col];
    });
    if (strides[0] && strides[1]) return [rows, inner, ...strides[0], ...strides[1]] as [number, number, number, number, number, number];
  }
  return undefined;
}

/**
 * Runs an addon call whose kernel refuses values as it meets them (native/src: cast, reduce,
 * sparseSoftmaxCrossEntropy) and turns the RangeError it throws into the error the reference
 * backend throws for the same input. The kernel attaches the flat `index` and the `value`, and
 * the message is written here, in one place for both backends.
 */
function refusing<T>(call: () => T, error: (e: RangeError & { index?: number; value?: number }) => Error): T {
  try {
    return call();
  } catch (e) {
    throw e instanceof RangeError ? error(e) : e;
  }
}

/** A channels-last shape as [rows, C]: every axis but the last, then the last. */
const rowsAndChannels = (shape: Shape): [number, number] => [sizeOf(shape.slice(0, -1)), shape[shape.length - 1]];

const pads4 = (a: Conv2dAttrs | Pool2dAttrs) => [a.pads.top, a.pads.bottom, a.pads.left, a.pads.right];

function makeKernels(addon: NativeAddon): CoreKernels & OptionalKernels {
  const strided = (x: TensorInfo, shape: Shape, strides: readonly number[], base = 0) =>
    addon.strided(x.data, shape, strides, base, code(x.dtype));
  // Kinds as native/src/conv.cc: 0 forward, 1 backprop input, 2 backprop filter, 5 filter and bias.
  const conv = (kind: number): Kernel<'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter' | 'conv2dBackpropFilterBias'> => ([a, b], attrs, out) => {
    const xShape = kind === 1 ? (attrs as { inputShape: number[] }).inputShape : a.shape;
    const fShape = kind === 2 || kind === 5 ? (attrs as { filterShape: number[] }).filterShape : b.shape;
    const yShape = kind === 0 ? out.shape : kind === 1 ? a.shape : b.shape;
    return addon.conv(kind, a.data, b.data, xShape, fShape, attrs.strides, attrs.dilation, pads4(attrs), yShape[1], yShape[2]);
  };
  // The same operand order as conv: (x, filter), (dy, filter), (x, dy); filter [kh, kw, C, dm].
  const depthwise = (kind: number): Kernel<'depthwiseConv2d' | 'depthwiseConv2dBackpropInput' | 'depthwiseConv2dBackpropFilter'> => ([a, b], attrs, out) => {
    const xShape = kind === 1 ? (attrs as { inputShape: number[] }).inputShape : a.shape;
    const fShape = kind === 2 ? (attrs as { filterShape: number[] }).filterShape : b.shape;
    const yShape = kind === 0 ? out.shape : kind === 1 ? a.shape : b.shape;
    return addon.depthwiseConv(kind, a.data, b.data, xShape, fShape, attrs.strides, attrs.dilation, pads4(attrs), yShape[1], yShape[2]);
  };
  return {
    ...table(UNARY_PRIMITIVES, (_k, i) => (([x]) => addon.unary(i, x.data, code(x.dtype))) as Kernel<'neg'>),
    ...table(BINARY, (_k, i) => (([a, b], _attrs, out) => {
      const rows = rowPattern(a.shape, b.shape, out.shape);
      if (rows) return addon.binaryRows(i, a.data, b.data, ...rows, code(a.dtype), code(out.dtype));
      return addon.binary(i, a.data, a.shape, b.data, b.shape, out.shape, code(a.dtype), code(out.dtype));
    }) as Kernel<'add'>),
    ...table(REDUCE_PRIMITIVES, (k, i) => (([x], { axes }, out) => refusing(
      () => addon.reduce(i, x.data, x.shape, axes, code(x.dtype)),
      (e) => int32OverflowError(k, e.value ?? NaN, fmtIndex(e.index ?? 0, out.shape)),
    )) as Kernel<'sum'>),
    argMax: ([x], { axis }) => addon.argReduce(true, x.data, x.shape, axis, code(x.dtype)),
    argMin: ([x], { axis }) => addon.argReduce(false, x.data, x.shape, axis, code(x.dtype)),
    matmul: ([a, b], { transposeA, transposeB }, out) => {
      const k = transposeA ? a.shape[1] : a.shape[2];
      return addon.matmul(a.data, b.data, out.shape[0], out.shape[1], k, out.shape[2], transposeA, transposeB, code(a.dtype));
    },
    reshape: ([x]) => x.data,
    transpose: ([x], { perm }, out) => {
      const own = stridesOf(x.shape);
      return strided(x, out.shape, perm.map((p) => own[p]));
    },
    broadcastTo: ([x], { shape }) => strided(x, shape, broadcastStrides(x.shape, shape)),
    slice: ([x], { begin }, out) => {
      const own = stridesOf(x.shape);
      return strided(x, out.shape, own, begin.reduce((acc, b, i) => acc + b * own[i], 0));
    },
    cast: ([x], { dtype }) => refusing(
      () => addon.cast(x.data, code(x.dtype), code(dtype), sizeOf(x.shape)),
      (e) => int32RangeError('cast', e.value ?? NaN, fmtIndex(e.index ?? 0, x.shape)),
    ),
    pad: ([x], { paddings, value }, out) => addon.pad(x.data, x.shape, out.shape, paddings.map(([b]) => b), value, code(x.dtype)),
    concat: (inputs, { axis }, out) => {
      const width = out.dtype === 'bool' ? 1 : 4;
      const outer = sizeOf(out.shape.slice(0, axis));
      return addon.concat(inputs.map((t) => t.data), inputs.map((t) => sizeOf(t.shape.slice(axis)) * width), outer, sizeOf(out.shape.slice(axis)) * width);
    },
    gather: ([x, idx], { axis }) =>
      addon.gather(x.data, idx.data, sizeOf(idx.shape), sizeOf(x.shape.slice(0, axis)), x.shape[axis], sizeOf(x.shape.slice(axis + 1)), code(x.dtype)),
    scatterAdd: ([u, idx], { axis, size }, out) =>
      addon.scatterAdd(u.data, idx.data, sizeOf(idx.shape), sizeOf(u.shape.slice(0, axis)), size, sizeOf(out.shape.slice(axis + 1)), code(u.dtype)),
    reluGrad: ([x, dy]) => addon.reluGrad(x.data, dy.data, sizeOf(x.shape), code(x.dtype)),
    where: ([c, a, b], _attrs, out) => addon.where(c.data, c.shape, a.data, a.shape, b.data, b.shape, out.shape, code(out.dtype)),
    conv2d: conv(0),
    conv2dBackpropInput: conv(1),
    conv2dBackpropFilter: conv(2),
    conv2dBackpropFilterBias: conv(5),
    fusedMatMul: ([a, b, bias], { transposeA, transposeB, activation }, out) => {
      const [batch, m, n] = out.shape.length === 3 ? out.shape : [1, ...out.shape];
      const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
      return addon.fusedMatmul(a.data, b.data, bias.data, batch, m, k, n, transposeA, transposeB, activation === 'relu');
    },
    fusedConv2d: ([x, f, bias], attrs, out) =>
      addon.conv(attrs.activation === 'relu' ? 4 : 3, x.data, f.data, x.shape, f.shape, attrs.strides, attrs.dilation, pads4(attrs), out.shape[1], out.shape[2], bias.data),
    conv2dReluMaxPool: ([x, f, bias], a, out) =>
      addon.convReluMaxPool(x.data, f.data, bias.data, x.shape, f.shape, a.strides, a.dilation, pads4(a), ...a.convOut,
        a.pool.poolSize, a.pool.strides, pads4(a.pool), out.shape[1], out.shape[2], a.keepIndices === true),
    conv2dReluMaxPoolGrad: ([x, dy, y], a) =>
      addon.convReluMaxPoolGrad(x.data, dy.data, y.data, x.shape, a.filterShape, a.strides, a.dilation, pads4(a), ...a.convOut,
        a.pool.poolSize, a.pool.strides, pads4(a.pool), dy.shape[1], dy.shape[2]),
    maxPool2d: ([x], a, out) => addon.maxPool(x.data, x.shape, a.poolSize, a.strides, pads4(a), out.shape[1], out.shape[2], a.keepIndices === true),
    maxPool2dGrad: ([x, dy, y], a) =>
      addon.maxPoolGrad(x.data, dy.data, x.shape, a.poolSize, a.strides, pads4(a), dy.shape[1], dy.shape[2], a.reluMasked === true, y?.data),
    avgPool2d: ([x], a, out) => addon.avgPool(x.data, x.shape, a.poolSize, a.strides, pads4(a), out.shape[1], out.shape[2]),
    avgPool2dGrad: ([dy], a) => addon.avgPoolGrad(dy.data, a.inputShape, a.poolSize, a.strides, pads4(a), dy.shape[1], dy.shape[2]),
    softmax: ([x], { axis }) => addon.softmax(x.data, x.shape, axis, false),
    logSoftmax: ([x], { axis }) => addon.softmax(x.data, x.shape, axis, true),
    softmaxGrad: ([y, g], { axis }) => addon.softmaxGrad(y.data, g.data, y.shape, axis, false),
    logSoftmaxGrad: ([y, g], { axis }) => addon.softmaxGrad(y.data, g.data, y.shape, axis, true),
    // A label outside [0, classes) is refused by the kernel, with the message the composite path writes.
    sparseSoftmaxCrossEntropy: ([z, labels]) =>
      refusing(() => addon.sparseSoftmaxCrossEntropy(z.data, labels.data, z.shape[0], z.shape[1]), (e) => new ValueError(e.message)),
    sparseSoftmaxCrossEntropyGrad: ([z, labels, g]) =>
      refusing(() => addon.sparseSoftmaxCrossEntropy(z.data, labels.data, z.shape[0], z.shape[1], g.data), (e) => new ValueError(e.message)),
    // Recurrent cells; the state operand [B, u] gives batch and units.
    lstmCell: ([z, c]) => addon.lstmCell(z.data, c.data, c.shape[0], c.shape[1]),
    lstmCellGrad: ([z, c, g]) => addon.lstmCellGrad(z.data, c.data, g.data, c.shape[0], c.shape[1]),
    gruCell: ([xz, hz, h]) => addon.gruCell(xz.data, hz.data, h.data, h.shape[0], h.shape[1]),
    gruCellGrad: ([xz, hz, h, dh]) => addon.gruCellGrad(xz.data, hz.data, h.data, dh.data, h.shape[0], h.shape[1]),
    // x [B, T, F] and the state h0 [B, u] give the geometry.
    rnnSequence: (operands, { cell, training }) => {
      const [x, h] = operands;
      return addon.rnnSequence(CELL[cell], x.shape[0], x.shape[1], x.shape[2], h.shape[1], training, ...operands.map((t) => t.data));
    },
    rnnSequenceGrad: (operands, { cell }) => {
      const [x, h] = operands;
      return addon.rnnSequenceGrad(CELL[cell], x.shape[0], x.shape[1], x.shape[2], h.shape[1], ...operands.map((t) => t.data));
    },
    // Normalization over channels-last x as [rows, C] (native/src/normalization.cc).
    batchNormStats: ([x]) => addon.batchNormStats(x.data, ...rowsAndChannels(x.shape)),
    batchNormApply: ([x, m, v, g, b], { epsilon }) => addon.batchNormApply(x.data, m.data, 0, v.data, 0, g.data, b.data, ...rowsAndChannels(x.shape), epsilon),
    batchNormTraining: ([x, g, b, stats], { epsilon }) => {
      const [rows, c] = rowsAndChannels(x.shape);
      return addon.batchNormApply(x.data, stats.data, 0, stats.data, c, g.data, b.data, rows, c, epsilon);
    },
    batchNormGradSums: ([x, stats, dy], { epsilon }) => addon.batchNormGradSums(x.data, stats.data, dy.data, ...rowsAndChannels(x.shape), epsilon),
    batchNormGradInput: ([x, g, stats, dy, sums], { epsilon }) =>
      addon.batchNormGradInput(x.data, g.data, stats.data, dy.data, sums.data, ...rowsAndChannels(x.shape), epsilon),
    layerNorm: ([x, g, b], { epsilon }) => addon.layerNorm(x.data, g.data, b.data, ...rowsAndChannels(x.shape), epsilon),
    layerNormGradSums: ([x, dy], { epsilon }) => addon.layerNormGradSums(x.data, dy.data, ...rowsAndChannels(x.shape), epsilon),
    layerNormGradInput: ([x, g, dy], { epsilon }) => addon.layerNormGradInput(x.data, g.data, dy.data, ...rowsAndChannels(x.shape), epsilon),
    depthwiseConv2d: depthwise(0),
    depthwiseConv2dBackpropInput: depthwise(1),
    depthwiseConv2dBackpropFilter: depthwise(2),
  };
}

/** native/src/recurrent_sequence.cc's cell codes. */
const CELL: Record<RecurrentCell, number> = { lstm: 0, gru: 1, rnnTanh: 2, rnnRelu: 3 };

export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly kernels: CoreKernels & OptionalKernels;

  constructor(readonly addon: NativeAddon = loadAddon()) {
    this.kernels = makeKernels(addon);
  }

  supportsDtype(dtype: DType): boolean {
    return dtype in DTYPE_CODE;
  }

  upload(values: TypedArray, dtype: DType): DataHandle {
    // The addon copies the bytes; a conversion first is only needed when the array type differs
    // (and for bool, whose bytes must be 0 or 1).
    const exact = (dtype === 'float32' && values instanceof Float32Array) || (dtype === 'int32' && values instanceof Int32Array);
    return this.addon.upload(exact ? values : toTypedArray(values, dtype), code(dtype));
  }

  download(data: DataHandle, dtype: DType, size: number): TypedArray {
    return this.addon.download(data, code(dtype), size);
  }

  fill(shape: Shape, dtype: DType, value: number): DataHandle {
    return this.addon.fill(sizeOf(shape), code(dtype), value);
  }

  random(shape: Shape, _dtype: DType, stream: RandomStream, dist: Distribution): DataHandle {
    const [a, b] = dist.kind === 'uniform' ? [dist.min, dist.max] : dist.kind === 'bernoulli' ? [dist.p, 0] : [dist.mean, dist.stddev];
    return this.addon.random(sizeOf(shape), stream.key[0], stream.key[1], stream.offset, DISTRIBUTION_CODE[dist.kind], a, b);
  }

  retain(data: DataHandle): void {
    this.addon.retain(data);
  }

  release(data: DataHandle): void {
    this.addon.release(data);
  }

  memory(): MemoryInfo {
    const { buffers, bytes } = this.addon.memory();
    return { buffers, bytes };
  }

  private readonly deadTensors = new DeadTensorCollector(() => this.addon.memory().bytes);

  afterBackward(): boolean {
    return this.deadTensors.afterBackward();
  }

  /** The caching allocator's state: idle bytes kept for reuse, and how often a request hit them. */
  allocatorStats(): { cachedBytes: number; cacheHits: number; cacheMisses: number } {
    const { cachedBytes, cacheHits, cacheMisses } = this.addon.memory();
    return { cachedBytes, cacheHits, cacheMisses };
  }

  optimizerUpdate(update: FusedUpdate, variable: TensorInfo, grad: TensorInfo, slots: readonly TensorInfo[]): { variable: DataHandle; slots: DataHandle[] } {
    // 1 - rho and 1 - beta are taken here in double precision: in float32, 1 - 0.999 is off by 1e-5.
    const params = (() => {
      switch (update.kind) {
        case 'sgd': return [update.lr, update.decay, update.momentum, +update.nesterov];
        case 'rmsprop': return [update.lr, update.decay, update.rho, update.momentum, update.epsilon, +update.centered, 1 - update.rho];
        case 'adam': return [update.lr, update.decay, update.beta1, update.beta2, update.epsilon, +update.amsgrad, 1 - update.beta1, 1 - update.beta2];
        case 'adagrad': return [update.lr, update.decay, update.epsilon];
        case 'adadelta': return [update.lr, update.decay, update.epsilon, update.rho, 1 - update.rho];
        case 'adamax': return [update.lr, update.decay, update.epsilon, 1 - update.beta1, update.beta2];
      }
    })();
    const kind = { sgd: 0, rmsprop: 1, adam: 2, adagrad: 3, adadelta: 4, adamax: 5 }[update.kind];
    const [w, ...s] = this.addon.optimizerUpdate(kind, variable.data, grad.data, slots.map((t) => t.data), sizeOf(variable.shape), params);
    return { variable: w, slots: s };
  }

  setNumThreads(n: number): void {
    this.addon.setNumThreads(n);
  }

  /** The oneDNN implementation a convolution would use (for checking nothing runs on "ref"). */
  convImplementation(kind: 'forward' | 'backpropInput' | 'backpropFilter', xShape: Shape, filterShape: Shape, attrs: Conv2dAttrs, outH: number, outW: number): string {
    const k = { forward: 0, backpropInput: 1, backpropFilter: 2 }[kind];
    return this.addon.convImpl(k, xShape, filterShape, attrs.strides, attrs.dilation, pads4(attrs), outH, outW);
  }

  /** The oneDNN implementation a depthwise convolution would use (filterShape [kh, kw, C, dm]). */
  depthwiseConvImplementation(kind: 'forward' | 'backpropInput' | 'backpropFilter', xShape: Shape, filterShape: Shape, attrs: Conv2dAttrs, outH: number, outW: number): string {
    const k = { forward: 0, backpropInput: 1, backpropFilter: 2 }[kind];
    return this.addon.depthwiseConvImpl(k, xShape, filterShape, attrs.strides, attrs.dilation, pads4(attrs), outH, outW);
  }
}

registerBackend('native', () => new NativeBackend(), 10);
