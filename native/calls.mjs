// Note [One table for the native calling convention]
// Every function the C++ addon exports, with its arguments in order, and every code passed
// across (op codes, convolution kinds, dtypes, ...) are listed here and only here.
// scripts/native-calls.mjs turns this table into
//   native/src/calls.gen.h: the enums and argument groups, and calls_<family>.gen.h (which it
//     includes): one argument struct per function; a kernel is written as
//     `Napi::Value calls::NAME(Napi::Env, const NameArgs&)`;
//   native/src/calls_<family>.gen.cc: the readers that check the argument count and fill the
//     struct (one file per family below); calls.gen.cc: the registration (binding.gyp lists
//     these files by asking `node scripts/native-calls.mjs --sources`);
//   src/backend/native/calls.gen.ts: the same enums as typed code objects and the NativeAddon
//     interface the TypeScript side calls through.
// Both sides therefore read the same positions by construction. What is left to go wrong is
// caught before a wrong result: a kernel or field renamed on one side only does not compile
// (C++ or tsc); a code list that no longer matches the primitives it covers does not compile;
// a switch over an enum without a case for a new code fails the build (-Werror=switch); a
// generated file older than this table fails test/native-calls.test.ts; and an addon built from
// another version of the table is refused when it loads (addon.ts compares the table's text,
// which the addon carries). The build regenerates the files (scripts/build-native.mjs and
// `npm run build`), so adding a kernel is one entry here plus its C++ body.
//
// Argument types: tensor (a live storage handle; C++ Buffer*), tensor? (optional, trailing;
// nullptr when absent), tensors (an array of them), handle (a storage handle passed through as
// the JS value, for kernels that may return it), handles (an array of them), int (int64_t),
// u32, double, bool, ints (an array of ints; C++ Shape), doubles, typedArray, or an enum name
// below. An enum argument is checked against the enum's range when read.

/**
 * Codes shared by both sides, in code order. `covers` names the TypeScript union that the codes
 * must name exactly (a missing or extra name is a compile error in calls.gen.ts).
 */
export const enums = {
  DType: { values: ['float32', 'int32', 'bool'] },
  Unary: {
    values: ['neg', 'abs', 'exp', 'log', 'sqrt', 'sign', 'tanh', 'sigmoid', 'relu', 'sin', 'cos', 'floor', 'ceil', 'round', 'logicalNot'],
    covers: { type: 'UnaryPrimitive', from: '../primitives.js' },
  },
  Binary: {
    values: [
      'add',
      'sub',
      'mul',
      'div',
      'pow',
      'maximum',
      'minimum',
      'equal',
      'notEqual',
      'greater',
      'greaterEqual',
      'less',
      'lessEqual',
      'logicalAnd',
      'logicalOr',
    ],
    covers: { type: 'BinaryPrimitive', from: '../primitives.js' },
  },
  Reduce: { values: ['sum', 'prod', 'max', 'min'], covers: { type: 'ReducePrimitive', from: '../primitives.js' } },
  // biasForward adds a per-channel bias, biasReluForward then applies the ReLU (biasRelu6Forward
  // min(relu, 6)), and backpropFilterBias also sums dy into the bias gradient (native/src/conv.cc).
  ConvKind: { values: ['forward', 'backpropInput', 'backpropFilter', 'biasForward', 'biasReluForward', 'backpropFilterBias', 'biasRelu6Forward'] },
  Cell: { values: ['lstm', 'gru', 'rnnTanh', 'rnnRelu'], covers: { type: 'RecurrentCell', from: '../primitives.js' } },
  Distribution: {
    values: ['uniform', 'normal', 'truncatedNormal', 'bernoulli'],
    covers: { type: "Distribution['kind']", from: '../../core/rng.js', import: 'Distribution' },
  },
  // `params` lists, per optimizer, what optimizerUpdate's `params` array holds: C++ gets a struct
  // with these fields, TypeScript a labelled tuple type, and the count is checked when read.
  // 1 - rho and 1 - beta are passed computed in double precision (in float32, 1 - 0.999 is off by 1e-5).
  Optimizer: {
    values: ['sgd', 'rmsprop', 'adam', 'adagrad', 'adadelta', 'adamax'],
    covers: { type: "FusedUpdate['kind']", from: '../backend.js', import: 'FusedUpdate' },
    params: {
      sgd: ['lr', 'decay', 'momentum', 'nesterov'],
      rmsprop: ['lr', 'decay', 'rho', 'momentum', 'epsilon', 'centered', 'oneMinusRho'],
      adam: ['lr', 'decay', 'beta1', 'beta2', 'epsilon', 'amsgrad', 'oneMinusBeta1', 'oneMinusBeta2'],
      adagrad: ['lr', 'decay', 'epsilon'],
      adadelta: ['lr', 'decay', 'epsilon', 'rho', 'oneMinusRho'],
      // lr is already divided by 1 - beta1^t.
      adamax: ['lr', 'decay', 'epsilon', 'oneMinusBeta1', 'beta2'],
    },
  },
};

