import type { CoreKernels, OptionalKernels, TensorInfo } from '../backend.js';
import type { ConvActivation } from '../primitives.js';
import type { GpuContext } from './context.js';
import { type GemmSpec, runGemm } from './gemm.js';
import { storageType } from './wgsl.js';

// matmul and fusedMatMul as the tiled GEMM of Note [Tiled GEMM on the GPU]: a transposed operand
// is read through its strides while its tile is loaded, so no transpose is ever dispatched. ops/
// hands the kernel equal batches (it broadcasts them first).

/** A WGSL expression of `activation` applied to `v`; relu and relu6 keep NaN, as the reference does. */
export function activate(v: string, activation: ConvActivation, type: string): string {
  if (activation === 'linear') return v;
  const top = activation === 'relu6' ? `select(${v}, ${type}(6), ${v} > ${type}(6))` : v;
  return `select(${top}, ${type}(0), ${v} <= ${type}(0))`;
}

/** The GEMM of a [B, M, K] x b [B, K, N] (either stored transposed) into out. */
function matmulSpec(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, out: { shape: readonly number[] }): GemmSpec {
  const rank = out.shape.length;
  const batch = rank === 3 ? out.shape[0] : 1;
  const m = out.shape[rank - 2],
    n = out.shape[rank - 1];
  const k = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  return {
    dtype: a.dtype,
    batch,
    m,
    n,
    k,
    inputs: [
      { name: 'lhs', dtype: a.dtype },
      { name: 'rhs', dtype: b.dtype },
    ],
    loadA: `v = lhs[b * ${m * k}u + ${transposeA ? `kk * ${m}u + row` : `row * ${k}u + kk`}];`,
    aRowFastest: transposeA,
    loadB: `v = rhs[b * ${k * n}u + ${transposeB ? `col * ${k}u + kk` : `kk * ${n}u + col`}];`,
    bColFastest: !transposeB,
  };
}

export function matmulKernels(ctx: GpuContext): Partial<CoreKernels & OptionalKernels> {
  const run = (spec: GemmSpec, inputs: readonly TensorInfo[]) => runGemm(ctx, spec, inputs);
  return {
    matmul: ([a, b], { transposeA, transposeB }, out) => run(matmulSpec(a, b, transposeA, transposeB, out), [a, b]),
    fusedMatMul: ([a, b, bias], { transposeA, transposeB, activation }, out) => {
      const spec = matmulSpec(a, b, transposeA, transposeB, out);
      spec.inputs = [...spec.inputs, { name: 'bias', dtype: bias.dtype }];
      spec.epilogue = (acc, col) => activate(`(${acc} + bias[${col}])`, activation, storageType(spec.dtype));
      return run(spec, [a, b, bias]);
    },
  };
}
