import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The C++ addon's exports (native/src/*.cc); handles are opaque External objects. */
export interface NativeAddon {
  upload(values: ArrayBufferView, dtype: number): object;
  download(h: object, dtype: number, size: number): Float32Array | Int32Array | Uint8Array;
  retain(h: object): void;
  release(h: object): void;
  memory(): { bytes: number; buffers: number; cachedBytes: number; cacheHits: number; cacheMisses: number };
  unary(op: number, x: object, dtype: number): object;
  binary(op: number, a: object, aShape: readonly number[], b: object, bShape: readonly number[], outShape: readonly number[], inDtype: number, outDtype: number): object;
  binaryRows(op: number, a: object, b: object, rows: number, inner: number, aRow: number, aCol: number, bRow: number, bCol: number, inDtype: number, outDtype: number): object;
  where(c: object, cShape: readonly number[], a: object, aShape: readonly number[], b: object, bShape: readonly number[], outShape: readonly number[], dtype: number): object;
  reluGrad(x: object, dy: object, n: number, dtype: number): object;
  cast(x: object, inDtype: number, outDtype: number, n: number): object;
  fill(n: number, dtype: number, value: number): object;
  reduce(op: number, x: object, xShape: readonly number[], axes: readonly number[], dtype: number): object;
  argReduce(isMax: boolean, x: object, xShape: readonly number[], axis: number, dtype: number): object;
  strided(x: object, outShape: readonly number[], strides: readonly number[], base: number, dtype: number): object;
  pad(x: object, xShape: readonly number[], outShape: readonly number[], before: readonly number[], value: number, dtype: number): object;
  concat(hs: object[], rowBytes: readonly number[], outer: number, outRowBytes: number): object;
  gather(x: object, idx: object, count: number, outer: number, dim: number, inner: number, dtype: number): object;
  scatterAdd(u: object, idx: object, count: number, outer: number, size: number, inner: number, dtype: number): object;
  matmul(a: object, b: object, batch: number, m: number, k: number, n: number, ta: boolean, tb: boolean, dtype: number): object;
  fusedMatmul(a: object, b: object, bias: object, batch: number, m: number, k: number, n: number, ta: boolean, tb: boolean, relu: boolean): object;
  conv(kind: number, a: object, b: object, xShape: readonly number[], fShape: readonly number[], strides: readonly number[], dilation: readonly number[], pads: readonly number[], oh: number, ow: number, bias?: object): object;
  convImpl(kind: number, xShape: readonly number[], fShape: readonly number[], strides: readonly number[], dilation: readonly number[], pads: readonly number[], oh: number, ow: number): string;
  depthwiseConv(kind: number, a: object, b: object, xShape: readonly number[], fShape: readonly number[], strides: readonly number[], dilation: readonly number[], pads: readonly number[], oh: number, ow: number): object;
  depthwiseConvImpl(kind: number, xShape: readonly number[], fShape: readonly number[], strides: readonly number[], dilation: readonly number[], pads: readonly number[], oh: number, ow: number): string;
  maxPool(x: object, xShape: readonly number[], pool: readonly number[], strides: readonly number[], pads: readonly number[], oh: number, ow: number, keepIndices: boolean): object;
  maxPoolGrad(x: object, dy: object, xShape: readonly number[], pool: readonly number[], strides: readonly number[], pads: readonly number[], oh: number, ow: number, reluMasked: boolean, y?: object): object;
  convReluMaxPool(x: object, f: object, bias: object, xShape: readonly number[], fShape: readonly number[], strides: readonly number[], dilation: readonly number[], pads: readonly number[], oh: number, ow: number,
    pool: readonly number[], poolStrides: readonly number[], poolPads: readonly number[], poh: number, pow: number, keepIndices: boolean): object;
  convReluMaxPoolGrad(x: object, dy: object, y: object, xShape: readonly number[], fShape: readonly number[], strides: readonly number[], dilation: readonly number[], pads: readonly number[], oh: number, ow: number,
    pool: readonly number[], poolStrides: readonly number[], poolPads: readonly number[], poh: number, pow: number): object;
  avgPool(x: object, xShape: readonly number[], pool: readonly number[], strides: readonly number[], pads: readonly number[], oh: number, ow: number): object;
  avgPoolGrad(dy: object, xShape: readonly number[], pool: readonly number[], strides: readonly number[], pads: readonly number[], oh: number, ow: number): object;
  softmax(x: object, xShape: readonly number[], axis: number, log: boolean): object;
  softmaxGrad(y: object, g: object, shape: readonly number[], axis: number, log: boolean): object;
  sparseSoftmaxCrossEntropy(logits: object, labels: object, rows: number, classes: number, g?: object): object;
  lstmCell(z: object, cPrev: object, batch: number, units: number): object;
  lstmCellGrad(z: object, cPrev: object, dhc: object, batch: number, units: number): object;
  gruCell(xz: object, hz: object, hPrev: object, batch: number, units: number): object;
  gruCellGrad(xz: object, hz: object, hPrev: object, dh: object, batch: number, units: number): object;
  rnnSequence(cell: number, batch: number, steps: number, features: number, units: number, training: boolean, ...operands: object[]): object;
  rnnSequenceGrad(cell: number, batch: number, steps: number, features: number, units: number, ...operandsOutputAndGradient: object[]): object;
  batchNormStats(x: object, rows: number, channels: number): object;
  batchNormApply(x: object, mean: object, meanOffset: number, variance: object, varianceOffset: number, gamma: object, beta: object, rows: number, channels: number, epsilon: number): object;
  batchNormGradSums(x: object, stats: object, dy: object, rows: number, channels: number, epsilon: number): object;
  batchNormGradInput(x: object, gamma: object, stats: object, dy: object, sums: object, rows: number, channels: number, epsilon: number): object;
  layerNorm(x: object, gamma: object, beta: object, rows: number, channels: number, epsilon: number): object;
  layerNormGradSums(x: object, dy: object, rows: number, channels: number, epsilon: number): object;
  layerNormGradInput(x: object, gamma: object, dy: object, rows: number, channels: number, epsilon: number): object;
  random(n: number, k0: number, k1: number, offset: number, kind: number, a: number, b: number): object;
  optimizerUpdate(kind: number, w: object, g: object, slots: object[], n: number, params: number[]): object[];
  setNumThreads(n: number): void;
  getNumThreads(): number;
  version(): string;
}

const HOW_TO_ENABLE =
  'to enable it, install the Debian packages g++, make, python3 and libdnnl-dev, then run `npm rebuild strata`';

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Loads build/Release/strata_native.node, or throws a one-line reason with how to enable it. */
export function loadAddon(root = PACKAGE_ROOT): NativeAddon {
  const binary = path.join(root, 'build', 'Release', 'strata_native.node');
  if (!existsSync(binary)) {
    const status = path.join(root, 'build', 'native-status.json');
    let why = 'the native addon was not built';
    if (existsSync(status)) {
      const reason = (JSON.parse(readFileSync(status, 'utf8')) as { reason?: string }).reason;
      if (reason) why = `the native addon failed to build (${reason})`;
    }
    throw new Error(`${why}; ${HOW_TO_ENABLE}`);
  }
  try {
    return createRequire(import.meta.url)(binary) as NativeAddon;
  } catch (e) {
    throw new Error(`the native addon could not be loaded (${(e as Error).message.split('\n')[0]}); ${HOW_TO_ENABLE}`);
  }
}
