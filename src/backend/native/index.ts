// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
import { fmtIndex, int32OverflowError, int32RangeError, toTypedArray, type DType, type TypedArray } from '../../core/dtype.js';
import { ValueError } from '../../core/errors.js';
import type { Distribution, RandomStream } from '../../core/rng.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import type { Backend, CoreKernels, DataHandle, FusedUpdate, Kernel, MemoryInfo, OptionalKernels, TensorInfo } from '../backend.js';
import {
  ARITHMETIC_PRIMITIVES,
  COMPARISON_PRIMITIVES,
  REDUCE_PRIMITIVES,
  UNARY_PRIMITIVES,
  type Conv2dAttrs,
  type ConvActivation,
  type Pool2dAttrs,
} from '../primitives.js';
import { registerBackend } from '../registry.js';
import { rowPattern } from '../row-pattern.js';
import { loadAddon, type NativeAddon } from './addon.js';
import {
  BINARY,
  CELL,
  CONV_KIND,
  DISTRIBUTION,
  DTYPE,
  OPTIMIZER,
  REDUCE,
  UNARY,
  type ConvKindName,
  type DTypeCode,
  type DTypeName,
  type OptimizerParams,
} from './calls.gen.js';
import { DeadTensorCollector } from './dead-tensors.js';

// The native CPU backend: kernels in a C++ addon (native/src), oneDNN for matmul and
// convolutions, OpenMP loops for the rest. Storage is a 64-byte-aligned native buffer shared by
// the tensors that own it (reshape shares) and freed by the GC or by the last dispose().

// Codes, argument orders and the addon's signatures come from native/calls.mjs through
// calls.gen.ts (Note [One table for the native calling convention]).
const code = (d: DType): DTypeCode => DTYPE[d as DTypeName];
const BINARY_PRIMITIVES = [...ARITHMETIC_PRIMITIVES, ...COMPARISON_PRIMITIVES];