// Argument groups spelled out in place wherever `...name` appears in a signature (C++ gets them
// as a nested struct of that name).
export const groups = {
  // A 2-D convolution: pads are [top, bottom, left, right]; outH and outW are the output's size.
  convGeometry: 'xShape: ints, filterShape: ints, strides: ints, dilation: ints, pads: ints, outH: int, outW: int',
  // A 2-D pooling window over an NHWC input.
  poolGeometry: 'xShape: ints, poolSize: ints, strides: ints, pads: ints, outH: int, outW: int',
  // The pooling half of a fused convolution and max pooling.
  poolWindow: 'poolSize: ints, poolStrides: ints, poolPads: ints, pooledH: int, pooledW: int',
  // A whole recurrent layer over time: x [batch, steps, features], state [batch, units].
  sequence: 'cell: Cell, batch: int, steps: int, features: int, units: int',
};

const MEMORY =
  '{ bytes: number; buffers: number; cachedBytes: number; cacheLimit: number; cacheHits: number; cacheMisses: number; cacheReleases: number; ' +
  'primitiveEntries: number; primitiveCapacity: number; primitiveMisses: number; primitiveEvictions: number; ' +
  'reorderedFilters: number; reorderedFilterBytes: number; reorderedFilterHits: number; reorderedFilterMisses: number; fusedActivations: number }';

/**
 * The generated argument readers go to one C++ file per family, native/src/calls_<family>.gen.cc,
 * so that no generated file grows to a thousand lines. A family starts at the function named here
 * and runs, in the table's order, up to the next family's first function.
 */
export const families = {
  // buffer.cc, elementwise.cc, reduce.cc, movement.cc
  storage: 'upload',
  // matmul.cc, conv.cc, pool.cc, conv_pool.cc, softmax.cc
  linear: 'matmul',
  // recurrent.cc, recurrent_sequence.cc, normalization.cc
  sequence: 'lstmCell',
  // random.cc, optimizer.cc, mpi.cc, addon.cc
  runtime: 'random',
};