function table<K extends keyof CoreKernels>(keys: readonly K[], make: (k: K) => unknown): Pick<CoreKernels, K> {
  return Object.fromEntries(keys.map((k) => [k, make(k)])) as Pick<CoreKernels, K>;
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

/** The convolution kind that adds a bias and applies each fused activation (native/src/conv.cc). */
const BIAS_KIND: Record<ConvActivation, ConvKindName> = { linear: 'biasForward', relu: 'biasReluForward', relu6: 'biasRelu6Forward' };

function makeKernels(addon: NativeAddon): CoreKernels & OptionalKernels {
  const strided = (x: TensorInfo, shape: Shape, strides: readonly number[], base = 0) => addon.strided(x.data, shape, strides, base, code(x.dtype));
  // Operands (x, filter) forward, (dy, filter) for the input gradient, (x, dy) for the filter's.
  const conv =
    (kind: ConvKindName): Kernel<'conv2d' | 'conv2dBackpropInput' | 'conv2dBackpropFilter' | 'conv2dBackpropFilterBias'> =>
    ([a, b], attrs, out) => {
      const xShape = kind === 'backpropInput' ? (attrs as { inputShape: number[] }).inputShape : a.shape;
      const fShape = kind === 'backpropFilter' || kind === 'backpropFilterBias' ? (attrs as { filterShape: number[] }).filterShape : b.shape;
      const yShape = kind === 'forward' ? out.shape : kind === 'backpropInput' ? a.shape : b.shape;
      return addon.conv(CONV_KIND[kind], a.data, b.data, xShape, fShape, attrs.strides, attrs.dilation, pads4(attrs), yShape[1], yShape[2]);
    };
  // activation(conv(x, f) + bias), dense (addon.conv) or depthwise (addon.depthwiseConv): the
  // call's arguments up to the bias; fusedConv2dAdd passes its addend after them.
  const biasActivationArgs = (...[[x, f, bias], attrs, out]: Parameters<Kernel<'fusedConv2d' | 'fusedDepthwiseConv2d'>>) =>
    [
      CONV_KIND[BIAS_KIND[attrs.activation]],
      x.data,
      f.data,
      x.shape,
      f.shape,
      attrs.strides,
      attrs.dilation,
      pads4(attrs),
      out.shape[1],
      out.shape[2],
      bias.data,
    ] as const;
  // The same operand order as conv; filter [kh, kw, C, dm].
  const depthwise =
    (kind: ConvKindName): Kernel<'depthwiseConv2d' | 'depthwiseConv2dBackpropInput' | 'depthwiseConv2dBackpropFilter'> =>
    ([a, b], attrs, out) => {
      const xShape = kind === 'backpropInput' ? (attrs as { inputShape: number[] }).inputShape : a.shape;
      const fShape = kind === 'backpropFilter' ? (attrs as { filterShape: number[] }).filterShape : b.shape;
      const yShape = kind === 'forward' ? out.shape : kind === 'backpropInput' ? a.shape : b.shape;
      return addon.depthwiseConv(CONV_KIND[kind], a.data, b.data, xShape, fShape, attrs.strides, attrs.dilation, pads4(attrs), yShape[1], yShape[2]);
    };
  return {
    ...table(UNARY_PRIMITIVES, (k) => (([x]) => addon.unary(UNARY[k], x.data, code(x.dtype))) as Kernel<'neg'>),
    ...table(
      BINARY_PRIMITIVES,
      (k) =>
        (([a, b], _attrs, out) => {
          const rows = rowPattern(a.shape, b.shape, out.shape);
          if (rows) return addon.binaryRows(BINARY[k], a.data, b.data, ...rows, code(a.dtype), code(out.dtype));
          return addon.binary(BINARY[k], a.data, a.shape, b.data, b.shape, out.shape, code(a.dtype), code(out.dtype));
        }) as Kernel<'add'>,
    ),
    ...table(
      REDUCE_PRIMITIVES,
      (k) =>
        (([x], { axes }, out) =>
          refusing(
            () => addon.reduce(REDUCE[k], x.data, x.shape, axes, code(x.dtype)),
            (e) => int32OverflowError(k, e.value ?? NaN, fmtIndex(e.index ?? 0, out.shape)),
          )) as Kernel<'sum'>,
    ),
    argMax: ([x], { axis }) => addon.argReduce(true, x.data, x.shape, axis, code(x.dtype)),
    argMin: ([x], { axis }) => addon.argReduce(false, x.data, x.shape, axis, code(x.dtype)),
    matmul: ([a, b], { transposeA, transposeB }, out) => {
      const k = transposeA ? a.shape[1] : a.shape[2];
      return addon.matmul(a.data, b.data, out.shape[0], out.shape[1], k, out.shape[2], transposeA, transposeB, code(a.dtype));
    },
    reshape: ([x]) => x.data,
    transpose: ([x], { perm }, out) => {
      const own = stridesOf(x.shape);
      return strided(
        x,
        out.shape,
        perm.map((p) => own[p]),
      );
    },
    broadcastTo: ([x], { shape }) => strided(x, shape, broadcastStrides(x.shape, shape)),
    slice: ([x], { begin }, out) => {
      const own = stridesOf(x.shape);
      return strided(
        x,
        out.shape,
        own,
        begin.reduce((acc, b, i) => acc + b * own[i], 0),
      );
    },
    cast: ([x], { dtype }) =>
      refusing(
        () => addon.cast(x.data, code(x.dtype), code(dtype), sizeOf(x.shape)),
        (e) => int32RangeError('cast', e.value ?? NaN, fmtIndex(e.index ?? 0, x.shape)),
      ),
    pad: ([x], { paddings, value }, out) =>
      addon.pad(
        x.data,
        x.shape,
        out.shape,
        paddings.map(([b]) => b),
        value,
        code(x.dtype),
      ),
    concat: (inputs, { axis }, out) => {
      const width = out.dtype === 'bool' ? 1 : 4;
      const outer = sizeOf(out.shape.slice(0, axis));
      return addon.concat(
        inputs.map((t) => t.data),
        inputs.map((t) => sizeOf(t.shape.slice(axis)) * width),
        outer,
        sizeOf(out.shape.slice(axis)) * width,
      );
    },
    gather: ([x, idx], { axis }) =>
      addon.gather(
        x.data,
        idx.data,
        sizeOf(idx.shape),
        sizeOf(x.shape.slice(0, axis)),
        x.shape[axis],
        sizeOf(x.shape.slice(axis + 1)),
        code(x.dtype),
      ),
    scatterAdd: ([u, idx], { axis, size }, out) =>
      addon.scatterAdd(u.data, idx.data, sizeOf(idx.shape), sizeOf(u.shape.slice(0, axis)), size, sizeOf(out.shape.slice(axis + 1)), code(u.dtype)),
    reluGrad: ([x, dy]) => addon.reluGrad(x.data, dy.data, sizeOf(x.shape), code(x.dtype)),
    where: ([c, a, b], _attrs, out) => addon.where(c.data, c.shape, a.data, a.shape, b.data, b.shape, out.shape, code(out.dtype)),
    conv2d: conv('forward'),
    conv2dBackpropInput: conv('backpropInput'),
    conv2dBackpropFilter: conv('backpropFilter'),
    conv2dBackpropFilterBias: conv('backpropFilterBias'),
    fusedMatMul: ([a, b, bias], { transposeA, transposeB, activation }, out) => {
      const [batch, m, n] = out.shape.length === 3 ? out.shape : [1, ...out.shape];
      const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
      return addon.fusedMatmul(a.data, b.data, bias.data, batch, m, k, n, transposeA, transposeB, activation === 'relu');
    },
    fusedConv2d: (inputs, attrs, out) => addon.conv(...biasActivationArgs(inputs, attrs, out)),
    fusedConv2dAdd: (inputs, attrs, out) => addon.conv(...biasActivationArgs(inputs, attrs, out), inputs[3].data),
    conv2dReluMaxPool: ([x, f, bias], a, out) =>
      addon.convReluMaxPool(
        x.data,
        f.data,
        bias.data,
        x.shape,
        f.shape,
        a.strides,
        a.dilation,
        pads4(a),
        ...a.convOut,
        a.pool.poolSize,
        a.pool.strides,
        pads4(a.pool),
        out.shape[1],
        out.shape[2],
        a.keepIndices === true,
      ),
    conv2dReluMaxPoolGrad: ([x, dy, y], a) =>
      addon.convReluMaxPoolGrad(
        x.data,
        dy.data,
        y.data,
        x.shape,
        a.filterShape,
        a.strides,
        a.dilation,
        pads4(a),
        ...a.convOut,
        a.pool.poolSize,
        a.pool.strides,
        pads4(a.pool),
        dy.shape[1],
        dy.shape[2],
      ),
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
      refusing(
        () => addon.sparseSoftmaxCrossEntropy(z.data, labels.data, z.shape[0], z.shape[1]),
        (e) => new ValueError(e.message),
      ),
    sparseSoftmaxCrossEntropyGrad: ([z, labels, g]) =>
      refusing(
        () => addon.sparseSoftmaxCrossEntropy(z.data, labels.data, z.shape[0], z.shape[1], g.data),
        (e) => new ValueError(e.message),
      ),
    // Recurrent cells; the state operand [B, u] gives batch and units.
    lstmCell: ([z, c]) => addon.lstmCell(z.data, c.data, c.shape[0], c.shape[1]),
    lstmCellGrad: ([z, c, g]) => addon.lstmCellGrad(z.data, c.data, g.data, c.shape[0], c.shape[1]),
    gruCell: ([xz, hz, h]) => addon.gruCell(xz.data, hz.data, h.data, h.shape[0], h.shape[1]),
    gruCellGrad: ([xz, hz, h, dh]) => addon.gruCellGrad(xz.data, hz.data, h.data, dh.data, h.shape[0], h.shape[1]),
    // x [B, T, F] and the state h0 [B, u] give the geometry.
    rnnSequence: (operands, { cell, training }) => {
      const [x, h] = operands;
      return addon.rnnSequence(
        CELL[cell],
        x.shape[0],
        x.shape[1],
        x.shape[2],
        h.shape[1],
        training,
        operands.map((t) => t.data),
      );
    },
    rnnSequenceGrad: (operands, { cell }) => {
      const [x, h] = operands;
      return addon.rnnSequenceGrad(
        CELL[cell],
        x.shape[0],
        x.shape[1],
        x.shape[2],
        h.shape[1],
        operands.map((t) => t.data),
      );
    },
    // Normalization over channels-last x as [rows, C] (native/src/normalization.cc).
    batchNormStats: ([x]) => addon.batchNormStats(x.data, ...rowsAndChannels(x.shape)),
    batchNormApply: ([x, m, v, g, b], { epsilon }) =>
      addon.batchNormApply(x.data, m.data, 0, v.data, 0, g.data, b.data, ...rowsAndChannels(x.shape), epsilon),
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
    depthwiseConv2d: depthwise('forward'),
    fusedDepthwiseConv2d: (inputs, attrs, out) => addon.depthwiseConv(...biasActivationArgs(inputs, attrs, out)),
    depthwiseConv2dBackpropInput: depthwise('backpropInput'),
    depthwiseConv2dBackpropFilter: depthwise('backpropFilter'),
  };
}

export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly kernels: CoreKernels & OptionalKernels;

  constructor(readonly addon: NativeAddon = loadAddon()) {
    this.kernels = makeKernels(addon);
  }

  supportsDtype(dtype: DType): boolean {
    return dtype in DTYPE;
  }

  /** The oneDNN version and OpenMP runtime, and the threads in use, for st.backends(). */
  describe(): string {
    const threads = this.addon.getNumThreads();
    return `${this.addon.version()}, ${threads} thread${threads === 1 ? '' : 's'}`;
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
    return this.addon.random(sizeOf(shape), stream.key[0], stream.key[1], stream.offset, DISTRIBUTION[dist.kind], a, b);
  }

  retain(data: DataHandle): void {
    this.addon.retain(data);
  }

  release(data: DataHandle): void {
    this.addon.release(data);
  }

  /**
   * Live storage, and the caches st.memory() reports (Notes [Caching allocator], [Bounded
   * primitive cache] and [Reordered filters kept] in native/src/).
   */
  memory(): MemoryInfo & {
    cachedBytes: number;
    primitiveCache: { entries: number; capacity: number };
    reorderedFilters: { entries: number; bytes: number };
  } {
    const m = this.addon.memory();
    return {
      buffers: m.buffers,
      bytes: m.bytes,
      cachedBytes: m.cachedBytes,
      primitiveCache: { entries: m.primitiveEntries, capacity: m.primitiveCapacity },
      reorderedFilters: { entries: m.reorderedFilters, bytes: m.reorderedFilterBytes },
    };
  }

  private readonly deadTensors = new DeadTensorCollector(() => this.addon.heldBytes());

  afterBackward(): boolean {
    const collected = this.deadTensors.afterBackward();
    // After the collection, so that dead tensors of sizes no longer in use go back too.
    this.addon.allocatorStep();
    return collected;
  }

  /**
   * The caching allocator's state: idle bytes kept for reuse, how often a request hit them, and
   * how many blocks went back to the system.
   */
  allocatorStats(): { cachedBytes: number; cacheLimit: number; cacheHits: number; cacheMisses: number; cacheReleases: number } {
    const { cachedBytes, cacheLimit, cacheHits, cacheMisses, cacheReleases } = this.addon.memory();
    return { cachedBytes, cacheLimit, cacheHits, cacheMisses, cacheReleases };
  }

  /** The oneDNN primitive cache (Note [Bounded primitive cache] in native/src/dnnl_util.h). */
  primitiveCacheStats(): { entries: number; capacity: number; misses: number; evictions: number } {
    const m = this.addon.memory();
    return { entries: m.primitiveEntries, capacity: m.primitiveCapacity, misses: m.primitiveMisses, evictions: m.primitiveEvictions };
  }

  /** Bounds the primitive cache (and oneDNN's own) at `entries`, dropping the least recently used beyond it. */
  setPrimitiveCacheCapacity(entries: number): void {
    if (!Number.isInteger(entries) || entries < 1)
      throw new ValueError(`setPrimitiveCacheCapacity: expected a positive integer, received ${entries}`);
    this.addon.setPrimitiveCacheCapacity(entries);
  }

  optimizerUpdate(
    update: FusedUpdate,
    variable: TensorInfo,
    grad: TensorInfo,
    slots: readonly TensorInfo[],
  ): { variable: DataHandle; slots: DataHandle[] } {
    // 1 - rho and 1 - beta are taken here in double precision: in float32, 1 - 0.999 is off by 1e-5.
    const params = ((): OptimizerParams[keyof OptimizerParams] => {
      switch (update.kind) {
        case 'sgd':
          return [update.lr, update.decay, update.momentum, +update.nesterov] satisfies OptimizerParams['sgd'];
        case 'rmsprop':
          return [
            update.lr,
            update.decay,
            update.rho,
            update.momentum,
            update.epsilon,
            +update.centered,
            1 - update.rho,
          ] satisfies OptimizerParams['rmsprop'];
        case 'adam':
          return [
            update.lr,
            update.decay,
            update.beta1,
            update.beta2,
            update.epsilon,
            +update.amsgrad,
            1 - update.beta1,
            1 - update.beta2,
          ] satisfies OptimizerParams['adam'];
        case 'adagrad':
          return [update.lr, update.decay, update.epsilon] satisfies OptimizerParams['adagrad'];
        case 'adadelta':
          return [update.lr, update.decay, update.epsilon, update.rho, 1 - update.rho] satisfies OptimizerParams['adadelta'];
        case 'adamax':
          return [update.lr, update.decay, update.epsilon, 1 - update.beta1, update.beta2] satisfies OptimizerParams['adamax'];
      }
    })();
    const [w, ...s] = this.addon.optimizerUpdate(
      OPTIMIZER[update.kind],
      variable.data,
      grad.data,
      slots.map((t) => t.data),
      sizeOf(variable.shape),
      params,
    );
    return { variable: w, slots: s };
  }

  setNumThreads(n: number): void {
    this.addon.setNumThreads(n);
  }

  /** The oneDNN implementation a convolution would use (for checking nothing runs on "ref"). */
  convImplementation(
    kind: 'forward' | 'backpropInput' | 'backpropFilter',
    xShape: Shape,
    filterShape: Shape,
    attrs: Conv2dAttrs,
    outH: number,
    outW: number,
  ): string {
    return this.addon.convImpl(CONV_KIND[kind], xShape, filterShape, attrs.strides, attrs.dilation, pads4(attrs), outH, outW);
  }

  /** The oneDNN implementation a depthwise convolution would use (filterShape [kh, kw, C, dm]). */
  depthwiseConvImplementation(
    kind: 'forward' | 'backpropInput' | 'backpropFilter',
    xShape: Shape,
    filterShape: Shape,
    attrs: Conv2dAttrs,
    outH: number,
    outW: number,
  ): string {
    return this.addon.depthwiseConvImpl(CONV_KIND[kind], xShape, filterShape, attrs.strides, attrs.dilation, pads4(attrs), outH, outW);
  }
}

registerBackend('native', () => new NativeBackend(), 10);