/** name: [signature, returned TypeScript type]; the order here is the registration order. */
export const functions = {
  // buffer.cc: storage
  upload: ['values: typedArray, dtype: DType', 'Handle'],
  download: ['h: tensor, dtype: DType, size: int', 'Float32Array | Int32Array | Uint8Array'],
  retain: ['h: tensor', 'void'],
  release: ['h: handle', 'void'],
  memory: ['', MEMORY],
  // memory().bytes alone, without building the whole object (read after every backward pass)
  heldBytes: ['', 'number'],
  // the end of a gradient computation: the caching allocator gives back sizes no longer asked for
  allocatorStep: ['', 'void'],
  // elementwise.cc
  unary: ['op: Unary, x: tensor, dtype: DType', 'Handle'],
  binary: ['op: Binary, a: tensor, aShape: ints, b: tensor, bShape: ints, outShape: ints, inDtype: DType, outDtype: DType', 'Handle'],
  binaryRows: [
    'op: Binary, a: tensor, b: tensor, rows: int, inner: int, aRow: int, aCol: int, bRow: int, bCol: int, inDtype: DType, outDtype: DType',
    'Handle',
  ],
  where: ['c: tensor, cShape: ints, a: tensor, aShape: ints, b: tensor, bShape: ints, outShape: ints, dtype: DType', 'Handle'],
  reluGrad: ['x: tensor, dy: tensor, n: int, dtype: DType', 'Handle'],
  cast: ['x: tensor, inDtype: DType, outDtype: DType, n: int', 'Handle'],
  fill: ['n: int, dtype: DType, value: double', 'Handle'],
  // reduce.cc
  reduce: ['op: Reduce, x: tensor, xShape: ints, axes: ints, dtype: DType', 'Handle'],
  argReduce: ['isMax: bool, x: tensor, xShape: ints, axis: int, dtype: DType', 'Handle'],
  // movement.cc
  strided: ['x: tensor, outShape: ints, strides: ints, base: int, dtype: DType', 'Handle'],
  pad: ['x: tensor, xShape: ints, outShape: ints, before: ints, value: double, dtype: DType', 'Handle'],
  concat: ['parts: tensors, rowBytes: ints, outer: int, outRowBytes: int', 'Handle'],
  gather: ['x: tensor, indices: tensor, count: int, outer: int, dim: int, inner: int, dtype: DType', 'Handle'],
  scatterAdd: ['updates: tensor, indices: tensor, count: int, outer: int, size: int, inner: int, dtype: DType', 'Handle'],
  // matmul.cc
  matmul: ['a: tensor, b: tensor, batch: int, m: int, k: int, n: int, transposeA: bool, transposeB: bool, dtype: DType', 'Handle'],
  fusedMatmul: ['a: tensor, b: tensor, bias: tensor, batch: int, m: int, k: int, n: int, transposeA: bool, transposeB: bool, relu: bool', 'Handle'],
  // conv.cc: forward (a = x, b = filter), backprop input (a = dy, b = filter), backprop filter
  // (a = x, b = dy); the bias kinds take the bias, and a forward one a residual addend of y's
  // shape (Note [A residual add inside the convolution]).
  conv: ['kind: ConvKind, a: tensor, b: tensor, ...convGeometry, bias: tensor?, addend: tensor?', 'Handle'],
  convImpl: ['kind: ConvKind, ...convGeometry', 'string'],
  depthwiseConv: ['kind: ConvKind, a: tensor, b: tensor, ...convGeometry, bias: tensor?', 'Handle'],
  depthwiseConvImpl: ['kind: ConvKind, ...convGeometry', 'string'],
  // pool.cc
  maxPool: ['x: tensor, ...poolGeometry, keepIndices: bool', 'Handle'],
  maxPoolGrad: ['x: tensor, dy: tensor, ...poolGeometry, reluMasked: bool, y: tensor?', 'Handle'],
  avgPool: ['x: tensor, ...poolGeometry', 'Handle'],
  avgPoolGrad: ['dy: tensor, ...poolGeometry', 'Handle'],
  // conv_pool.cc
  convReluMaxPool: ['x: tensor, filter: tensor, bias: tensor, ...convGeometry, ...poolWindow, keepIndices: bool', 'Handle'],
  convReluMaxPoolGrad: ['x: tensor, dy: tensor, y: tensor, ...convGeometry, ...poolWindow', 'Handle'],
  // softmax.cc
  softmax: ['x: tensor, xShape: ints, axis: int, log: bool', 'Handle'],
  softmaxGrad: ['y: tensor, g: tensor, shape: ints, axis: int, log: bool', 'Handle'],
  sparseSoftmaxCrossEntropy: ['logits: tensor, labels: tensor, rows: int, classes: int, g: tensor?', 'Handle'],
  // recurrent.cc
  lstmCell: ['z: tensor, cPrev: tensor, batch: int, units: int', 'Handle'],
  lstmCellGrad: ['z: tensor, cPrev: tensor, dhc: tensor, batch: int, units: int', 'Handle'],
  gruCell: ['xz: tensor, hz: tensor, hPrev: tensor, batch: int, units: int', 'Handle'],
  gruCellGrad: ['xz: tensor, hz: tensor, hPrev: tensor, dh: tensor, batch: int, units: int', 'Handle'],
  // recurrent_sequence.cc: operands x, h0, [c0 (LSTM),] kernel, recurrentKernel, bias; the
  // gradient also takes the forward output and its gradient after them.
  rnnSequence: ['...sequence, training: bool, operands: tensors', 'Handle'],
  rnnSequenceGrad: ['...sequence, operands: tensors', 'Handle'],
  // normalization.cc: x seen as [rows, channels]
  batchNormStats: ['x: tensor, rows: int, channels: int', 'Handle'],
  batchNormApply: [
    'x: tensor, mean: tensor, meanOffset: int, variance: tensor, varianceOffset: int, gamma: tensor, beta: tensor, rows: int, channels: int, epsilon: double',
    'Handle',
  ],
  batchNormGradSums: ['x: tensor, stats: tensor, dy: tensor, rows: int, channels: int, epsilon: double', 'Handle'],
  batchNormGradInput: ['x: tensor, gamma: tensor, stats: tensor, dy: tensor, sums: tensor, rows: int, channels: int, epsilon: double', 'Handle'],
  layerNorm: ['x: tensor, gamma: tensor, beta: tensor, rows: int, channels: int, epsilon: double', 'Handle'],
  layerNormGradSums: ['x: tensor, dy: tensor, rows: int, channels: int, epsilon: double', 'Handle'],
  layerNormGradInput: ['x: tensor, gamma: tensor, dy: tensor, rows: int, channels: int, epsilon: double', 'Handle'],
  // random.cc: Philox from (k0, k1) at `offset`; a, b are min/max, mean/stddev or p.
  random: ['n: int, k0: u32, k1: u32, offset: double, distribution: Distribution, a: double, b: double', 'Handle'],
  // optimizer.cc: returns [w, ...slots], each written in place when its storage has one owner.
  optimizerUpdate: ['kind: Optimizer, w: handle, g: tensor, slots: handles, n: int, params: doubles', 'Handle[]'],
  // mpi.cc (mpi_absent.cc when the addon was built without MPI): the collectives of distributed
  // training, run by one communication thread (Note [One communication thread]). mpiStatus is ''
  // when MPI was built in, else why not. The collectives return a promise settled when done; the
  // buffers (`handles`) are kept alive until then. An allreduce multiplies each input by
  // preScale, sums over the ranks, then multiplies the sum by postScale; it writes into `outs`
  // (the inputs themselves when `outs` is empty).
  mpiStatus: ['', 'string'],
  mpiInit: ['', '{ rank: number; size: number; threadLevel: string; library: string }'],
  mpiAllreduce: ['bufs: handles, outs: handles, preScale: double, postScale: double', 'Promise<void>'],
  mpiAllreduceHost: ['values: typedArray, postScale: double', 'Promise<void>'],
  mpiBroadcast: ['bufs: handles, root: int', 'Promise<void>'],
  mpiBroadcastHost: ['values: typedArray, root: int', 'Promise<void>'],
  mpiAllgatherHost: ['values: typedArray, out: typedArray', 'Promise<void>'],
  mpiBarrier: ['', 'Promise<void>'],
  mpiPending: ['', 'number'],
  mpiFinalize: ['timeoutSeconds: double', 'boolean'],
  mpiAbort: ['code: int', 'void'],
  // addon.cc and dnnl_util.h: threads, the oneDNN primitive caches, identity
  setNumThreads: ['n: int', 'void'],
  getNumThreads: ['', 'number'],
  setPrimitiveCacheCapacity: ['entries: int', 'void'],
  version: ['', 'string'],
  callTable: ['', 'string'],
};
